"""An index is private to its owner: folders 0700, files 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from clirun import sleuth
from fakes import FakeEmbedder

from sleuth.indexer.pipeline import run_index
from sleuth.indexer.watcher import Watcher
from sleuth.store.cache import VectorCache
from sleuth.store.index import Index
from sleuth.store.paths import indexes_dir, resolve_index


@pytest.fixture
def wide_umask() -> Iterator[None]:
    """umask 0: a file created with the library's default mode would be world-writable."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def modes(directory: Path) -> dict[str, int]:
    return {p.name: mode(p) for p in sorted(directory.iterdir())}


def test_new_index_watcher_and_cache_files_are_private(
    wide_umask: None, sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLEUTH_GRAPH_MIN_CHUNKS", "1")  # so a usearch graph file is written
    directory = resolve_index().directory
    embedder = FakeEmbedder()
    run_index(directory, [sample], embedder)
    Watcher(directory, [sample], embedder).run_once()
    with Index.open(directory) as index:
        assert index.graph_active
        cache = VectorCache(directory, 384, 10)
        cache.put([(1, b"h" * 8, np.ones(384, np.float32))])
        cache.put_query("q", np.ones(384, np.float32))
        try:
            files = modes(directory)  # the cache is open: its -wal and -shm exist now
        finally:
            cache.close()
    names = set(files)
    for expected in (
        "catalog.sqlite3",
        "manifest.json",
        "write.lock",
        "watch.lock",
        "recompute-cache.sqlite3",
        "recompute-cache.sqlite3-wal",
        "recompute-cache.sqlite3-shm",
    ):
        assert expected in names
    assert any(n.startswith("vectors.") and n.endswith(".usearch") for n in names)
    assert files == dict.fromkeys(files, 0o600)
    assert mode(directory) == 0o700
    assert mode(indexes_dir()) == 0o700  # created by sleuth, so private too


def test_catalog_log_files_are_private_while_open(wide_umask: None, sample: Path) -> None:
    directory = resolve_index().directory
    run_index(directory, [sample], FakeEmbedder())
    with Index.open(directory, readonly=False) as index:
        index.catalog.set_meta("probe", "1")  # a write outside a transaction fills the -wal
        wal = directory / "catalog.sqlite3-wal"
        assert wal.exists()
        assert mode(wal) == 0o600
        assert mode(directory / "catalog.sqlite3-shm") == 0o600


@pytest.mark.parametrize("readonly", [True, False])
def test_an_old_open_index_is_tightened_on_open(
    sample: Path, monkeypatch: pytest.MonkeyPatch, readonly: bool
) -> None:
    monkeypatch.setenv("SLEUTH_GRAPH_MIN_CHUNKS", "1")
    directory = resolve_index().directory
    run_index(directory, [sample], FakeEmbedder())
    # As sleuth before this change left it: 0755 folder, 0644 files.
    directory.chmod(0o755)
    for path in directory.iterdir():
        path.chmod(0o644)
    Index.open(directory, readonly=readonly).close()
    assert mode(directory) == 0o700
    assert set(modes(directory).values()) == {0o600}


def test_a_reader_of_a_private_folder_changes_nothing(sample: Path) -> None:
    directory = resolve_index().directory
    run_index(directory, [sample], FakeEmbedder())
    # A file inside a 0700 folder is out of others' reach already: a reader needs one stat.
    (directory / "manifest.json").chmod(0o644)
    Index.open(directory).close()
    assert mode(directory / "manifest.json") == 0o644
    Index.open(directory, readonly=False).close()
    assert mode(directory / "manifest.json") == 0o600


def test_project_index_folder_is_private(wide_umask: None, tmp_path: Path) -> None:

    project = tmp_path / "proj"
    project.mkdir()
    result = sleuth("init", str(project))
    assert result.code == 0, result.err
    assert mode(project / ".sleuth") == 0o700
