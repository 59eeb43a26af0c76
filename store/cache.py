"""A bounded cache of recomputed exact embeddings, shared by every search of an index.

Keyed by chunk id *and* text hash, so a chunk whose text changed can never reuse a vector.
Kept in its own SQLite file: searches write to it without touching the catalog or its lock,
and losing it costs only time.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from sleuth.store.cache_file import CACHE_FILE
from sleuth.store.manifest import StorageMode
from sleuth.store.paths import private_file
from sleuth.store.vectors import FloatArray

# The bound grows with the index, so the cache's share of the footprint stays fixed (each
# entry is ~0.8 KiB, about the size of the chunk it stands for: 2% of the chunks costs about
# 0.02x the raw bytes), with a floor of about ten queries' re-embeddings in the mode: a small
# index otherwise pays for a cache many times what its queries use. At the former floor of
# 256 for every mode, the cache was 0.056x of an 8-PDF corpus of 2,240 chunks, where `fast`
# re-embeds ~5 a query.
CACHE_SHARE = 0.02
CACHE_MIN_ENTRIES: dict[StorageMode, int] = {"fast": 64, "compact": 256, "full": 64}
# ``minimal`` is chosen for its size, so its cache is a quarter of that share, with a floor of
# about one query's re-embeddings (~25): a repeated query still re-embeds nothing. At the
# default share the cache alone would be 0.04x of corpus S, a sixth of the whole index.
SMALLEST_CACHE_SHARE = 0.005
SMALLEST_CACHE_MIN_ENTRIES = 32
# Query embeddings (f16 as the vectors, with the query's text: ~0.85 KiB each) are held to an
# eighth of the vectors' count, with a floor of 8: a repeated query needs no model, and the
# queries cost at most an eighth more than the vectors.
QUERY_SHARE = 8
QUERY_MIN_ENTRIES = 8


def cache_bound(chunks: int, storage: StorageMode) -> int:
    if storage == "minimal":
        return max(SMALLEST_CACHE_MIN_ENTRIES, int(chunks * SMALLEST_CACHE_SHARE))
    return max(CACHE_MIN_ENTRIES[storage], int(chunks * CACHE_SHARE))


def query_bound(capacity: int) -> int:
    """How many query embeddings a cache of ``capacity`` vectors keeps."""
    return max(QUERY_MIN_ENTRIES, capacity // QUERY_SHARE)


class VectorCache:
    def __init__(self, directory: Path, dims: int, capacity: int) -> None:
        self.dims = dims
        self.capacity = capacity
        self._db: sqlite3.Connection | None = None
        if capacity <= 0:
            return
        try:
            private_file(directory / CACHE_FILE)  # its -wal and -shm take this file's mode
            self._db = sqlite3.connect(directory / CACHE_FILE, isolation_level=None, timeout=2)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS vec (id INTEGER PRIMARY KEY, hash BLOB NOT NULL, "
                "vector BLOB NOT NULL, used REAL NOT NULL)"
            )
            # Query embeddings too: a repeated query then needs no model at all.
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS query (text TEXT PRIMARY KEY, vector BLOB NOT NULL, "
                "used REAL NOT NULL)"
            )
        except sqlite3.Error:
            # A read-only or locked index still searches; it just recomputes every time.
            self._db = None

    def get(self, wanted: Iterable[tuple[int, bytes]]) -> dict[int, FloatArray]:
        if self._db is None:
            return {}
        pairs = dict(wanted)
        found: dict[int, FloatArray] = {}
        ids = list(pairs)
        try:
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT id, hash, vector FROM vec WHERE id IN ({marks})", part
                )
                for chunk_id, digest, blob in rows:
                    if bytes(digest) == pairs[int(chunk_id)]:
                        found[int(chunk_id)] = np.frombuffer(blob, np.float16).astype(np.float32)
            if found:
                now = time.time()
                self._db.executemany("UPDATE vec SET used=? WHERE id=?", [(now, i) for i in found])
        except sqlite3.Error:
            return found
        return found

    def put(self, items: Iterable[tuple[int, bytes, FloatArray]]) -> None:
        if self._db is None:
            return
        now = time.time()
        # Later items count as more recent, so ties within one call evict the earliest first.
        rows = [
            (i, h, v.astype(np.float16).tobytes(), now + n * 1e-6)
            for n, (i, h, v) in enumerate(items)
        ]
        if not rows:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR REPLACE INTO vec VALUES(?,?,?,?)", rows)
            self._db.execute(
                "DELETE FROM vec WHERE id IN (SELECT id FROM vec ORDER BY used DESC "
                "LIMIT -1 OFFSET ?)",
                (self.capacity,),
            )
            self._db.execute("COMMIT")
        except sqlite3.Error:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")

    def get_query(self, text: str) -> FloatArray | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT vector FROM query WHERE text=?", (text,)).fetchone()
        except sqlite3.Error:
            return None
        if row is None:
            return None
        blob = bytes(row[0])
        if len(blob) == self.dims * 2:
            return np.frombuffer(blob, np.float16).astype(np.float32)
        if len(blob) == self.dims * 4:  # written by an older sleuth: brought to f16 as well
            return np.frombuffer(blob, np.float32).astype(np.float16).astype(np.float32)
        return None

    def put_query(self, text: str, vector: FloatArray) -> None:
        if self._db is None:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO query VALUES(?,?,?)",
                (text, vector.astype(np.float16).tobytes(), time.time()),
            )
            self._db.execute(
                "DELETE FROM query WHERE text IN (SELECT text FROM query ORDER BY used DESC "
                "LIMIT -1 OFFSET ?)",
                (query_bound(self.capacity),),
            )
            self._db.execute("COMMIT")
        except sqlite3.Error:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
