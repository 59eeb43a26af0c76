"""How the catalog stores paths: each folder once, in ``dirs``, and only a name per file.

A files row used to hold its absolute path and its root, and the unique index on the path
copied the path again: on a corpus of one function per file (1,624 stdlib files, 774 bytes
each) that was 320 of the catalog's 416 bytes per file, more than the file's codes and
postings together. Now a row holds a folder id, its name, and its root as another ``dirs`` id;
the unique index is on (folder id, name). A file's title is kept only where it is not its name
(code files are titled by their names).

Paths stay absolute strings everywhere outside this module: ``FILE_COLS`` rebuilds them, and
``at_path`` finds a file by its path through the ``dirs`` index.
"""

from __future__ import annotations

import sqlite3

SCHEMA = "CREATE TABLE IF NOT EXISTS dirs (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);"

FILES_COLUMNS = """
    id INTEGER PRIMARY KEY,
    dir INTEGER NOT NULL,
    name TEXT NOT NULL,
    root INTEGER NOT NULL,
    kind TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 BLOB NOT NULL,
    verbatim INTEGER NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    first_chunk INTEGER NOT NULL DEFAULT 0,
    chunk_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE(dir, name)
"""

# ``files f`` with its folder (``d``) and root (``r``): what FILE_COLS reads from.
FILE_DIRS = "JOIN dirs d ON d.id=f.dir JOIN dirs r ON r.id=f.root"
FILES = f"files f {FILE_DIRS}"
PATH = "d.path || '/' || f.name"
FILE_COLS = (
    f"{PATH}, r.path, f.kind, f.size, f.mtime_ns, f.sha256, f.verbatim, "
    "CASE f.title WHEN '' THEN f.name ELSE f.title END"
)


def split(path: str) -> tuple[str, str]:
    """(folder, name) with ``folder + "/" + name == path``; "/a" is ("", "a")."""
    folder, _, name = path.rpartition("/")
    return folder, name


def at_path(alias: str = "f") -> str:
    """A condition on files ``alias`` true for the file at a path; its arguments: ``split``."""
    prefix = f"{alias}." if alias else ""
    return f"{prefix}dir = (SELECT id FROM dirs WHERE path=?) AND {prefix}name=?"


def stored_title(name: str, title: str) -> str:
    """What the row keeps of ``title``: nothing when the name says it (read back as the name)."""
    return "" if title == name else title


def dir_id(db: sqlite3.Connection, path: str) -> int:
    """The ``dirs`` id of ``path``, added if new (inside the caller's transaction)."""
    row = db.execute("SELECT id FROM dirs WHERE path=?", (path,)).fetchone()
    if row is not None:
        return int(row[0])
    cur = db.execute("INSERT INTO dirs(path) VALUES(?) RETURNING id", (path,))
    return int(cur.fetchone()[0])


def prune_dirs(db: sqlite3.Connection) -> None:
    """Forget folders no file is in or rooted at any more (after removals and moves)."""
    db.execute(
        "DELETE FROM dirs WHERE id NOT IN (SELECT dir FROM files UNION SELECT root FROM files)"
    )


def under(prefixes: list[str]) -> tuple[str, list[str]]:
    """A condition on ``FILES`` true for paths equal to or below one of ``prefixes``, as
    ranges the ``dirs`` index answers: every folder below ``p`` starts with ``p/``, and ``0``
    is the character after ``/``."""
    parts: list[str] = []
    args: list[str] = []
    for prefix in prefixes:
        base = prefix.rstrip("/")
        folder, name = split(base)
        parts.append("(d.path = ? OR (d.path >= ? AND d.path < ?) OR (d.path = ? AND f.name = ?))")
        args += [base, base + "/", base + "0", folder, name]
    return " OR ".join(parts), args


UPGRADABLE = 5  # the schema before ``dirs``: upgraded in place on open


def upgrade(db: sqlite3.Connection) -> None:
    """Schema 5 to 6, inside the caller's transaction: absolute paths become folder ids."""
    rows = db.execute(
        "SELECT id, path, root, kind, size, mtime_ns, sha256, verbatim, title, first_chunk, "
        "chunk_count FROM files"
    ).fetchall()
    db.execute("DROP TABLE files")
    db.execute(SCHEMA)
    db.execute(f"CREATE TABLE files ({FILES_COLUMNS})")
    for file_id, path, root, *rest in rows:
        folder, name = split(str(path))
        kind, size, mtime_ns, sha, verbatim, title, first, count = rest
        db.execute(
            "INSERT INTO files(id, dir, name, root, kind, size, mtime_ns, sha256, verbatim, "
            "title, first_chunk, chunk_count) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                file_id,
                dir_id(db, folder),
                name,
                dir_id(db, str(root)),
                kind,
                size,
                mtime_ns,
                sha,
                verbatim,
                stored_title(name, str(title)),
                first,
                count,
            ),
        )
