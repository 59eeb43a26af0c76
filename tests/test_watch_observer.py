"""The watcher loop in-process, with a real watchdog observer and the fake embedder.

Real files are changed on disk and the test waits (with a deadline, polling) until the index
shows the change. The real model and the CLI process are covered by test_watch_e2e.py.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fakes import FakeEmbedder

from sleuth.indexer.errors import IndexingError
from sleuth.indexer.pipeline import IndexSettings, run_index
from sleuth.indexer.watcher import Watcher, WatchEvent, WatchSettings
from sleuth.store.index import Index, check_consistency

SETTLE = 20.0  # seconds: the bound on "visible after the event"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def wait_for(check: Callable[[], bool], what: str, timeout: float = SETTLE) -> float:
    """Poll ``check`` until it holds; return how long that took."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.05)


class Running:
    """A Watcher on a thread, its events in a queue."""

    def __init__(self, directory: Path, root: Path, **settings: float) -> None:
        self.directory = directory
        self.root = root
        self.events: queue.Queue[WatchEvent] = queue.Queue()
        self.warnings: list[str] = []
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.embedder = FakeEmbedder()
        self.watcher = Watcher(
            directory,
            [root],
            self.embedder,
            WatchSettings(index=IndexSettings(commit_chunks=8), **settings),
            on_event=self.events.put,
            on_warning=self.warnings.append,
            on_ready=self.ready.set,
            stop=self.stop,
        )
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.watcher.run()
        except BaseException as exc:  # handed to the test thread
            self.error = exc

    def start(self) -> Running:
        self.thread.start()
        assert self.ready.wait(SETTLE), self.error
        return self

    def close(self) -> None:
        self.stop.set()
        self.thread.join(SETTLE)
        assert not self.thread.is_alive()

    def names(self) -> set[str]:
        with Index.open(self.directory) as index:
            return {os.path.relpath(p, self.root) for p in index.catalog.files()}

    def next_event(self, kind: str) -> WatchEvent:
        deadline = time.monotonic() + SETTLE
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event.kind == kind:
                return event


@pytest.fixture
def running(sleuth_home: Path, tmp_path: Path) -> Iterator[Running]:
    root = tmp_path / "root"
    write(root / "start.md", "present before the watcher started\n")
    watcher = Running(sleuth_home / "indexes" / "w", root, debounce=0.1).start()
    yield watcher
    watcher.close()


def test_start_reconciles_then_follows_changes(running: Running) -> None:
    first = running.next_event("reconcile")
    assert first.reason == "start" and first.summary.files_indexed == 1
    root = running.root
    write(root / "new.md", "created while watching\n")
    wait_for(lambda: "new.md" in running.names(), "created file indexed")
    write(root / "new.md", "edited while watching, now longer\n")
    wait_for(lambda: _has_text(running, "new.md", "longer"), "edit indexed")
    (root / "new.md").rename(root / "moved.md")
    wait_for(lambda: running.names() == {"start.md", "moved.md"}, "move seen")
    (root / "moved.md").unlink()
    wait_for(lambda: running.names() == {"start.md"}, "delete seen")
    write(root / "d/one.md", "one\n")
    write(root / "d/two.md", "two\n")
    wait_for(lambda: {"d/one.md", "d/two.md"} <= running.names(), "folder indexed")
    (root / "d").rename(root / "e")
    wait_for(lambda: running.names() == {"start.md", "e/one.md", "e/two.md"}, "folder moved")
    with Index.open(running.directory) as index:
        assert check_consistency(index) == []


def test_save_by_rename_ends_with_the_new_content_and_no_temp_entry(running: Running) -> None:
    running.next_event("reconcile")
    target = running.root / "doc.md"
    write(target, "version one\n")
    wait_for(lambda: "doc.md" in running.names(), "indexed")
    for version in range(2, 6):
        temp = running.root / f".doc.md.swp{version}"
        write(temp, f"version {version}\n")
        temp.replace(target)
    wait_for(lambda: _has_text(running, "doc.md", "version 5"), "last version indexed")
    time.sleep(0.5)  # a late batch must not bring a temp name back
    assert running.names() == {"start.md", "doc.md"}


def test_an_observer_overflow_leads_to_a_full_reconcile(running: Running) -> None:
    running.next_event("reconcile")
    # A change the observer never reported (as after a kernel queue overflow)…
    os.utime(running.root / "start.md", (5, 5))
    write(running.root / "unseen.md", "never reported\n")
    logging.getLogger("watchdog.observers.inotify_c").warning(
        "Inotify queue overflowed; filesystem events were lost"
    )
    event = running.next_event("reconcile")
    assert event.reason == "overflow"
    assert "unseen.md" in running.names()
    assert any("overflow" in w for w in running.warnings)


