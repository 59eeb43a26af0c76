"""Re-reading a chunk's text from its source file at query time (the index keeps no copy).

A verbatim file is read at the chunk's byte range; anything else is extracted again. The text
is trusted only if it hashes to what was embedded, so a file edited since indexing is never
quoted wrongly: its chunks come back as stale instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sleuth.extractors.base import ExtractionError
from sleuth.extractors.registry import extract
from sleuth.indexer.chunking import text_hash
from sleuth.store.records import StoredChunk


@dataclass(frozen=True, slots=True)
class ChunkText:
    chunk: StoredChunk
    text: str | None  # None: the file changed or vanished since it was indexed

    @property
    def stale(self) -> bool:
        return self.text is None


def _unchanged(chunk: StoredChunk) -> bool:
    try:
        st = Path(chunk.file.path).stat()
    except OSError:
        return False
    return st.st_size == chunk.file.size and st.st_mtime_ns == chunk.file.mtime_ns


def read_texts(chunks: Iterable[StoredChunk]) -> dict[int, ChunkText]:
    by_file: dict[str, list[StoredChunk]] = defaultdict(list)
    for chunk in chunks:
        by_file[chunk.file.path].append(chunk)
    out: dict[int, ChunkText] = {}
    for path, group in by_file.items():
        for chunk, text in zip(group, _read_file_chunks(Path(path), group), strict=True):
            if text is not None and text_hash(text) != chunk.chunk.text_hash:
                text = None
            out[chunk.id] = ChunkText(chunk, text)
    return out


def _read_file_chunks(path: Path, group: list[StoredChunk]) -> list[str | None]:
    try:
        if group[0].file.verbatim:
            with path.open("rb") as handle:
                texts: list[str | None] = []
                for chunk in group:
                    handle.seek(chunk.chunk.start)
                    raw = handle.read(chunk.chunk.end - chunk.chunk.start)
                    texts.append(raw.decode("utf-8", errors="strict"))
                return texts
        data = extract(path).text.encode("utf-8")
    except (OSError, UnicodeDecodeError, ExtractionError):
        return [None] * len(group)
    return [data[c.chunk.start : c.chunk.end].decode("utf-8", "replace") for c in group]


def is_current(chunk: StoredChunk) -> bool:
    """Whether the file still has the size and mtime it had when indexed."""
    return _unchanged(chunk)
