"""A chunk's text at query time, without extracting anything.

A verbatim file (plain text, code) is read from disk at the chunk's byte range: the index
keeps no copy. Any other file (PDF, DOCX, HTML, notebook, e-mail) is read from the extracted
text stored at index time (``store.texts``): measured on eight real PDFs, extracting again for
every query was 95% of its time. This module must never import an extractor.

Either way, the text is quoted only if it hashes to what was embedded; otherwise its chunks
come back stale. For a verbatim file that is exact: the bytes come from the file as it is
now. A stored derived text would still hash right after its file changed, so it is quoted
only while the file keeps the size and mtime it had when it was indexed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sleuth.indexer.chunking import text_hash
from sleuth.store.catalog import Catalog
from sleuth.store.records import FileRecord, StoredChunk
from sleuth.store.texts import TextReader, read_all


@dataclass(frozen=True, slots=True)
class ChunkText:
    chunk: StoredChunk
    text: str | None  # None: the file changed or vanished since it was indexed

    @property
    def stale(self) -> bool:
        return self.text is None


def _unchanged(chunk: StoredChunk) -> bool:
    return _same_file(chunk.file)


def _same_file(record: FileRecord) -> bool:
    try:
        st = Path(record.path).stat()
    except OSError:
        return False
    return st.st_size == record.size and st.st_mtime_ns == record.mtime_ns


def stored_text(catalog: Catalog, path: str) -> tuple[str, str] | None:
    """(text, kind) of an indexed derived file unchanged since indexing, else None.

    ``sleuth similar`` on an indexed PDF uses this instead of extracting it again.
    """
    record = catalog.file(path)
    file_id = catalog.file_id(path)
    if record is None or file_id is None or record.verbatim or not _same_file(record):
        return None
    data = read_all(catalog.db, file_id)
    return None if data is None else (data.decode("utf-8", "replace"), record.kind)


def read_texts(catalog: Catalog, chunks: Iterable[StoredChunk]) -> dict[int, ChunkText]:
    """Each chunk's current text by chunk id (None where the file changed since indexing)."""
    by_file: dict[str, list[StoredChunk]] = defaultdict(list)
    texts: list[str | None]
    for chunk in chunks:
        by_file[chunk.file.path].append(chunk)
    reader = TextReader(catalog.db)
    out: dict[int, ChunkText] = {}
    for path, group in by_file.items():
        if group[0].file.verbatim:
            texts = _read_file_chunks(Path(path), group)
        elif _unchanged(group[0]):
            texts = _read_stored_chunks(catalog, reader, path, group)
        else:
            texts = [None] * len(group)
        for chunk, text in zip(group, texts, strict=True):
            if text is not None and text_hash(text) != chunk.chunk.text_hash:
                text = None
            out[chunk.id] = ChunkText(chunk, text)
    return out


def _read_file_chunks(path: Path, group: list[StoredChunk]) -> list[str | None]:
    try:
        with path.open("rb") as handle:
            texts: list[str | None] = []
            for chunk in group:
                handle.seek(chunk.chunk.start)
                raw = handle.read(chunk.chunk.end - chunk.chunk.start)
                texts.append(raw.decode("utf-8", errors="strict"))
            return texts
    except (OSError, UnicodeDecodeError):
        return [None] * len(group)


def _read_stored_chunks(
    catalog: Catalog, reader: TextReader, path: str, group: list[StoredChunk]
) -> list[str | None]:
    file_id = catalog.file_id(path)
    if file_id is None:
        return [None] * len(group)
    pieces = reader.read(file_id, [(c.chunk.start, c.chunk.end) for c in group])
    return [None if p is None else p.decode("utf-8", "replace") for p in pieces]


@dataclass(frozen=True, slots=True)
class IndexedText:
    record: FileRecord
    text: str  # the text hits' line numbers count in
    stale: bool  # the file changed (or vanished) since it was indexed


def indexed_text(catalog: Catalog, path: str) -> IndexedText | None:
    """The text of an indexed file as its hits number its lines, or None if not indexed.

    A verbatim file is read from disk as it is now; any other file gives its stored derived
    text (a PDF's extracted pages), never extracted again.
    """
    record = catalog.file(path)
    if record is None:
        return None
    stale = not _same_file(record)
    if record.verbatim:
        try:
            text = Path(path).read_bytes().decode("utf-8", "replace")
        except OSError:
            return IndexedText(record, "", True)
        return IndexedText(record, text, stale)
    file_id = catalog.file_id(path)
    data = None if file_id is None else read_all(catalog.db, file_id)
    return IndexedText(record, "" if data is None else data.decode("utf-8", "replace"), stale)
