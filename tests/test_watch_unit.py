"""The watcher's parts with the fake embedder: change sets, scoped sync, the collector, locks.

The end-to-end behaviour with the real model and a real observer process is in
test_watch_e2e.py; the in-process observer loop is in test_watch_observer.py.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEmbedder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sleuth.indexer.collector import Collector
from sleuth.indexer.discovery import DiscoveryOptions, walk
from sleuth.indexer.pipeline import (
    IndexSettings,
    Progress,
    Reporter,
    open_for_writing,
    run_index,
)
from sleuth.indexer.sync import Changes, Conflict, RootGone, Stopped, Syncer, scan
from sleuth.indexer.watcher import WatchLock
from sleuth.store.errors import IndexLockedError
from sleuth.store.index import Index, check_consistency
from sleuth.store.lock import WriteLock

State = dict[str, list[bytes]]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def state(directory: Path) -> State:
    """Every indexed file with its chunks' text hashes, in order."""
    with Index.open(directory) as index:
        out: State = {}
        for stored in index.catalog.iter_chunks():
            out.setdefault(stored.file.path, []).append(stored.chunk.text_hash)
        for path in index.catalog.files():
            out.setdefault(path, [])
        assert check_consistency(index) == []
        return out


def fresh_state(home: Path, roots: list[Path], name: str = "fresh") -> State:
    directory = home / "indexes" / name
    run_index(directory, roots, FakeEmbedder())
    return state(directory)


class Rig:
    """An index under SLEUTH_HOME and a Syncer over one root, with the fake embedder."""

    def __init__(self, home: Path, root: Path, name: str = "w", **options: bool) -> None:
        self.home = home
        self.root = root
        self.directory = home / "indexes" / name
        self.embedder = FakeEmbedder()
        self.warnings: list[str] = []
        self.stop = threading.Event()
        self.settings = IndexSettings(discovery=DiscoveryOptions(**options), commit_chunks=4)
        self.reporter = Reporter(on_warning=self.warnings.append, should_stop=self.stop.is_set)
        self.index = open_for_writing(self.directory, self.embedder, None)
        self.syncer = Syncer(self.index, [str(root)], self.embedder, self.settings, self.reporter)

    def files(self, *paths: Path) -> Changes:
        return Changes(files={str(p) for p in paths})

    def dirs(self, *paths: Path) -> Changes:
        return Changes(dirs={str(p) for p in paths})

    def full(self) -> Changes:
        return Changes(full=True, reason="test")

    def state(self) -> State:
        return state(self.directory)

    def names(self) -> set[str]:
        return {os.path.relpath(p, self.root) for p in self.state()}

    def close(self) -> None:
        self.index.close()


@pytest.fixture
def rig(sleuth_home: Path, tmp_path: Path) -> Iterator[Rig]:
    root = tmp_path / "root"
    root.mkdir()
    made = Rig(sleuth_home, root)
    yield made
    made.close()


# --- the diff, scoped -----------------------------------------------------------------------


def test_full_reconcile_equals_sleuth_index(sleuth_home: Path, sample: Path) -> None:
    rig = Rig(sleuth_home, sample)
    summary = rig.syncer.apply(rig.full())
    assert summary.files_indexed == 7
    assert rig.state() == fresh_state(sleuth_home, [sample])
    again = rig.syncer.apply(rig.full())
    assert (again.files_indexed, again.files_unchanged) == (0, 7)
    rig.close()


def test_create_edit_delete(rig: Rig) -> None:
    note = write(rig.root / "note.md", "tomatoes in spring\n")
    assert rig.syncer.apply(rig.files(note)).files_indexed == 1
    assert rig.names() == {"note.md"}
    write(note, "tomatoes in spring\n\nand basil in summer\n")
    summary = rig.syncer.apply(rig.files(note))
    assert (summary.files_indexed, summary.chunks_removed) == (1, 1)
    assert rig.state() == fresh_state(rig.home, [rig.root])
    note.unlink()
    summary = rig.syncer.apply(rig.files(note))
    assert (summary.files_removed, summary.chunks_removed) == (1, 1)
    assert rig.names() == set()


