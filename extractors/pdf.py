"""PDF: one section per page, text from PDFium (in a child process) or else pypdf.

PDFium reads first (see :mod:`sleuth.extractors.pdfium`: right spacing where pypdf glues
words, 12x faster). pypdf reads a file PDFium cannot open, finds no text in, or crashes on;
it also gives the error messages (encrypted, unreadable) a failed file is reported with.

Pages that yield text are joined with :data:`PAGE_SEPARATOR` (``"\\n\\f\\n"``); a page
without text contributes nothing, not even a separator, but page numbers stay those of
the file. Form feeds inside a page's own text are turned into newlines, so the separator
is unambiguous.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from sleuth.extractors.base import Document, ExtractionError, Section
from sleuth.extractors.pdfium import extract_pages
from sleuth.extractors.textio import clean, read_bytes

#: Joins the text of consecutive pages.
PAGE_SEPARATOR = "\n\f\n"

_REASON_LIMIT = 120

# Dot leaders of tables of contents and indexes (". . . . . 12"): layout, not words. In the R
# manuals they were 16% of the model's tokens, so they cost chunks, codes and embedding time
# and pulled every table-of-contents chunk towards the same vector. Four or more dots, spaced
# or not, become one ellipsis; R's `...` and a sentence's "..." stay as they are.
_LEADER = re.compile(r"[ \t]*(?:\.[ \t]*){4,}")


def _without_leaders(text: str) -> str:
    return _LEADER.sub(" \u2026 ", text)


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


def _document(pages: list[str | None], title: str, failure: BaseException | None) -> Document:
    """Pages (None: the page failed) joined into one document, one section per page."""
    parts: list[str] = []
    sections: list[Section] = []
    offset = 0
    for number, raw in enumerate(pages, start=1):
        page_text = _without_leaders(clean(raw or "").replace("\f", "\n")).strip()
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
        text="".join(parts), kind="pdf", verbatim=False, title=title, sections=tuple(sections)
    )


class PdfExtractor:
    """Text of each page that has any; ``verbatim`` is always false."""

    kind: str = "pdf"

    def extract(self, path: Path) -> Document:
        data = read_bytes(path)
        if data.startswith(b"%PDF") or b"%PDF" in data[:1024]:
            found = extract_pages(path)
            if found is not None and any(p.strip() for p in found.pages):
                title = clean(" ".join(found.title.split()))
                return _document(list(found.pages), title, None)
        return self.extract_pypdf(data)

    def extract_pypdf(self, data: bytes) -> Document:
        """The file's text by pypdf alone (the fallback; also what the benchmark compares)."""
        _quiet_pypdf()
        reader = _open(data)
        try:
            pages = list(reader.pages)
        except Exception as exc:  # pypdf raises anything on hostile input
            raise ExtractionError(f"unreadable PDF: {_reason(exc)}") from exc
        if not pages:
            raise ExtractionError("unreadable PDF: no pages")

        texts: list[str | None] = []
        failure: BaseException | None = None
        for page in pages:
            try:
                texts.append(str(page.extract_text() or ""))
            except Exception as exc:  # one bad page (even RecursionError) must not sink the file
                failure = failure or exc
                texts.append(None)
        return _document(texts, _title(reader), failure)
