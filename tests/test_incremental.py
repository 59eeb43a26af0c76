"""Incremental indexing: a re-run does only the work that changed, and never loses data.

Most cases drive ``run_index`` with the fake embedder (fast, and it counts what it embeds);
``test_cli_incremental_cycle`` does a whole edit/rename/delete cycle through the real CLI and
the real model, and the unreadable-file cases run a real ``sleuth`` process that, although
root, obeys file modes (see ``hostile_corpus.drop_dac_override``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from clirun import sleuth
from fakes import FakeEmbedder
from hostile_corpus import drop_dac_override, permissions_enforced
from pdfgen import make_pdf

import sleuth.indexer.plan as plan_module
from sleuth.indexer.discovery import DiscoveryOptions
from sleuth.indexer.pipeline import IndexSettings, Progress, Reporter, Summary, run_index
from sleuth.store.index import Index, check_consistency
from sleuth.store.paths import resolve_index
from sleuth.store.records import FileRecord

TOPICS = {
    "alpha.md": "# Alpha\n\nThe heron waits by the estuary at dawn.\n\n## Tides\n\nSpring tides.",
    "beta.txt": "Beta notes: the quartermaster counted seventeen barrels of molasses.",
    "gamma.py": "def gamma(x):\n    '''Return the zeppelin altitude.'''\n    return x * 3\n",
    "delta.md": "# Delta\n\nA recipe for cardamom buns with brown butter glaze.",
    "epsilon.txt": "Epsilon: the lighthouse keeper logs fog at midnight.",
}


def make_tree(root: Path, files: dict[str, str] = TOPICS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


class Runner:
    """Runs ``run_index`` into one index directory and tracks what the embedder did."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.embedder = FakeEmbedder()

    def __call__(self, *roots: Path, **discovery: object) -> tuple[Summary, int]:
        """The summary and the number of texts embedded during this run."""
        before = self.embedder.embedded
        settings = IndexSettings(discovery=DiscoveryOptions(**discovery))  # type: ignore[arg-type]
        summary = run_index(self.directory, list(roots), self.embedder, settings)
        return summary, self.embedder.embedded - before

    def files(self) -> dict[str, FileRecord]:
        with Index.open(self.directory) as index:
            return dict(index.catalog.files())

    def chunk_ids(self, path: Path) -> list[int]:
        with Index.open(self.directory) as index:
            return sorted(index.catalog.chunk_ids_of(str(path)))

    def counts(self) -> tuple[int, int]:
        with Index.open(self.directory) as index:
            return index.catalog.counts()

    def consistent(self) -> list[str]:
        with Index.open(self.directory) as index:
            return check_consistency(index)


