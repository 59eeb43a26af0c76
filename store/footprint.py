"""How many bytes an index takes on disk, split by part."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sleuth.store.cache_file import CACHE_FILE
from sleuth.store.catalog import CATALOG_FILE


@dataclass(frozen=True, slots=True)
class Footprint:
    catalog: int  # SQLite file(s) minus the lexical tables and the stored text
    lexical: int  # FTS5 tables inside the catalog
    text: int  # compressed derived text of non-verbatim files (PDF, DOCX, ...), see store.texts
    vectors: int  # per-chunk codes (stored in catalog rows) + the usearch graph, if any
    cache: int  # recomputed-vector cache
    other: int

    @property
    def total(self) -> int:
        return self.catalog + self.lexical + self.text + self.vectors + self.cache + self.other

    def as_dict(self) -> dict[str, int]:
        return {
            "catalog": self.catalog,
            "lexical": self.lexical,
            "text": self.text,
            "vectors": self.vectors,
            "cache": self.cache,
            "other": self.other,
            "total": self.total,
        }


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _sqlite_family(path: Path) -> int:
    # "-shm" is a transient shared-memory index that SQLite rebuilds; it is not stored data.
    return sum(_size(path.with_name(path.name + s)) for s in ("", "-wal"))


def table_bytes(catalog: Path, pattern: str) -> int:
    """Bytes of the tables named like ``pattern``, from SQLite's dbstat table where compiled in."""
    try:
        db = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
        try:
            row = db.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE ?", (pattern,)
            ).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return 0
    return int(row[0] or 0)


def lexical_bytes(catalog: Path) -> int:
    """Bytes of the FTS5 shadow tables."""
    return table_bytes(catalog, "lexical%")


def measure(directory: Path, generation: int, code_bytes: int = 0) -> Footprint:
    """Bytes on disk; ``code_bytes`` (chunks x code size) is counted as vectors, not catalog."""
    catalog_path = directory / CATALOG_FILE
    catalog_total = _sqlite_family(catalog_path)
    lexical = min(lexical_bytes(catalog_path), catalog_total)
    text = min(table_bytes(catalog_path, "texts"), catalog_total - lexical)
    graph = _size(directory / f"vectors.{generation}.usearch")
    cache = _sqlite_family(directory / CACHE_FILE)
    everything = sum(
        _size(p) for p in directory.iterdir() if p.is_file() and not p.name.endswith("-shm")
    )
    other = max(0, everything - catalog_total - graph - cache)
    codes = min(code_bytes, catalog_total - lexical - text)
    return Footprint(
        catalog_total - lexical - text - codes, lexical, text, graph + codes, cache, other
    )
