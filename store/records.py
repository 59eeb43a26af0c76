"""Plain values that move between the indexer and the store."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One indexed file. ``sha256`` confirms a change that size+mtime suggest."""

    path: str
    root: str
    kind: str
    size: int
    mtime_ns: int
    sha256: str
    verbatim: bool
    title: str = ""


# A PDF chunk's context is its page ("page 12"), which the page column already holds: stored
# as '' and read back through CONTEXT_SQL, it costs nothing (8 bytes a chunk were 0.5% of the
# PDF bytes). Rows written before keep their text, which reads back the same.
CONTEXT_SQL = "coalesce(nullif(c.context, ''), 'page ' || c.page, '')"


def stored_context(context: str, page: int | None) -> str:
    """What the ``context`` column holds for a chunk: CONTEXT_SQL reads it back as given."""
    return "" if page is not None and context == f"page {page}" else context


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """A chunk as a pointer into its file's extracted text: no copy of the text is kept.

    ``start``/``end`` are byte offsets into the UTF-8 encoding of the extracted text (for a
    verbatim file, offsets into the file itself); lines are 1-based and inclusive.
    ``text_hash`` lets a query-time re-read prove it got the same text that was embedded.
    """

    ordinal: int
    start: int
    end: int
    line_start: int
    line_end: int
    page: int | None
    context: str
    tokens: int
    text_hash: bytes


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk as read back from the catalog, with its file's details joined in."""

    id: int
    file: FileRecord
    chunk: ChunkRecord
