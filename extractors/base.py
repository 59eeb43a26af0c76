"""The values every extractor returns, and the one error it may raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class ExtractionError(Exception):
    """A file could not be turned into text; the message says why, in a few words."""


@dataclass(frozen=True, slots=True)
class Section:
    """A structural unit of a document: a heading's span, a page, a cell, a definition.

    ``start``/``end`` are character offsets into ``Document.text``. ``title`` is the
    human label carried along as chunk context (a heading path, "page 3", a function name).
    """

    start: int
    end: int
    title: str = ""
    page: int | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """Extracted text plus the structure chunking needs.

    ``verbatim`` is true when ``text.encode("utf-8")`` is byte-for-byte the file's content,
    so a chunk's byte range can be re-read straight from disk without re-extracting.
    ``sections`` are ordered, non-overlapping and lie within the text; gaps are allowed.
    """

    text: str
    kind: str
    verbatim: bool = False
    title: str = ""
    sections: tuple[Section, ...] = field(default_factory=tuple)


class Extractor(Protocol):
    """Turns the file at ``path`` into a :class:`Document` or raises :class:`ExtractionError`."""

    kind: str

    def extract(self, path: Path) -> Document: ...
