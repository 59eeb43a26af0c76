"""PDF via pypdf: one section per page.

Pages that yield text are joined with :data:`PAGE_SEPARATOR` (``"\\n\\f\\n"``); a page
without text contributes nothing, not even a separator, but page numbers stay those of
the file. Form feeds inside a page's own text are turned into newlines, so the separator
is unambiguous.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from sleuth.extractors.base import Document, ExtractionError, Section
from sleuth.extractors.textio import clean, read_bytes

#: Joins the text of consecutive pages.
PAGE_SEPARATOR = "\n\f\n"

_REASON_LIMIT = 120


def _reason(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message[:_REASON_LIMIT]


def _quiet_pypdf() -> None:
    # Non-strict pypdf logs (even at ERROR) every defect it works around, straight to
    # stderr when nobody configured logging; the indexer reports failed files itself.
    # A level someone set on purpose is left alone.
    import logging

    logger = logging.getLogger("pypdf")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.CRITICAL)


def _open(data: bytes) -> Any:
    """A ``PdfReader`` over ``data``, decrypted with the empty password if need be."""
    from pypdf import PdfReader  # heavy: imported only when a PDF shows up
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except DependencyError as exc:  # AES without the cryptography package
        raise ExtractionError("encrypted PDF (AES support missing)") from exc
    except Exception as exc:  # pypdf raises anything on hostile input
        raise ExtractionError(f"unreadable PDF: {_reason(exc)}") from exc
    try:
        encrypted = bool(reader.is_encrypted)
    except Exception as exc:  # pypdf raises anything on hostile input
        raise ExtractionError(f"unreadable PDF: {_reason(exc)}") from exc
    if encrypted:
        try:
            # Files with only an owner password open with the empty user password.
            opened = int(reader.decrypt("")) != 0
        except Exception as exc:  # missing crypto backend, malformed /Encrypt, ...
            raise ExtractionError("encrypted PDF") from exc
        if not opened:
            raise ExtractionError("encrypted PDF")
    return reader


def _title(reader: Any) -> str:
    try:
        metadata = reader.metadata
        title = metadata.title if metadata is not None else None
    except Exception:  # a broken /Info dictionary must not cost us the text
        return ""
    return clean(" ".join(str(title).split())) if title else ""


class PdfExtractor:
    """Text of each page that has any; ``verbatim`` is always false."""

    kind: str = "pdf"

    def extract(self, path: Path) -> Document:
        data = read_bytes(path)
        _quiet_pypdf()
        reader = _open(data)
        try:
            pages = list(reader.pages)
        except Exception as exc:  # pypdf raises anything on hostile input
            raise ExtractionError(f"unreadable PDF: {_reason(exc)}") from exc
        if not pages:
            raise ExtractionError("unreadable PDF: no pages")

        parts: list[str] = []
        sections: list[Section] = []
        offset = 0
        failure: BaseException | None = None
        for number, page in enumerate(pages, start=1):
            try:
                raw = page.extract_text()
            except Exception as exc:  # one bad page (even RecursionError) must not sink the file
                failure = failure or exc
                continue
            page_text = clean(str(raw or "")).replace("\f", "\n").strip()
            if not page_text:
                continue
            if parts:
                parts.append(PAGE_SEPARATOR)
                offset += len(PAGE_SEPARATOR)
            parts.append(page_text)
            sections.append(Section(offset, offset + len(page_text), f"page {number}", number))
            offset += len(page_text)

        if not sections:
            if failure is not None:
                raise ExtractionError(f"unreadable PDF: {_reason(failure)}")
            raise ExtractionError("no text in PDF (scanned?)")
        return Document(
            text="".join(parts),
            kind=self.kind,
            verbatim=False,
            title=_title(reader),
            sections=tuple(sections),
        )