def test_a_moved_file_keeps_its_chunks_and_is_not_embedded_again(rig: Rig) -> None:
    old = write(rig.root / "a/old.md", "# Plan\n\nthe bicycle trip to the coast\n")
    rig.syncer.apply(rig.files(old))
    before = rig.embedder.embedded
    with Index.open(rig.directory) as index:
        ids = index.catalog.chunk_ids_of(str(old))
    new = rig.root / "b/new.md"
    new.parent.mkdir()
    old.rename(new)
    summary = rig.syncer.apply(rig.files(old, new))
    assert (summary.files_moved, summary.files_indexed, summary.chunks_added) == (1, 0, 0)
    assert rig.embedder.embedded == before
    with Index.open(rig.directory) as index:
        assert index.catalog.chunk_ids_of(str(new)) == ids
    assert rig.names() == {"b/new.md"}


def test_a_touched_file_is_only_restamped(rig: Rig) -> None:
    note = write(rig.root / "n.txt", "unchanged words\n")
    rig.syncer.apply(rig.files(note))
    before = rig.embedder.embedded
    os.utime(note, (1, 1))
    summary = rig.syncer.apply(rig.files(note))
    assert (summary.files_indexed, summary.files_unchanged) == (0, 1)
    assert rig.embedder.embedded == before
    with Index.open(rig.directory) as index:
        record = index.catalog.file(str(note))
        assert record is not None and record.mtime_ns == note.stat().st_mtime_ns


def test_directory_moved_within_out_of_and_into_the_root(rig: Rig, tmp_path: Path) -> None:
    for i in range(3):
        write(rig.root / f"proj/doc{i}.md", f"document number {i} about sailing\n")
    rig.syncer.apply(rig.full())
    embedded = rig.embedder.embedded

    (rig.root / "proj").rename(rig.root / "renamed")
    summary = rig.syncer.apply(rig.dirs(rig.root / "proj", rig.root / "renamed"))
    assert (summary.files_moved, summary.files_indexed) == (3, 0)
    assert rig.embedder.embedded == embedded
    assert rig.names() == {f"renamed/doc{i}.md" for i in range(3)}

    outside = tmp_path / "outside"
    (rig.root / "renamed").rename(outside)
    summary = rig.syncer.apply(rig.dirs(rig.root / "renamed"))
    assert (summary.files_removed, summary.chunks_removed) == (3, 3)
    assert rig.names() == set()

    outside.rename(rig.root / "back")
    summary = rig.syncer.apply(rig.dirs(rig.root / "back"))
    assert summary.files_indexed == 3
    assert rig.state() == fresh_state(rig.home, [rig.root])


def test_save_by_rename_split_across_batches_leaves_no_temp_entry(rig: Rig) -> None:
    target = write(rig.root / "doc.md", "first version of the text\n")
    rig.syncer.apply(rig.files(target))
    temp = write(rig.root / "doc.md.tmp123", "second version of the text\n")
    rig.syncer.apply(rig.files(temp))  # the editor's temp file, seen on its own
    assert rig.names() == {"doc.md", "doc.md.tmp123"}
    temp.replace(target)
    rig.syncer.apply(rig.files(temp, target))
    assert rig.names() == {"doc.md"}
    assert rig.state() == fresh_state(rig.home, [rig.root])


def test_ignored_hidden_and_index_paths_are_never_indexed(rig: Rig) -> None:
    write(rig.root / ".gitignore", "build/\n*.log\n")
    ignored = [
        write(rig.root / "build/out.txt", "generated output\n"),
        write(rig.root / "run.log", "log line\n"),
        write(rig.root / ".hidden/secret.md", "hidden note\n"),
        write(rig.root / "node_modules/pkg/readme.md", "vendored\n"),
    ]
    kept = write(rig.root / "src/kept.md", "a real note\n")
    rig.syncer.apply(rig.files(*ignored, kept))
    rig.syncer.apply(rig.dirs(rig.root / "build", rig.root / ".hidden", rig.root / "src"))
    assert rig.names() == {"src/kept.md"}
    assert rig.state() == fresh_state(rig.home, [rig.root])


def test_new_ignore_rules_remove_what_they_now_ignore(rig: Rig) -> None:
    draft = write(rig.root / "drafts/one.md", "a draft\n")
    rig.syncer.apply(rig.full())
    assert rig.names() == {"drafts/one.md"}
    write(rig.root / ".sleuthignore", "drafts/\n")
    collector = Collector([str(rig.root)])
    collector.add(str(rig.root / ".sleuthignore"), is_dir=False)
    collector.on_any_event(_event("created", str(rig.root / ".sleuthignore")))
    changes = collector.take()
    assert str(rig.root) in changes.dirs
    rig.syncer.apply(changes)
    assert rig.names() == set()
    assert draft.exists()