@pytest.fixture
def runner() -> Runner:
    return Runner(resolve_index("default").directory)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "notes")


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file the planner hashes, in order."""
    seen: list[Path] = []
    real = plan_module.sha256_of

    def counting(path: Path) -> str:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(plan_module, "sha256_of", counting)
    return seen


def bump_mtime(path: Path, seconds: float = 5.0) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + int(seconds * 1e9)))


def test_first_run_indexes_everything(runner: Runner, tree: Path) -> None:
    summary, embedded = runner(tree)
    assert summary.files_indexed == len(TOPICS)
    assert summary.chunks_added == embedded > 0
    assert runner.counts() == (len(TOPICS), summary.chunks_added)
    assert runner.consistent() == []


def test_unchanged_rerun_embeds_and_hashes_nothing(
    runner: Runner, tree: Path, hashes: list[Path]
) -> None:
    first, _ = runner(tree)
    hashes.clear()
    summary, embedded = runner(tree)
    assert embedded == 0
    assert hashes == []  # size + mtime decide: no file is even read
    assert summary.files_indexed == summary.chunks_added == summary.chunks_removed == 0
    assert summary.files_unchanged == len(TOPICS)
    assert runner.counts() == (len(TOPICS), first.chunks_added)


def test_edited_file_reembeds_only_that_file(runner: Runner, tree: Path) -> None:
    runner(tree)
    others = {name: runner.chunk_ids(tree / name) for name in TOPICS if name != "beta.txt"}
    old_beta = runner.chunk_ids(tree / "beta.txt")
    (tree / "beta.txt").write_text("Beta notes, revised: the purser found nine casks of rum.")
    summary, embedded = runner(tree)
    new_beta = runner.chunk_ids(tree / "beta.txt")
    assert summary.files_indexed == 1
    assert summary.files_unchanged == len(TOPICS) - 1
    assert embedded == summary.chunks_added == len(new_beta)
    assert summary.chunks_removed == len(old_beta)
    assert not set(new_beta) & set(old_beta)
    assert {name: runner.chunk_ids(tree / name) for name in others} == others
    assert runner.consistent() == []
    hit = sleuth_lexical("purser")
    assert hit == [str(tree / "beta.txt")]
    assert sleuth_lexical("quartermaster") == []


def test_renamed_file_is_recognised_by_hash(runner: Runner, tree: Path) -> None:
    runner(tree)
    before = runner.chunk_ids(tree / "delta.md")
    (tree / "delta.md").rename(tree / "delta-renamed.md")
    summary, embedded = runner(tree)
    assert summary.files_moved == 1
    assert summary.chunks_added == summary.chunks_removed == embedded == 0
    assert summary.files_removed == summary.files_indexed == 0
    files = runner.files()
    assert str(tree / "delta.md") not in files
    assert str(tree / "delta-renamed.md") in files
    assert runner.chunk_ids(tree / "delta-renamed.md") == before
    assert sleuth_lexical("cardamom") == [str(tree / "delta-renamed.md")]


def test_file_moved_to_another_folder_is_recognised(runner: Runner, tree: Path) -> None:
    runner(tree)
    (tree / "archive" / "2024").mkdir(parents=True)
    (tree / "epsilon.txt").rename(tree / "archive" / "2024" / "epsilon.txt")
    summary, embedded = runner(tree)
    assert (summary.files_moved, summary.chunks_added, embedded) == (1, 0, 0)
    assert sleuth_lexical("lighthouse") == [str(tree / "archive/2024/epsilon.txt")]


def test_deleted_file_chunks_are_removed(runner: Runner, tree: Path) -> None:
    runner(tree)
    files_before, chunks_before = runner.counts()
    gone = runner.chunk_ids(tree / "gamma.py")
    (tree / "gamma.py").unlink()
    summary, embedded = runner(tree)
    assert summary.files_removed == 1
    assert summary.chunks_removed == len(gone) > 0
    assert embedded == 0
    assert runner.counts() == (files_before - 1, chunks_before - len(gone))
    assert str(tree / "gamma.py") not in runner.files()
    assert sleuth_lexical("zeppelin") == []
    assert runner.consistent() == []


def test_touched_but_unchanged_file_is_only_restamped(
    runner: Runner, tree: Path, hashes: list[Path]
) -> None:
    runner(tree)
    ids = runner.chunk_ids(tree / "alpha.md")
    bump_mtime(tree / "alpha.md")
    hashes.clear()
    summary, embedded = runner(tree)
    assert embedded == 0
    assert summary.files_indexed == summary.chunks_added == summary.chunks_removed == 0
    assert summary.files_unchanged == len(TOPICS)
    assert hashes == [tree / "alpha.md"]  # the hash confirmed it was unchanged
    assert runner.chunk_ids(tree / "alpha.md") == ids
    record = runner.files()[str(tree / "alpha.md")]
    assert record.mtime_ns == (tree / "alpha.md").stat().st_mtime_ns
    # Restamped: the next run does not need to hash it again.
    hashes.clear()
    runner(tree)
    assert hashes == []


def test_reindexing_one_root_keeps_the_other_roots_files(runner: Runner, tmp_path: Path) -> None:
    work = make_tree(tmp_path / "work", {"plan.md": "# Plan\n\nShip the gyroscope firmware."})
    home = make_tree(tmp_path / "home", {"diary.txt": "Walked the whippet along the canal."})
    # A sibling whose name extends the root's: must not count as inside "work".
    workshop = make_tree(tmp_path / "workshop", {"bench.txt": "Sharpen the spokeshave blade."})
    first, _ = runner(work, home, workshop)
    assert first.files_indexed == 3
    (work / "plan.md").write_text("# Plan\n\nShip the gyroscope firmware on Friday.")
    summary, embedded = runner(work)
    assert summary.files_indexed == 1
    assert summary.files_removed == summary.files_moved == 0
    assert embedded == summary.chunks_added
    files = runner.files()
    assert str(home / "diary.txt") in files
    assert str(workshop / "bench.txt") in files
    assert sleuth_lexical("whippet") == [str(home / "diary.txt")]
    assert sleuth_lexical("spokeshave") == [str(workshop / "bench.txt")]
    # Deleting a file under the *other* root is noticed only when that root is indexed.
    (home / "diary.txt").unlink()
    summary, _ = runner(work)
    assert summary.files_removed == 0
    summary, _ = runner(home)
    assert summary.files_removed == 1


def test_reindexing_a_single_file_root_keeps_its_siblings(runner: Runner, tree: Path) -> None:
    runner(tree)
    (tree / "alpha.md").write_text("# Alpha\n\nThe egret waits by the estuary at dawn.")
    summary, embedded = runner(tree / "alpha.md")
    assert summary.files_indexed == 1
    assert summary.files_removed == 0
    assert len(runner.files()) == len(TOPICS)
    assert embedded == summary.chunks_added


@pytest.mark.parametrize("ignore_file", [".gitignore", ".sleuthignore"])
def test_file_that_becomes_ignored_is_removed(runner: Runner, tree: Path, ignore_file: str) -> None:
    runner(tree)
    ids = runner.chunk_ids(tree / "epsilon.txt")
    (tree / ignore_file).write_text("epsilon.txt\n")
    summary, embedded = runner(tree)
    assert summary.files_removed == 1
    assert summary.chunks_removed == len(ids)
    assert embedded == 0
    assert str(tree / "epsilon.txt") not in runner.files()
    assert sleuth_lexical("lighthouse") == []
    # Un-ignoring brings it back.
    (tree / ignore_file).unlink()
    summary, embedded = runner(tree)
    assert summary.files_indexed == 1
    assert embedded == len(ids)


def test_folder_that_becomes_ignored_is_removed(runner: Runner, tree: Path) -> None:
    make_tree(tree / "drafts", {"one.txt": "draft one: marzipan", "two.txt": "draft two"})
    runner(tree)
    assert len(runner.files()) == len(TOPICS) + 2
    (tree / ".gitignore").write_text("drafts/\n")
    summary, _ = runner(tree)
    assert summary.files_removed == 2
    assert len(runner.files()) == len(TOPICS)


def test_failed_extraction_keeps_the_old_chunks(runner: Runner, tree: Path) -> None:
    report = tree / "report.pdf"
    report.write_bytes(make_pdf(["Quarterly report on walrus migration."], title="Report"))
    first, _ = runner(tree)
    assert first.files_indexed == len(TOPICS) + 1
    ids = runner.chunk_ids(report)
    old = runner.files()[str(report)]
    assert ids

    report.write_bytes(b"%PDF-1.4\n% truncated by a crashed editor\n")
    summary, embedded = runner(tree)
    assert summary.files_indexed == 0
    assert embedded == 0
    assert summary.files_skipped == 1
    assert summary.skipped == {"extract-error": 1}
    assert summary.chunks_removed == 0 and summary.files_removed == 0
    assert runner.chunk_ids(report) == ids  # nothing already indexed is lost
    assert runner.files()[str(report)] == old
    assert runner.consistent() == []

    # Still broken: still kept, still reported (it is tried again, never forgotten).
    summary, _ = runner(tree)
    assert summary.skipped == {"extract-error": 1}
    assert runner.chunk_ids(report) == ids

    # Repaired: indexed again.
    report.write_bytes(make_pdf(["Revised report on narwhal migration."], title="Report"))
    summary, embedded = runner(tree)
    assert summary.files_indexed == 1
    assert summary.chunks_removed == len(ids)
    assert sleuth_lexical("narwhal") == [str(report)]


def test_file_that_becomes_binary_or_empty_is_dropped(runner: Runner, tree: Path) -> None:
    runner(tree)
    (tree / "beta.txt").write_bytes(b"\x00\x01\x02binary now")
    (tree / "epsilon.txt").write_bytes(b"")
    summary, _ = runner(tree)
    assert summary.skipped == {"binary": 1, "empty": 1}
    assert summary.files_removed == 2
    assert runner.consistent() == []


def test_swapped_files_are_reindexed_not_moved(runner: Runner, tree: Path) -> None:
    runner(tree)
    a, b = tree / "beta.txt", tree / "epsilon.txt"
    a_text, b_text = a.read_text(), b.read_text()
    a.write_text(b_text)
    b.write_text(a_text)
    summary, _ = runner(tree)
    assert summary.files_moved == 0
    assert summary.files_indexed == 2
    assert sleuth_lexical("quartermaster") == [str(b)]
    assert sleuth_lexical("lighthouse") == [str(a)]


def test_copy_of_an_indexed_file_is_indexed_and_original_kept(runner: Runner, tree: Path) -> None:
    runner(tree)
    (tree / "copy-of-beta.txt").write_text((tree / "beta.txt").read_text())
    summary, _ = runner(tree)
    assert summary.files_moved == 0
    assert summary.files_indexed == 1
    assert sorted(sleuth_lexical("molasses")) == sorted(
        [str(tree / "beta.txt"), str(tree / "copy-of-beta.txt")]
    )


def test_file_renamed_to_another_type_is_extracted_as_that_type(runner: Runner, tree: Path) -> None:
    """A rename that changes the extractor must not keep the old file's kind and chunking."""
    text = "Plain words about the abacus.\n\n# Not a heading in a .txt file\n\nMore words.\n"
    (tree / "notes.txt").write_text(text)
    runner(tree)
    assert runner.files()[str(tree / "notes.txt")].kind == "text"
    (tree / "notes.txt").rename(tree / "notes.md")
    runner(tree)
    assert runner.files()[str(tree / "notes.md")].kind == "md"


