"""Files in the catalog: their rows, looked up by path, and the run of chunk ids each owns.

A mixin of :class:`~sleuth.store.catalog.Catalog`, kept apart because it is its own job (how
paths are stored is :mod:`sleuth.store.filepaths`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sleuth.store import chunk_totals
from sleuth.store.filepaths import FILE_COLS as _FILE_COLS
from sleuth.store.filepaths import FILES, PATH, at_path, dir_id, split, stored_title
from sleuth.store.records import FileRecord
from sleuth.store.texts import remove_text_of


def _file(row: Sequence[Any]) -> FileRecord:
    path, root, kind, size, mtime_ns, sha, verbatim, title = row
    return FileRecord(
        str(path),
        str(root),
        str(kind),
        int(size),
        int(mtime_ns),
        bytes(sha).hex(),
        bool(verbatim),
        str(title),
    )


class FilesMixin:
    db: sqlite3.Connection

    if TYPE_CHECKING:  # provided by Catalog (its lexical part)

        def _bury(self, count: int) -> None: ...

    def files(self) -> dict[str, FileRecord]:
        rows = self.db.execute(f"SELECT {_FILE_COLS} FROM {FILES}")
        return {str(row[0]): _file(row) for row in rows}

    def file_stamps(self) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) of every file: what a walk compares with the disk."""
        rows = self.db.execute(f"SELECT {PATH}, f.size, f.mtime_ns FROM {FILES}")
        return {str(p): (int(s), int(m)) for p, s, m in rows}

    def file(self, path: str) -> FileRecord | None:
        row = self.db.execute(f"SELECT {_FILE_COLS} FROM {FILES} WHERE {at_path()}", split(path))
        found = row.fetchone()
        return _file(found) if found else None

    def file_id(self, path: str) -> int | None:
        row = self.db.execute(f"SELECT id FROM files WHERE {at_path('')}", split(path))
        found = row.fetchone()
        return int(found[0]) if found else None

    def upsert_file(self, record: FileRecord) -> int:
        """Insert or replace the file row; its old chunks must already be removed."""
        folder, name = split(record.path)
        cur = self.db.execute(
            "INSERT INTO files(dir, name, root, kind, size, mtime_ns, sha256, verbatim, title) "
            "VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(dir, name) DO UPDATE SET root=excluded.root, "
            "kind=excluded.kind, size=excluded.size, mtime_ns=excluded.mtime_ns, "
            "sha256=excluded.sha256, verbatim=excluded.verbatim, title=excluded.title "
            "RETURNING id",
            (
                dir_id(self.db, folder),
                name,
                dir_id(self.db, record.root),
                record.kind,
                record.size,
                record.mtime_ns,
                bytes.fromhex(record.sha256),  # 32 bytes, not 64 characters: one per file
                int(record.verbatim),
                stored_title(name, record.title),
            ),
        )
        return int(cur.fetchone()[0])

    def move_file(self, old: str, record: FileRecord) -> list[int]:
        """Point an indexed file's row at its new path: chunks and vectors stay as they are.

        Returns the chunk ids of a file that was indexed at the new path (now replaced).
        """
        replaced = self.remove_file(record.path) if record.path != old else []
        folder, name = split(record.path)
        # A title kept as "" (the old name) reads as the new name: what extraction gives.
        self.db.execute(
            f"UPDATE files SET dir=?, name=?, root=?, size=?, mtime_ns=? WHERE {at_path('')}",
            (
                dir_id(self.db, folder),
                name,
                dir_id(self.db, record.root),
                record.size,
                record.mtime_ns,
                *split(old),
            ),
        )
        return replaced

    def touch_file(self, path: str, size: int, mtime_ns: int) -> None:
        self.db.execute(
            f"UPDATE files SET size=?, mtime_ns=? WHERE {at_path('')}",
            (size, mtime_ns, *split(path)),
        )

    def remove_file(self, path: str) -> list[int]:
        """Delete a file and its chunks; returns the removed chunk ids (for the vector index)."""
        ids = self.remove_chunks_of(path)
        self.db.execute(f"DELETE FROM files WHERE {at_path('')}", split(path))
        return ids

    def _chunk_range(self, path: str) -> range:
        """A file's chunk ids: one run, as ``add_chunks`` gives them (the rowid is the index)."""
        row = self.db.execute(
            f"SELECT first_chunk, chunk_count FROM files WHERE {at_path('')}", split(path)
        ).fetchone()
        return range(int(row[0]), int(row[0]) + int(row[1])) if row else range(0)

    def chunk_ids_of(self, path: str) -> list[int]:
        return list(self._chunk_range(path))

    def remove_chunks_of(self, path: str) -> list[int]:
        """Delete a file's chunks and the derived text they point into."""
        remove_text_of(self.db, path)
        ids = self._chunk_range(path)
        if ids:
            gone = self.db.execute(
                "SELECT count(*), coalesce(sum(tokens), 0) FROM chunks WHERE id BETWEEN ? AND ?",
                (ids[0], ids[-1]),
            ).fetchone()
            chunk_totals.adjust(self.db, -int(gone[0]), -int(gone[1]))
            self.db.execute("DELETE FROM chunks WHERE id BETWEEN ? AND ?", (ids[0], ids[-1]))
            self.db.execute(f"UPDATE files SET chunk_count=0 WHERE {at_path('')}", split(path))
        self._bury(len(ids))
        return list(ids)