def test_a_file_that_fails_to_extract_is_skipped_and_reported(rig: Rig) -> None:
    bad = write(rig.root / "broken.pdf", "%PDF-1.4 this is not really a pdf\n")
    good = write(rig.root / "good.md", "fine text\n")
    summary = rig.syncer.apply(rig.files(bad, good))
    assert (summary.files_indexed, summary.files_skipped) == (1, 1)
    assert summary.skipped["extract-error"] == 1
    assert any("broken.pdf" in w for w in rig.warnings)
    assert rig.names() == {"good.md"}


def test_binary_empty_and_symlinked_files_follow_walk(rig: Rig) -> None:
    write(rig.root / "a.md", "text\n")
    (rig.root / "blob.dat").write_bytes(b"\0\1\2binary")
    (rig.root / "empty.txt").write_text("")
    (rig.root / "link.md").symlink_to(rig.root / "a.md")
    paths = [rig.root / n for n in ("a.md", "blob.dat", "empty.txt", "link.md")]
    rig.syncer.apply(rig.files(*paths))
    assert rig.names() == {"a.md"}
    assert rig.state() == fresh_state(rig.home, [rig.root])


def test_a_vanished_root_is_reported(rig: Rig, tmp_path: Path) -> None:
    rig.root.rename(tmp_path / "elsewhere")
    with pytest.raises(RootGone):
        rig.syncer.apply(rig.files(rig.root / "x.md"))


