"""Reading chunks' codes from the catalog: for scans, for the graph, and for reuse.

A mixin of :class:`~sleuth.store.catalog.Catalog`, kept apart because it is its own job.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from sleuth.store.filepaths import FILE_DIRS, PATH, at_path, split


class CodesMixin:
    db: sqlite3.Connection

    def codes(self, ids: Sequence[int] | None = None) -> tuple[list[int], list[bytes]]:
        """(chunk ids, code bytes) of every chunk, or of ``ids`` in the order found."""
        if ids is None:
            rows = self.db.execute("SELECT id, code FROM chunks ORDER BY id").fetchall()
        else:
            rows = []
            wanted = [int(i) for i in ids]
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                marks = ",".join("?" * len(part))
                rows += self.db.execute(
                    f"SELECT id, code FROM chunks WHERE id IN ({marks})", part
                ).fetchall()
        return [int(r[0]) for r in rows], [bytes(r[1]) for r in rows]

    def codes_of_file(self, path: str) -> dict[tuple[bytes, str], bytes]:
        """(text hash, context) -> code for a file's current chunks: what an edit can reuse."""
        rows = self.db.execute(
            "SELECT c.text_hash, c.context, c.code FROM chunks c JOIN files f ON c.id "
            f"BETWEEN f.first_chunk AND f.first_chunk + f.chunk_count - 1 WHERE {at_path()}",
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
                f"SELECT c.id, {PATH}, c.context, c.text_hash, c.code FROM chunks c "
                f"JOIN files f ON f.id=c.file_id {FILE_DIRS} WHERE c.id IN ({marks})",
                part,
            )
            found += [(int(i), str(p), str(c), bytes(h), bytes(code)) for i, p, c, h, code in rows]
        return found