def test_file_vanishing_mid_run_is_counted_as_vanished(runner: Runner, tree: Path) -> None:
    victim = tree / "gamma.py"

    def on_progress(progress: Progress) -> None:
        if progress.path.endswith("beta.txt"):  # walked, planned, not yet extracted
            victim.unlink(missing_ok=True)

    summary = run_index(
        runner.directory, [tree], runner.embedder, reporter=Reporter(on_progress=on_progress)
    )
    assert summary.files_indexed == len(TOPICS) - 1
    assert summary.skipped == {"vanished": 1}


def sleuth_lexical(word: str) -> list[str]:
    """Paths of the files with a chunk holding ``word``, by ``sleuth search --mode lexical``."""
    result = sleuth("search", word, "--mode", "lexical", "--json", "--index", "default", "-k", "50")
    assert result.code in (0, 1), result.err
    return sorted({hit["path"] for hit in result.json_lines()})


# ---------------------------------------------------------------------------------------
# Through the real CLI and the real model.


def run_cli(*args: str, cwd: Path, drop_caps: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sleuth.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        preexec_fn=drop_dac_override if drop_caps else None,
        check=False,
    )


def index_json(*args: str, cwd: Path, drop_caps: bool = False) -> dict[str, object]:
    done = run_cli("index", *args, "--json", cwd=cwd, drop_caps=drop_caps)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    summary: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return summary


