"""Jupyter notebooks: markdown and code cells in order, one section per cell.

Cells are joined by a blank line; outputs, raw cells and empty cells are left out, but
cell numbers (1-based) count every cell so ``code cell 7`` is the notebook's seventh.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sleuth.extractors.base import Document, ExtractionError, Section
from sleuth.extractors.textio import clean, decode, read_bytes

CELL_SEPARATOR = "\n\n"

_H1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def _cells(notebook: Any) -> list[Any]:
    """The cell list of an nbformat 4 (``cells``) or nbformat 3 (``worksheets``) notebook."""
    if not isinstance(notebook, dict):
        raise ExtractionError("not a notebook: top level is not an object")
    if "cells" in notebook:
        cells = notebook["cells"]
        if isinstance(cells, list):
            return cells
    elif isinstance(notebook.get("worksheets"), list):
        cells = []
        for sheet in notebook["worksheets"]:
            if not isinstance(sheet, dict) or not isinstance(sheet.get("cells"), list):
                raise ExtractionError("not a notebook: malformed worksheet")
            cells.extend(sheet["cells"])
        return cells
    raise ExtractionError("not a notebook: no cell list")


def _source(cell: dict[str, Any]) -> str:
    # nbformat 3 keeps code in "input"; either may be one string or a list of lines.
    source = cell.get("source", cell.get("input", ""))
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    raise ExtractionError("not a notebook: cell source is neither text nor lines")


class NotebookExtractor:
    """Jupyter ``.ipynb`` files; ``verbatim`` is always false."""

    kind: str = "ipynb"

    def extract(self, path: Path) -> Document:
        raw, _ = decode(read_bytes(path))
        try:
            notebook = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise ExtractionError(f"invalid notebook JSON: {str(exc)[:120]}") from exc

        parts: list[str] = []
        sections: list[Section] = []
        offset = 0
        first_heading = ""
        for number, cell in enumerate(_cells(notebook), start=1):
            if not isinstance(cell, dict):
                raise ExtractionError("not a notebook: cell is not an object")
            cell_type = cell.get("cell_type")
            if cell_type not in ("markdown", "code"):
                continue
            source = clean(_source(cell)).rstrip()
            if not source.strip():
                continue
            if cell_type == "markdown" and not first_heading:
                heading = _H1.search(source)
                first_heading = heading.group(1) if heading else ""
            if parts:
                parts.append(CELL_SEPARATOR)
                offset += len(CELL_SEPARATOR)
            parts.append(source)
            sections.append(Section(offset, offset + len(source), f"{cell_type} cell {number}"))
            offset += len(source)

        metadata = notebook.get("metadata") if isinstance(notebook, dict) else None
        title = metadata.get("title") if isinstance(metadata, dict) else None
        return Document(
            text="".join(parts),
            kind=self.kind,
            verbatim=False,
            title=clean(title) if isinstance(title, str) and title.strip() else first_heading,
            sections=tuple(sections),
        )
