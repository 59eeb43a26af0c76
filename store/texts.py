"""Derived text (PDF, DOCX, HTML, notebooks, e-mail), kept so that queries never extract.

A chunk of such a file is a byte range of its extracted text, not of the file, so the
extracted text is stored here: the UTF-8 bytes cut into fixed blocks, each compressed on its
own, so a chunk costs the one or two blocks it overlaps, never the whole file. A block's row
id is ``file_id << 20 | block number``: a file's blocks are one rowid range (no index, no
offset columns), and chunk offset ``o`` lives in block ``o // block size``. Verbatim files
(plain text, code) have no rows: their chunks are re-read from the file itself.

A catalog's block size is in its ``meta`` table (``text_block_bytes``, 64 KiB); catalogs from
before that key have 32 KiB blocks, and new text goes into them at that size. Each block is
behind one byte that names its codec, so old zlib blocks and new Brotli blocks read alike.

Measured on the 8-PDF corpus (1.72 MB of text from 4.08 MB of PDF, dot leaders removed),
compressed size against the text:

- zlib 9: 0.35x at 32 KiB blocks, 0.34x at 64 KiB (its window is 32 KiB);
- LZMA (9e) and bz2 reach 0.31 / 0.30x at 64 KiB, but are slow to compress or to read back;
- Brotli 11: 0.31x at 32 KiB, 0.305x at 64 KiB, 0.296x at 128 KiB, inflating a 64 KiB block in
  ~0.3 ms. Its built-in dictionary of common words is why it wins on blocks this small.
  Compressing costs ~2 s per MB of text, a few percent of embedding the same text.

64 KiB also halves the partly filled overflow page SQLite ends each blob with.

The rows live in the catalog database and are written by the same transaction as the file's
chunks, so the stored text and the chunks pointing into it can never disagree.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable, Sequence

import brotli  # type: ignore[import-untyped]

from sleuth.store.filepaths import at_path, split

#: Block size of catalogs created by this sleuth.
BLOCK_BYTES = 65536
_OLD_BLOCK_BYTES = 32768  # catalogs without the meta key
_BLOCK_BITS = 20  # up to 2**20 blocks (64 GiB of text) per file
_META_KEY = "text_block_bytes"

# The INSERT runs only when a catalog is created (the schema script), never on an old one.
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS texts (id INTEGER PRIMARY KEY, data BLOB NOT NULL);\n"
    f"INSERT OR IGNORE INTO meta(key, value) VALUES('{_META_KEY}', '{BLOCK_BYTES}');\n"
)

_ZLIB = 1
_BROTLI = 2


def _compress(raw: bytes) -> bytes:
    return bytes([_BROTLI]) + bytes(brotli.compress(raw, quality=11))


def _decompress(data: bytes) -> bytes:
    codec, body = data[0], data[1:]
    try:
        if codec == _BROTLI:
            return bytes(brotli.decompress(body))
        if codec == _ZLIB:
            return zlib.decompress(body)
    except (brotli.error, zlib.error) as exc:
        raise sqlite3.DatabaseError(f"stored text block is corrupt: {exc}") from exc
    raise sqlite3.DatabaseError(f"stored text block has unknown codec {codec}")


def block_bytes(db: sqlite3.Connection) -> int:
    """The size of the blocks this catalog's texts are cut into."""
    row = db.execute("SELECT value FROM meta WHERE key=?", (_META_KEY,)).fetchone()
    return int(row[0]) if row else _OLD_BLOCK_BYTES


def _span(start: int, end: int, size: int) -> range:
    """The block numbers that bytes ``start:end`` lie in (none for an empty range)."""
    return range(start // size, (end - 1) // size + 1) if end > start else range(0)


def _first(file_id: int) -> int:
    return file_id << _BLOCK_BITS


def put_text(db: sqlite3.Connection, file_id: int, text: str) -> None:
    """Store ``text`` as file ``file_id``'s derived text, replacing what it had."""
    remove_text(db, file_id)
    raw = text.encode("utf-8")
    size = block_bytes(db)
    if len(raw) > size << _BLOCK_BITS:
        raise ValueError("extracted text too large to store")
    db.executemany(
        "INSERT INTO texts(id, data) VALUES(?, ?)",
        (
            (_first(file_id) + n, _compress(raw[start : start + size]))
            for n, start in enumerate(range(0, len(raw), size))
        ),
    )


def remove_text(db: sqlite3.Connection, file_id: int) -> None:
    first = _first(file_id)
    db.execute(
        "DELETE FROM texts WHERE id BETWEEN ? AND ?", (first, first + (1 << _BLOCK_BITS) - 1)
    )


def remove_text_of(db: sqlite3.Connection, path: str) -> None:
    """Drop the stored text of the file indexed at ``path``, if it has any."""
    row = db.execute(f"SELECT id FROM files WHERE {at_path('')}", split(path)).fetchone()
    if row is not None:
        remove_text(db, int(row[0]))


class TextReader:
    """Reads byte ranges of stored texts, decompressing each block once per reader."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._size = block_bytes(db)
        self._blocks: dict[int, bytes | None] = {}

    def read(self, file_id: int, ranges: Sequence[tuple[int, int]]) -> list[bytes | None]:
        """The bytes of each ``(start, end)`` range; None where the text is not all stored."""
        first = _first(file_id)
        size = self._size
        wanted = {first + n for start, end in ranges for n in _span(start, end, size)}
        self._load(sorted(wanted - self._blocks.keys()))
        out: list[bytes | None] = []
        for start, end in ranges:
            blocks = [self._blocks.get(first + n) for n in _span(start, end, size)]
            if any(b is None for b in blocks):
                out.append(None)
                continue
            joined = b"".join(b for b in blocks if b is not None)
            base = (start // size) * size
            piece = joined[start - base : end - base]
            out.append(piece if len(piece) == end - start else None)
        return out

    def _load(self, ids: Iterable[int]) -> None:
        wanted = list(ids)
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            found = dict(self.db.execute(f"SELECT id, data FROM texts WHERE id IN ({marks})", part))
            for key in part:
                data = found.get(key)
                self._blocks[key] = None if data is None else _decompress(bytes(data))


def read_all(db: sqlite3.Connection, file_id: int) -> bytes | None:
    """A file's whole stored text, or None if it has none."""
    first = _first(file_id)
    rows = db.execute(
        "SELECT data FROM texts WHERE id BETWEEN ? AND ? ORDER BY id",
        (first, first + (1 << _BLOCK_BITS) - 1),
    ).fetchall()
    return b"".join(_decompress(bytes(r[0])) for r in rows) if rows else None


def text_problems(db: sqlite3.Connection) -> list[str]:
    """Derived files whose chunks have no stored text, and stored text with no file."""
    problems: list[str] = []
    missing = db.execute(
        "SELECT count(*) FROM files f WHERE f.verbatim=0 AND f.chunk_count>0 AND NOT EXISTS "
        f"(SELECT 1 FROM texts t WHERE t.id BETWEEN f.id << {_BLOCK_BITS} "
        f"AND (f.id << {_BLOCK_BITS}) + {(1 << _BLOCK_BITS) - 1})"
    ).fetchone()[0]
    if missing:
        problems.append(f"{missing} derived files have no stored text")
    orphans = db.execute(
        f"SELECT count(DISTINCT id >> {_BLOCK_BITS}) FROM texts "
        f"WHERE id >> {_BLOCK_BITS} NOT IN (SELECT id FROM files)"
    ).fetchone()[0]
    if orphans:
        problems.append(f"stored text of {orphans} files that are not indexed")
    return problems