@pytest.mark.model
def test_cli_incremental_cycle(sample: Path, tmp_path: Path) -> None:
    """Edit, rename, touch and delete in the shipped examples, with the real model."""
    first = index_json(str(sample), cwd=tmp_path)
    total = first["files_indexed"]
    assert isinstance(total, int) and total >= 5

    again = index_json(str(sample), cwd=tmp_path)
    assert (again["files_indexed"], again["chunks_added"]) == (0, 0)
    assert again["files_unchanged"] == total

    recipe = sample / "recipes" / "sourdough.txt"
    recipe.write_text(recipe.read_text() + "\nAdd a spoon of buckwheat honey to the levain.\n")
    bump_mtime(sample / "notes" / "garden.md")
    (sample / "notes" / "meeting-2026-03-02.md").rename(sample / "notes" / "meeting.md")
    (sample / "code" / "retry.py").unlink()
    summary = index_json(str(sample), cwd=tmp_path)
    assert summary["files_indexed"] == 1
    assert summary["files_moved"] == 1
    assert summary["files_removed"] == 1
    assert summary["files_unchanged"] == total - 3  # garden.md (touched) among them
    added = summary["chunks_added"]
    assert isinstance(added, int) and added >= 1

    status = run_cli("status", "--check", "--json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["consistent"] is True
    assert info["files"] == total - 1
    assert info["stale"] == []

    found = run_cli("search", "buckwheat honey", "--mode", "lexical", "--json", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout.splitlines()[0])["path"] == str(recipe)
    moved = run_cli("search", "meeting", "--json", "-k", "20", "--min-score", "0", cwd=tmp_path)
    paths = {json.loads(line)["path"] for line in moved.stdout.splitlines()}
    assert str(sample / "notes" / "meeting.md") in paths
    assert str(sample / "notes" / "meeting-2026-03-02.md") not in paths
    assert not any(p.endswith("retry.py") for p in paths)


def _unreadable_setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    tree = make_tree(tmp_path / "notes")
    (tree / "private").mkdir()
    (tree / "private" / "keys.txt").write_text("The vault code is kept near the orrery.")
    return tree, tree / "beta.txt", tree / "private"


@pytest.mark.model
def test_file_that_becomes_unreadable_keeps_its_chunks(tmp_path: Path) -> None:
    tree, victim, _ = _unreadable_setup(tmp_path)
    first = index_json(str(tree), cwd=tmp_path, drop_caps=True)
    victim.chmod(0)
    try:
        if not permissions_enforced(tree / "beta.txt"):
            pytest.skip("cannot make a file unreadable for the child process")
        summary = index_json(str(tree), cwd=tmp_path, drop_caps=True)
    finally:
        victim.chmod(0o644)
    assert summary["skipped"] == {"unreadable": 1}
    assert summary["files_removed"] == 0, "a permission error deleted indexed data"
    status = json.loads(run_cli("status", "--json", cwd=tmp_path).stdout)
    assert status["files"] == first["files_indexed"]


@pytest.mark.model
def test_folder_that_becomes_unreadable_keeps_its_files(tmp_path: Path) -> None:
    tree, _, private = _unreadable_setup(tmp_path)
    first = index_json(str(tree), cwd=tmp_path, drop_caps=True)
    private.chmod(0)
    try:
        if not permissions_enforced(private):
            pytest.skip("cannot make a folder unreadable for the child process")
        summary = index_json(str(tree), cwd=tmp_path, drop_caps=True)
    finally:
        private.chmod(0o755)
    assert summary["skipped"] == {"unreadable": 1}
    assert summary["files_removed"] == 0, "a permission error deleted indexed data"
    status = json.loads(run_cli("status", "--json", cwd=tmp_path).stdout)
    assert status["files"] == first["files_indexed"]


def test_an_index_run_leaves_one_lexical_segment_and_no_free_pages(tmp_path: Path) -> None:
    """After a run the catalog holds no dead space: deleted rows' pages go back to the disk."""
    import sqlite3

    many = {f"note{i:03d}.md": f"# Note {i}\n\nThe heron number {i} waits.\n" for i in range(300)}
    root = make_tree(tmp_path / "tree", many)
    run = Runner(tmp_path / "index")
    run(root)
    catalog = tmp_path / "index" / "catalog.sqlite3"
    with sqlite3.connect(catalog) as db:
        assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
    full_size = catalog.stat().st_size
    for name in list(many)[:250]:
        (root / name).unlink()
    summary, _ = run(root)
    assert summary.files_removed == 250
    with sqlite3.connect(catalog) as db:
        assert db.execute("PRAGMA freelist_count").fetchone()[0] == 0
        # 'optimize' merged the segments that each commit added into one.
        assert db.execute("SELECT count(DISTINCT segid) FROM lexical_idx").fetchone()[0] == 1
    assert catalog.stat().st_size < full_size
    assert run(root)[0].files_unchanged == 50


def test_a_file_renamed_onto_an_indexed_path_replaces_it_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replaced file's chunks leave the catalog, the lexical index and the graph."""
    monkeypatch.setenv("SLEUTH_GRAPH_MIN_CHUNKS", "0")  # a graph from the first chunk
    root = make_tree(tmp_path / "tree")
    run = Runner(tmp_path / "index")
    run(root)
    (root / "beta.txt").replace(root / "epsilon.txt")
    summary, _ = run(root)
    assert (summary.files_removed, summary.files_indexed) == (1, 1)
    with Index.open(tmp_path / "index") as index:
        assert index.graph_active
        assert check_consistency(index) == []
        assert str(root / "beta.txt") not in index.catalog.files()
        assert index.catalog.lexical_search(["lighthouse"], 5) == []
        assert len(index.catalog.lexical_search(["quartermaster"], 5)) == 1
        # Gone from the graph too; the new file's chunk may still be in the flat tail.
        graph = {int(k) for k in index.load_graph().stored_keys()}
        assert index.catalog.counts()[0] == 4
        assert graph and graph <= set(index.catalog.all_chunk_ids())