def test_the_index_folder_inside_a_root_is_left_alone(sleuth_home: Path, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write(root / "note.md", "project note\n")
    directory = root / ".sleuth"
    embedder = FakeEmbedder()
    index = open_for_writing(directory, embedder, None)
    settings = IndexSettings(discovery=DiscoveryOptions(hidden=True))
    syncer = Syncer(index, [str(root)], embedder, settings, Reporter())
    syncer.apply(Changes(full=True))
    syncer.apply(Changes(files={str(directory / "manifest.json")}, dirs={str(directory)}))
    assert {Path(p).name for p in index.catalog.files()} == {"note.md"}
    index.close()


# --- incremental scans agree with a full walk ----------------------------------------------

_NAMES = st.sampled_from(["a.md", "b.txt", ".h.md", "c.log", "d.bin", "e.py"])
_DIRS = st.sampled_from(["", "x/", "x/y/", ".hid/", "build/", "node_modules/"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    files=st.lists(st.tuples(_DIRS, _NAMES, st.booleans()), max_size=12),
    rules=st.sampled_from(["", "*.log\n", "build/\n", "x/y/\n!keep.md\n"]),
    hidden=st.booleans(),
)
def test_scanning_every_path_or_dir_finds_what_walk_finds(
    tmp_path_factory: pytest.TempPathFactory,
    files: list[tuple[str, str, bool]],
    rules: str,
    hidden: bool,
) -> None:
    root = tmp_path_factory.mktemp("scan")
    write(root / ".gitignore", rules)
    for folder, name, empty in files:
        path = root / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"" if empty else b"\0" if name.endswith(".bin") else b"words\n")
    options = DiscoveryOptions(hidden=hidden)
    expected = sorted(str(f.path) for f in walk([root], options))
    every = {str(p) for p in root.rglob("*") if p.is_file()}
    by_files = scan(Changes(files=every), [str(root)], options, lambda _s: None)
    assert sorted(str(f.path) for f in by_files.found) == expected
    subdirs = {str(p) for p in root.iterdir() if p.is_dir()} | {
        str(p) for p in root.iterdir() if p.is_file()
    }
    by_dirs = scan(Changes(dirs=subdirs), [str(root)], options, lambda _s: None)
    assert sorted(str(f.path) for f in by_dirs.found) == expected


# --- concurrency with other writers -----------------------------------------------------------


def test_a_commit_by_another_writer_during_embedding_is_a_conflict(rig: Rig) -> None:
    mine = write(rig.root / "mine.md", "my note about kites\n")
    other = write(rig.root / "other.md", "their note about boats\n")
    fired = []

    def meanwhile(_p: Progress) -> None:
        if not fired:
            fired.append(True)
            run_index(rig.directory, [other], FakeEmbedder())  # a manual `sleuth index`

    rig.syncer.reporter = Reporter(on_progress=meanwhile)
    with pytest.raises(Conflict):
        rig.syncer.apply(rig.files(mine))
    assert rig.names() == {"other.md"}
    rig.syncer.reporter = rig.reporter
    rig.syncer.apply(rig.files(mine))  # the watcher retries the same changes
    assert rig.names() == {"mine.md", "other.md"}
    assert rig.state() == fresh_state(rig.home, [rig.root])


def test_commit_waits_for_the_write_lock_and_gives_up_when_stopped(rig: Rig) -> None:
    note = write(rig.root / "n.md", "waiting for the lock\n")
    lock = WriteLock(rig.directory)
    lock.acquire()  # another writer (a second descriptor conflicts like another process)
    releaser = threading.Timer(0.6, lock.release)
    releaser.start()
    started = time.monotonic()
    rig.syncer.apply(rig.files(note))
    assert time.monotonic() - started >= 0.5
    assert rig.names() == {"n.md"}
    releaser.join()

    note.unlink()  # a removal needs no embedding: only the commit is left to wait for
    lock.acquire()
    rig.stop.set()
    with pytest.raises(Stopped):
        rig.syncer.apply(rig.files(note))
    lock.release()


def test_one_watcher_per_index(tmp_path: Path) -> None:
    first = WatchLock(tmp_path / "idx")
    first.acquire()
    with pytest.raises(IndexLockedError, match=rf"pid {os.getpid()}.*already watching"):
        WatchLock(tmp_path / "idx").acquire()
    first.release()
    with WatchLock(tmp_path / "idx"):
        pass


# --- the collector --------------------------------------------------------------------------


def _event(kind: str, src: str, dest: str = "", *, is_dir: bool = False) -> Any:
    from watchdog import events

    table = {
        ("created", False): events.FileCreatedEvent,
        ("modified", False): events.FileModifiedEvent,
        ("deleted", False): events.FileDeletedEvent,
        ("closed", False): events.FileClosedEvent,
        ("opened", False): events.FileOpenedEvent,
        ("created", True): events.DirCreatedEvent,
        ("deleted", True): events.DirDeletedEvent,
        ("modified", True): events.DirModifiedEvent,
    }
    if kind == "moved":
        cls = events.DirMovedEvent if is_dir else events.FileMovedEvent
        return cls(src, dest)
    return table[(kind, is_dir)](src)


def test_collector_coalesces_events_by_path(tmp_path: Path) -> None:
    root = str(tmp_path)
    c = Collector([root], exclude=f"{root}/.sleuth")
    for kind in ("created", "modified", "modified", "closed"):
        c.on_any_event(_event(kind, f"{root}/a.md"))
    c.on_any_event(_event("opened", f"{root}/b.md"))
    c.on_any_event(_event("modified", root, is_dir=True))
    c.on_any_event(_event("moved", f"{root}/.a.swp", f"{root}/a.md"))
    c.on_any_event(_event("moved", f"{root}/d1", f"{root}/d2", is_dir=True))
    c.on_any_event(_event("modified", f"{root}/.sleuth/catalog.sqlite3"))
    c.on_any_event(_event("created", "/elsewhere/x.md"))
    changes = c.take()
    assert changes.files == {f"{root}/a.md", f"{root}/.a.swp"}
    assert changes.dirs == {f"{root}/d1", f"{root}/d2"}
    assert not c.take()


def test_collector_debounces_and_caps_the_wait(tmp_path: Path) -> None:
    c = Collector([str(tmp_path)])
    assert c.due(0.5, 5.0) is None
    c.add(str(tmp_path / "a"), is_dir=False)
    wait = c.due(0.5, 5.0)
    assert wait is not None and 0.3 < wait <= 0.5
    time.sleep(0.3)
    c.add(str(tmp_path / "b"), is_dir=False)  # a new event pushes the batch back
    wait = c.due(0.5, 5.0)
    assert wait is not None and wait > 0.4
    wait = c.due(0.5, 0.35)  # but never beyond max_wait after the first event
    assert wait is not None and wait < 0.1
    changes = c.take()
    c.requeue(changes)  # a conflict puts changes back, due at once
    wait = c.due(0.5, 5.0)
    assert wait is not None and wait <= 0


def test_collector_turns_a_flood_or_a_request_into_a_full_reconcile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sleuth.indexer.collector as collector

    monkeypatch.setattr(collector, "MAX_PENDING_PATHS", 10)
    c = Collector([str(tmp_path)])
    for i in range(20):
        c.add(str(tmp_path / f"f{i}"), is_dir=False)
    changes = c.take()
    assert changes.full and changes.reason == "storm" and not changes.files
    c.add(str(tmp_path / "x"), is_dir=False)
    c.request_full("overflow")
    changes = c.take()
    assert changes.full and changes.reason == "overflow"


def test_files_under_a_symlinked_folder_follow_walk(sleuth_home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside / "x.md", "reached through a link\n")
    for follow in (False, True):
        root = tmp_path / f"root{follow}"
        write(root / "a.md", "text\n")
        (root / "linked").symlink_to(outside)
        rig = Rig(sleuth_home, root, f"w{follow}", follow_symlinks=follow)
        rig.syncer.apply(rig.files(root / "linked" / "x.md", root / "a.md"))
        rig.syncer.apply(rig.dirs(root / "linked"))
        expected = {"a.md", "linked/x.md"} if follow else {"a.md"}
        assert rig.names() == expected
        full = scan(rig.full(), [str(root)], rig.settings.discovery, lambda _s: None)
        assert {os.path.relpath(f.path, root) for f in full.found} == expected
        rig.close()


# --- what the command prints -----------------------------------------------------------------


def test_log_lines_json_objects_and_quiet() -> None:
    import io
    import json

    from sleuth.cli.env import Env
    from sleuth.cli.watch_cmd import _Log
    from sleuth.indexer.pipeline import Summary
    from sleuth.indexer.watcher import WatchEvent

    def run(**flags: bool) -> tuple[str, str]:
        env = Env(io.StringIO(), io.StringIO(), io.StringIO())
        log = _Log(
            env, "notes", as_json=flags.get("as_json", False), quiet=flags.get("quiet", False)
        )
        log.event(WatchEvent("reconcile", Summary(files_unchanged=5, seconds=1.25), "start"))
        log.ready(["/r"], 0.5)
        log.event(WatchEvent("batch", Summary(files_unchanged=1), paths=1))  # only a touch
        busy = Summary(files_indexed=2, files_moved=1, chunks_added=6, seconds=0.5)
        busy.files_removed, busy.chunks_removed = 1, 3
        log.event(WatchEvent("batch", busy, paths=4))
        log.warn("skipped /r/x.pdf: extract-error")
        log.stopped()
        return env.stdout.getvalue(), env.stderr.getvalue()  # type: ignore[attr-defined]

    out, err = run()
    assert out == ""
    assert err.splitlines() == [
        "sleuth: reconciled (start): 0 indexed (0 chunks), 5 unchanged in 1.2s",
        "sleuth: watching /r (index notes); Ctrl-C to stop",
        "sleuth: updated: 2 indexed (6 chunks), 1 moved, 1 removed (3 chunks) in 0.5s",
        "sleuth: warning: skipped /r/x.pdf: extract-error",
        "sleuth: stopped",
    ]
    out, err = run(as_json=True)
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["event"] for e in events] == ["reconcile", "watching", "batch", "stopped"]
    batch = events[2]
    assert {k: batch[k] for k in ("files_indexed", "files_removed", "files_moved")} == {
        "files_indexed": 2,
        "files_removed": 1,
        "files_moved": 1,
    }
    assert (batch["chunks_added"], batch["chunks_removed"], batch["paths"]) == (6, 3, 4)
    assert events[0]["reason"] == "start" and batch["index"] == "notes"
    assert err == "sleuth: warning: skipped /r/x.pdf: extract-error\n"
    assert run(quiet=True) == ("", "")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_a_file_that_becomes_unreadable_keeps_its_entry(rig: Rig) -> None:
    note = write(rig.root / "n.md", "secret plans\n")
    rig.syncer.apply(rig.files(note))
    note.chmod(0)
    try:
        summary = rig.syncer.apply(rig.files(note))
        assert summary.files_removed == 0 and summary.skipped["unreadable"] == 1
        assert rig.names() == {"n.md"}
    finally:
        note.chmod(0o644)


def test_an_unreadable_file_keeps_its_entry_even_as_root(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sleuth.indexer.sync as sync
    from sleuth.indexer.discovery import Skipped

    note = write(rig.root / "n.md", "secret plans\n")
    rig.syncer.apply(rig.files(note))
    monkeypatch.setattr(
        sync, "classify", lambda p, _o: Skipped(Path(p), "unreadable", "Permission denied")
    )
    summary = rig.syncer.apply(rig.files(note))
    assert summary.files_removed == 0 and summary.skipped["unreadable"] == 1
    assert rig.names() == {"n.md"}
    assert any("n.md: unreadable" in w for w in rig.warnings)
