"""A walk takes the files an index holds unchanged without reading them again, unless the
rules they were judged by have changed since."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from fakes import FakeEmbedder

from sleuth.indexer import examine
from sleuth.indexer.discovery import DiscoveryOptions
from sleuth.indexer.pipeline import IndexSettings, run_index
from sleuth.indexer.runinfo import Reporter
from sleuth.indexer.sync import Changes, Syncer
from sleuth.store.index import Index


def _tree(root: Path) -> Path:
    root.mkdir(parents=True)
    for i in range(5):
        (root / f"note{i}.md").write_text(f"# Note {i}\n\nthe harbour pilot's log, entry {i}\n")
    rng = random.Random(3)
    rows = "\n".join(",".join(str(rng.random()) for _ in range(8)) for _ in range(400))
    (root / "dump.txt").write_text(rows + "\n")  # a numeric dump: junk by its content
    return root


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the reads of files' first bytes by the walk's content checks."""
    counted: list[int] = []
    real = os.read

    def counting(fd: int, n: int) -> bytes:
        counted.append(fd)
        return real(fd, n)

    monkeypatch.setattr(examine.os, "read", counting)
    return counted


def _index(directory: Path, root: Path, all_text: bool = False) -> dict[str, object]:
    settings = IndexSettings(discovery=DiscoveryOptions(all_text=all_text))
    return run_index(directory, [root], FakeEmbedder(), settings).as_dict()


def test_a_rerun_reads_only_new_or_changed_files(tmp_path: Path, reads: list[int]) -> None:
    root, directory = _tree(tmp_path / "docs"), tmp_path / "index"
    first = _index(directory, root)
    assert first["files_indexed"] == 5 and first["skipped"] == {"data-dump": 1}
    assert len(reads) == 6
    reads.clear()
    again = _index(directory, root)
    assert again["files_unchanged"] == 5
    assert len(reads) == 1  # the dump: it is not in the index, so it is judged again
    reads.clear()
    (root / "note2.md").write_text("# Note 2\n\nrewritten, a new size and time\n")
    (root / "note5.md").write_text("# Note 5\n\na new file\n")
    edited = _index(directory, root)
    assert edited["files_indexed"] == 2
    assert len(reads) == 3  # the two, and the dump


def test_other_rules_judge_every_file_again(tmp_path: Path, reads: list[int]) -> None:
    root, directory = _tree(tmp_path / "docs"), tmp_path / "index"
    everything = _index(directory, root, all_text=True)
    assert everything["files_indexed"] == 6
    reads.clear()
    junk_out = _index(directory, root)
    assert len(reads) == 6
    assert junk_out["files_removed"] == 1 and junk_out["skipped"] == {"data-dump": 1}
    with Index.open(directory) as index:
        assert str(root / "dump.txt") not in index.catalog.files()


def test_a_watchers_full_reconcile_reads_only_what_changed(
    tmp_path: Path, reads: list[int]
) -> None:
    root, directory = _tree(tmp_path / "docs"), tmp_path / "index"
    _index(directory, root)
    reads.clear()
    with Index.open(directory, readonly=False) as index:
        syncer = Syncer(index, [str(root)], FakeEmbedder(), IndexSettings(), Reporter())
        summary = syncer.apply(Changes(full=True, reason="start"))
    assert summary.files_unchanged == 5 and summary.files_indexed == 0
    assert len(reads) == 1
