"""Paths in the catalog: each folder stored once, names per file, an older layout upgraded."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from clirun import sleuth
from fakes import FakeEmbedder

from sleuth.indexer.pipeline import run_index
from sleuth.store.catalog import CATALOG_FILE
from sleuth.store.filepaths import FILE_COLS, FILES
from sleuth.store.index import Index
from sleuth.store.paths import resolve_index


def _tree(root: Path) -> dict[str, str]:
    files = {
        "top.md": "# Top\n\nthe lighthouse keeper logs the weather\n",
        "a/one.py": "def lighthouse():\n    return 'beam'\n",
        "a/deep/two.txt": "a harbour pilot guides ships past the lighthouse\n",
        "a-b/three.md": "# Three\n\nsiblings whose names share a prefix\n",
        "b/four.txt": "tide tables for the northern harbour\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return files


def _dirs(directory: Path) -> list[str]:
    db = sqlite3.connect(directory / CATALOG_FILE)
    try:
        return sorted(str(r[0]) for r in db.execute("SELECT path FROM dirs"))
    finally:
        db.close()


def test_each_folder_is_stored_once_and_paths_read_back_whole(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    files = _tree(root)
    directory = tmp_path / "index"
    run_index(directory, [root], FakeEmbedder())
    with Index.open(directory) as index:
        records = index.catalog.files()
        assert sorted(records) == sorted(str(root / rel) for rel in files)
        assert {r.root for r in records.values()} == {str(root)}
        assert index.catalog.roots() == [str(root)]
        assert records[str(root / "a/one.py")].title == "one.py"  # kept as "" on disk
        top = records[str(root / "top.md")]
        assert index.catalog.file(top.path) == top
        chunk_paths = {c.file.path for c in index.catalog.iter_chunks()}
        assert chunk_paths == set(records)
    folders = [str(root / f) for f in ("", "a", "a/deep", "a-b", "b")]
    assert _dirs(directory) == sorted(f.rstrip("/") for f in folders)

    shutil.rmtree(root / "a")
    (root / "b" / "four.txt").rename(root / "a-b" / "four.txt")
    run_index(directory, [root], FakeEmbedder())
    assert _dirs(directory) == sorted([str(root), str(root / "a-b")])
    with Index.open(directory) as index:
        assert sorted(index.catalog.files()) == [
            str(root / "a-b/four.txt"),
            str(root / "a-b/three.md"),
            str(root / "top.md"),
        ]


def _downgrade_to_schema_5(catalog: Path) -> None:
    """The files table as sleuth wrote it before folders had their own table."""
    db = sqlite3.connect(catalog)
    rows = db.execute(f"SELECT f.id, {FILE_COLS}, f.first_chunk, f.chunk_count FROM {FILES}")
    old = rows.fetchall()
    db.executescript(
        "DROP TABLE files; DROP TABLE dirs; CREATE TABLE files (id INTEGER PRIMARY KEY, "
        "path TEXT NOT NULL UNIQUE, root TEXT NOT NULL, kind TEXT NOT NULL, size INTEGER NOT "
        "NULL, mtime_ns INTEGER NOT NULL, sha256 BLOB NOT NULL, verbatim INTEGER NOT NULL, "
        "title TEXT NOT NULL DEFAULT '', first_chunk INTEGER NOT NULL DEFAULT 0, chunk_count "
        "INTEGER NOT NULL DEFAULT 0); PRAGMA user_version=5;"
    )
    db.executemany("INSERT INTO files VALUES(?,?,?,?,?,?,?,?,?,?,?)", old)
    db.commit()
    db.close()


def test_an_index_from_schema_5_is_upgraded_in_place_by_a_search(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    _tree(root)
    directory = resolve_index(None).directory
    run_index(directory, [root], FakeEmbedder())
    with Index.open(directory) as index:
        before = index.catalog.files()
    _downgrade_to_schema_5(directory / CATALOG_FILE)

    found = sleuth("search", "harbour pilot", "--mode", "lexical", "--json", "--min-score", "0")
    assert found.code == 0, found.err
    assert found.json_lines()[0]["path"] == str(root / "a/deep/two.txt")
    with Index.open(directory) as index:
        assert index.catalog.files() == before
    db = sqlite3.connect(directory / CATALOG_FILE)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 6
    db.close()
    status = sleuth("status", "--json")
    assert status.code == 0, status.err
    assert status.json_lines()[0]["files"] == len(before)
