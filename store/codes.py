"""Reading chunks' codes from the catalog: for scans, for the graph, and for reuse.

A mixin of :class:`~sleuth.store.catalog.Catalog`, kept apart because it is its own job.

A chunk's code is empty while it waits for its embedding: a first index commits every file's
rows and lexical postings before embedding any of them (see ``sleuth.indexer.backfill``), so
lexical search answers within seconds. Such chunks are invisible to everything that reads codes
here; the partial index ``pending`` (empty when nothing waits) finds them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from sleuth.store.filepaths import FILE_DIRS, PATH, at_path, split
from sleuth.store.records import CONTEXT_SQL

PENDING = "length(code)=0"  # as the partial index says, so that SQLite uses it
CODED = "length(code)>0"
PENDING_SCHEMA = f"CREATE INDEX IF NOT EXISTS pending ON chunks(id) WHERE {PENDING};"


class CodesMixin:
    db: sqlite3.Connection

    def codes(self, ids: Sequence[int] | None = None) -> tuple[list[int], list[bytes]]:
        """(chunk ids, code bytes) of every chunk, or of ``ids`` in the order found."""
        if ids is None:
            sql = f"SELECT id, code FROM chunks WHERE {CODED} ORDER BY id"
            rows = self.db.execute(sql).fetchall()
        else:
            rows = []
            wanted = [int(i) for i in ids]
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                marks = ",".join("?" * len(part))
                rows += self.db.execute(
                    f"SELECT id, code FROM chunks WHERE id IN ({marks}) AND {CODED}", part
                ).fetchall()
        return [int(r[0]) for r in rows], [bytes(r[1]) for r in rows]

    def codes_of_file(self, path: str) -> dict[tuple[bytes, str], bytes]:
        """(text hash, context) -> code for a file's current chunks: what an edit can reuse."""
        rows = self.db.execute(
            f"SELECT c.text_hash, {CONTEXT_SQL}, c.code FROM chunks c JOIN files f ON c.id "
            f"BETWEEN f.first_chunk AND f.first_chunk + f.chunk_count - 1 WHERE {at_path()} "
            "AND length(c.code)>0",
            split(path),
        )
        return {(bytes(h), str(ctx)): bytes(code) for h, ctx, code in rows}

    def text_hashes(self) -> tuple[list[int], list[bytes]]:
        """(chunk ids, text hashes) of every chunk: a scan, since an index on text_hash would
        cost ~30 bytes per chunk on disk for what one run needs once, in memory."""
        rows = self.db.execute("SELECT id, text_hash FROM chunks").fetchall()
        return [int(r[0]) for r in rows], [bytes(r[1]) for r in rows]

    def chunk_codes(self, ids: Sequence[int]) -> list[tuple[int, str, str, bytes, bytes]]:
        """(id, file path, context, text hash, code) of the chunks in ``ids`` still present."""
        found: list[tuple[int, str, str, bytes, bytes]] = []
        wanted = [int(i) for i in ids]
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT c.id, {PATH}, {CONTEXT_SQL}, c.text_hash, c.code FROM chunks c "
                f"JOIN files f ON f.id=c.file_id {FILE_DIRS} WHERE c.id IN ({marks}) "
                "AND length(c.code)>0",
                part,
            )
            found += [(int(i), str(p), str(c), bytes(h), bytes(code)) for i, p, c, h, code in rows]
        return found

    def file_spans(self, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """chunk id -> (first chunk id, chunk count) of the file that holds it.

        A file's chunks have consecutive ids (``Catalog.add_chunks``), so the span names them.
        """
        spans: dict[int, tuple[int, int]] = {}
        wanted = [int(i) for i in ids]
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                "SELECT c.id, f.first_chunk, f.chunk_count FROM chunks c "
                f"JOIN files f ON f.id=c.file_id WHERE c.id IN ({marks})",
                part,
            )
            spans.update((int(c), (int(a), int(n))) for c, a, n in rows)
        return spans

    def codes_between(self, ranges: Sequence[tuple[int, int]]) -> dict[int, bytes]:
        """chunk id -> code of every coded chunk in the inclusive id ranges."""
        found: dict[int, bytes] = {}
        for low, high in ranges:
            rows = self.db.execute(
                f"SELECT id, code FROM chunks WHERE id BETWEEN ? AND ? AND {CODED}", (low, high)
            )
            found.update((int(i), bytes(code)) for i, code in rows)
        return found

    # -- chunks waiting for their embedding ------------------------------------------------
    def pending_count(self) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM chunks WHERE {PENDING}").fetchone()[0])

    def pending_ids(self) -> list[int]:
        rows = self.db.execute(f"SELECT id FROM chunks WHERE {PENDING} ORDER BY id")
        return [int(r[0]) for r in rows]

    def first_pending(self) -> int | None:
        row = self.db.execute(f"SELECT min(id) FROM chunks WHERE {PENDING}").fetchone()
        return None if row[0] is None else int(row[0])

    def set_codes(self, pairs: Sequence[tuple[int, bytes]]) -> int:
        """Give waiting chunks their codes; returns how many were still there to take one."""
        done = 0
        for chunk_id, code in pairs:
            cur = self.db.execute(
                f"UPDATE chunks SET code=? WHERE id=? AND {PENDING}", (code, chunk_id)
            )
            done += cur.rowcount
        return done