def test_a_dead_observer_is_restarted_and_reconciled(running: Running) -> None:
    running.next_event("reconcile")
    observer = running.watcher._observer
    for emitter in list(observer.emitters):
        emitter.stop()
        emitter.join(5)
    write(running.root / "during.md", "written while the observer was down\n")
    event = running.next_event("reconcile")
    assert event.reason == "observer-error"
    wait_for(lambda: "during.md" in running.names(), "reconciled")
    write(running.root / "after.md", "written after the restart\n")
    wait_for(lambda: "after.md" in running.names(), "new observer works")


def test_a_burst_settles_to_what_sleuth_index_builds(running: Running, sleuth_home: Path) -> None:
    running.next_event("reconcile")
    root = running.root
    for i in range(300):
        path = root / f"b{i % 7}" / f"f{i % 120}.txt"
        if i % 5 == 4 and path.exists():
            path.unlink()
        else:
            write(path, f"line {i} of the burst about topic {i % 13}\n")
    fresh = sleuth_home / "indexes" / "fresh"
    run_index(fresh, [root], FakeEmbedder())
    expected = _chunks(fresh)
    wait_for(lambda: _chunks(running.directory) == expected, "settled", timeout=60)


def test_stop_returns_promptly(running: Running) -> None:
    running.next_event("reconcile")
    started = time.monotonic()
    running.close()
    assert time.monotonic() - started < 3
    assert running.error is None


def test_a_vanished_root_stops_the_watcher_with_an_error(sleuth_home: Path, tmp_path: Path) -> None:
    root = tmp_path / "gone"
    write(root / "a.md", "text\n")
    watcher = Running(sleuth_home / "indexes" / "g", root, debounce=0.1).start()
    root.rename(tmp_path / "elsewhere")
    watcher.thread.join(SETTLE)
    assert isinstance(watcher.error, IndexingError)
    assert "disappeared" in str(watcher.error)


def _has_text(running: Running, name: str, word: str) -> bool:
    with Index.open(running.directory) as index:
        hits = index.catalog.lexical_search([word], 10)
        rows = index.catalog.chunks(i for i, _ in hits)
        return any(Path(r.file.path).name == name for r in rows.values())


def _chunks(directory: Path) -> dict[str, list[bytes]]:
    with Index.open(directory) as index, index.snapshot():
        out: dict[str, list[bytes]] = {p: [] for p in index.catalog.files()}
        for stored in index.catalog.iter_chunks():
            out[stored.file.path].append(stored.chunk.text_hash)
        return out


def test_a_single_file_root_survives_save_by_rename(sleuth_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    target = write(folder / "todo.md", "buy apples\n")
    write(folder / "other.md", "not watched\n")
    w = Running(sleuth_home / "indexes" / "f", target, debounce=0.1)
    w.root = folder
    w.start()
    assert w.names() == {"todo.md"}
    for fruit in ("pears", "plums"):
        write(folder / ".todo.md.tmp", f"buy {fruit}\n").replace(target)
    wait_for(lambda: _has_text(w, "todo.md", "plums"), "file root re-indexed")
    write(folder / "other.md", "still not watched\n")
    time.sleep(0.5)
    assert w.names() == {"todo.md"}
    w.close()


def test_a_symlinked_root_is_watched_through_the_link(sleuth_home: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    write(real / "a.md", "alpha\n")
    link = tmp_path / "link"
    link.symlink_to(real)
    w = Running(sleuth_home / "indexes" / "s", link, debounce=0.1)
    w.root = link
    w.start()
    assert w.names() == {"a.md"}
    write(real / "sub" / "b.md", "beta\n")
    wait_for(lambda: w.names() == {"a.md", "sub/b.md"}, "change under a symlinked root")
    w.close()


def test_a_root_replaced_by_another_folder_is_watched_again(
    sleuth_home: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    write(root / "old.md", "old folder\n")
    w = Running(sleuth_home / "indexes" / "r", root, debounce=0.1).start()
    root.rename(tmp_path / "previous")
    write(tmp_path / "fresh" / "new.md", "new folder\n").parent.rename(root)
    event = w.next_event("reconcile")
    while event.reason == "start":
        event = w.next_event("reconcile")
    wait_for(lambda: w.names() == {"new.md"}, "the new folder reconciled")
    write(root / "later.md", "seen by the new watch\n")
    wait_for(lambda: w.names() == {"new.md", "later.md"}, "the new folder watched")
    w.close()
