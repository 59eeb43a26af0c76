"""Plain text: logs, notes, CSV and anything else that sniffs as text."""

from __future__ import annotations

from pathlib import Path

from sleuth.extractors.base import Document
from sleuth.extractors.textio import read_text


class TextExtractor:
    """Returns the file's text as is; plain text has no structure worth guessing at."""

    kind: str = "text"

    def extract(self, path: Path) -> Document:
        text, verbatim = read_text(path)
        return Document(text=text, kind=self.kind, verbatim=verbatim, title=path.name)
