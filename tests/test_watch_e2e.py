"""``sleuth watch`` end to end: a real process, a real watchdog observer, the real model.

Every change is made on disk and then awaited with a deadline (polling ``sleuth search`` or
the catalog), never with a fixed sleep. The burst test prints its figures (run with ``-s``).
"""

from __future__ import annotations

import hashlib
import json
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import sleuth

from sleuth.store.errors import StoreError
from sleuth.store.index import Index
from sleuth.store.paths import indexes_dir

pytestmark = pytest.mark.model

SETTLE = 20.0  # seconds from a change on disk to seeing it in `sleuth search`
START = 60.0  # seconds for a watcher process to import, load the model and reconcile
Event = dict[str, Any]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def wait_for(check: Callable[[], bool], what: str, timeout: float = SETTLE) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout:.0f}s: {what}")
        time.sleep(0.1)
    return time.monotonic() - started


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sleuth.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class WatchProcess:
    """``sleuth watch --json`` in a child process; its events and stderr lines collected."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sleuth.cli", "watch", "--json", "--debounce", "0.2", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: queue.Queue[Event] = queue.Queue()
        self.seen: list[Event] = []
        self.errors: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()
        threading.Thread(target=self._err, args=(self.proc.stderr,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            event = json.loads(line)
            self.seen.append(event)
            self.events.put(event)

    def _err(self, stream: Any) -> None:
        for line in stream:
            self.errors.append(line.rstrip("\n"))

    def wait_event(self, kind: str, timeout: float = START) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or (self.proc.poll() is not None and self.events.empty()):
                raise AssertionError(f"no {kind!r} event; stderr: {self.errors}")
            try:
                event = self.events.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if event["event"] == kind:
                return event

    def started(self) -> WatchProcess:
        self.wait_event("watching")
        return self

    def signal(self, signum: int, timeout: float = 120) -> int:
        self.proc.send_signal(signum)
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)


@pytest.fixture
def watchers() -> Iterator[list[WatchProcess]]:
    started: list[WatchProcess] = []
    yield started
    for w in started:
        w.close()


def start(watchers: list[WatchProcess], *args: str) -> WatchProcess:
    w = WatchProcess(*args)
    watchers.append(w)
    return w.started()


def top(query: str, *extra: str) -> list[str]:
    """Paths of the best hits for ``query``, relative names only."""
    result = sleuth("search", query, "--json", "-k", "3", *extra)
    assert result.code in (0, 1), result.err
    return [str(hit["path"]) for hit in result.json_lines()]


def catalog(name: str = "default") -> dict[str, list[bytes]]:
    """Indexed files and their chunks' text hashes, from one snapshot."""
    with Index.open(indexes_dir() / name) as index, index.snapshot():
        out: dict[str, list[bytes]] = {p: [] for p in index.catalog.files()}
        for stored in index.catalog.iter_chunks():
            out[stored.file.path].append(stored.chunk.text_hash)
        return out


def file_hashes(name: str = "default") -> dict[str, str]:
    with Index.open(indexes_dir() / name) as index:
        return {p: r.sha256 for p, r in index.catalog.files().items()}


def disk_hashes(root: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and p.stat().st_size
    }


def fresh_index(root: Path, name: str = "fresh") -> dict[str, list[bytes]]:
    result = cli("index", str(root), "--index", name, "--quiet")
    assert result.returncode == 0, result.stderr
    return catalog(name)


def consistent() -> None:
    result = cli("status", "--check", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["consistent"] is True


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    write(root / "garden.md", "# Garden\n\nPlant tomato seedlings after the last frost.\n")
    write(root / "bike.txt", "Oil the bicycle chain every few hundred kilometres.\n")
    return root


# --- each kind of change is searchable within the settle time -----------------------------


def test_create_edit_delete_are_searchable(notes: Path, watchers: list[WatchProcess]) -> None:
    w = start(watchers, str(notes))
    assert w.seen[0] == {**w.seen[0], "event": "reconcile", "reason": "start"}
    assert w.seen[0]["files_indexed"] == 2

    write(notes / "bread.md", "# Bread\n\nFeed the sourdough starter with flour and water.\n")
    wait_for(lambda: top("sourdough starter feeding")[:1] == [str(notes / "bread.md")], "create")
    batch = w.wait_event("batch")
    for key in (
        "files_indexed",
        "files_removed",
        "files_moved",
        "chunks_added",
        "chunks_removed",
        "seconds",
    ):
        assert key in batch

    write(notes / "bread.md", "# Bread\n\nBake rye loaves in a cast iron pot.\n")

    def edited() -> bool:
        hits = sleuth("search", "rye loaves cast iron", "--json", "-k", "1").json_lines()
        return bool(hits) and "cast iron" in str(hits[0]["snippet"])

    wait_for(edited, "edit")
    (notes / "bike.txt").unlink()
    # Search already hides a deleted file (its source is checked at query time), so the
    # index itself is what shows the watcher handled the delete.
    wait_for(lambda: str(notes / "bike.txt") not in catalog(), "delete")
    assert set(catalog()) == {str(notes / "garden.md"), str(notes / "bread.md")}
    assert str(notes / "bike.txt") not in top("bicycle chain oil")
    assert w.signal(signal.SIGTERM) == 0
    assert w.seen[-1]["event"] == "stopped"
    consistent()


def test_moves_are_searchable_and_not_embedded_again(
    notes: Path, tmp_path: Path, watchers: list[WatchProcess]
) -> None:
    for i, topic in enumerate(["violin strings", "chess openings", "kayak paddles"]):
        write(notes / "hobbies" / f"h{i}.md", f"# Hobby {i}\n\nNotes about {topic}.\n")
    w = start(watchers, str(notes))

    (notes / "garden.md").rename(notes / "plants.md")
    wait_for(lambda: top("tomato seedlings frost")[:1] == [str(notes / "plants.md")], "move")
    batch = w.wait_event("batch")
    assert (batch["files_moved"], batch["chunks_added"]) == (1, 0)

    (notes / "hobbies").rename(notes / "pastimes")
    wait_for(
        lambda: top("chess openings")[:1] == [str(notes / "pastimes" / "h1.md")], "folder move"
    )
    moved = w.wait_event("batch")
    assert (moved["files_moved"], moved["chunks_added"], moved["files_removed"]) == (3, 0, 0)

    (notes / "pastimes").rename(tmp_path / "away")
    wait_for(lambda: not any("pastimes" in p for p in catalog()), "folder moved out")
    (tmp_path / "away").rename(notes / "back")
    wait_for(lambda: top("kayak paddles")[:1] == [str(notes / "back" / "h2.md")], "moved in")
    assert catalog() == fresh_index(notes)
    consistent()


def test_save_by_rename_leaves_the_new_text_and_no_temp_file(
    notes: Path, watchers: list[WatchProcess]
) -> None:
    start(watchers, str(notes))
    target = notes / "garden.md"
    for version, crop in enumerate(["leeks", "parsnips", "pumpkins"]):
        temp = write(notes / f".garden.md.{version}.tmp", f"# Garden\n\nSow {crop} in rows.\n")
        temp.replace(target)
    wait_for(lambda: top("sow pumpkins in rows")[:1] == [str(target)], "save-by-rename")
    assert set(catalog()) == {str(target), str(notes / "bike.txt")}
    assert file_hashes()[str(target)] == disk_hashes(notes)[str(target)]


def test_a_file_that_fails_to_extract_is_skipped_and_watching_goes_on(
    notes: Path, watchers: list[WatchProcess]
) -> None:
    w = start(watchers, str(notes))
    write(notes / "broken.pdf", "%PDF-1.7 truncated garbage, not a real document\n")
    skipped = w.wait_event("batch", SETTLE)
    assert skipped["files_skipped"] == 1 and skipped["skipped"] == {"extract-error": 1}
    write(notes / "after.md", "The harbour ferry leaves at seven.\n")
    wait_for(lambda: top("harbour ferry departure")[:1] == [str(notes / "after.md")], "after")
    assert any("broken.pdf" in line and "warning" in line for line in w.errors)
    assert w.proc.poll() is None


# --- lifecycle -------------------------------------------------------------------------------


def test_once_reconciles_and_exits_0(notes: Path) -> None:
    result = cli("watch", "--once", "--json", str(notes))
    assert result.returncode == 0, result.stderr
    (event,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert event["event"] == "reconcile" and event["reason"] == "once"
    assert event["files_indexed"] == 2
    write(notes / "bike.txt", "Pump the tyres to four bar before a long ride.\n")
    (notes / "garden.md").rename(notes / "yard.md")
    result = cli("watch", "--once", str(notes))
    assert result.returncode == 0 and result.stdout == ""
    assert "reconciled (once): 1 indexed" in result.stderr and "1 moved" in result.stderr
    assert catalog() == fresh_index(notes)


def test_a_second_watcher_on_the_same_index_is_refused(
    notes: Path, watchers: list[WatchProcess]
) -> None:
    first = start(watchers, str(notes))
    result = cli("watch", str(notes), timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("sleuth: error: another 'sleuth watch' (pid ")
    assert first.proc.poll() is None
    # A manual `sleuth index` may still run between the watcher's batches.
    write(notes / "extra.md", "Manual indexing while a watcher runs.\n")
    assert cli("index", str(notes), "--quiet").returncode == 0


def test_sigint_and_sigterm_exit_0(notes: Path, watchers: list[WatchProcess]) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        w = start(watchers, str(notes))
        assert w.signal(signum, timeout=30) == 0
        assert w.seen[-1]["event"] == "stopped"


@pytest.mark.slow
def test_sigterm_mid_batch_finishes_it_and_exits_0(
    tmp_path: Path, watchers: list[WatchProcess]
) -> None:
    root = tmp_path / "many"
    root.mkdir()
    w = start(watchers, str(root))
    for i in range(200):
        write(root / f"n{i:03}.txt", f"Note {i}: a short line about item number {i}.\n")
    wait_for(lambda: _indexed_count() > 0, "first commit", timeout=120)
    assert w.signal(signal.SIGTERM) == 0
    assert w.seen[-1]["event"] == "stopped"
    consistent()


@pytest.mark.slow
def test_kill_9_mid_batch_then_restart_converges(
    tmp_path: Path, watchers: list[WatchProcess]
) -> None:
    root = tmp_path / "many"
    root.mkdir()
    w = start(watchers, str(root))
    total = 300
    for i in range(total):
        write(root / f"n{i:03}.txt", f"Note {i}: a short line about item number {i}.\n")
    wait_for(lambda: _indexed_count() > 0, "a first commit", timeout=120)
    assert _indexed_count() < total, "the batch finished before the kill: make it bigger"
    w.proc.kill()
    w.proc.wait(30)
    consistent()
    (root / "n000.txt").unlink()  # changed while no watcher ran
    write(root / "late.txt", "Written while the watcher was down.\n")
    again = start(watchers, str(root))
    reconcile = again.seen[0]
    assert reconcile["event"] == "reconcile" and reconcile["reason"] == "start"
    assert file_hashes() == disk_hashes(root)
    consistent()
    assert catalog() == fresh_index(root)


def _indexed_count() -> int:
    try:
        with Index.open(indexes_dir() / "default") as index:
            return index.catalog.counts()[0]
    except (StoreError, sqlite3.Error):  # not created yet, or caught mid-creation
        return 0


# --- a burst with concurrent searches ---------------------------------------------------------


@pytest.mark.slow
def test_a_burst_of_1000_changes_with_searches_running(
    tmp_path: Path, watchers: list[WatchProcess]
) -> None:
    root = tmp_path / "burst"
    rng = random.Random(6)
    topics = ["rain", "ships", "bread", "chess", "music", "stars", "tea", "maps", "bees"]
    for i in range(100):
        write(root / f"d{i % 5}" / f"f{i}.txt", f"Seed note {i} about {rng.choice(topics)}.\n")
    w = start(watchers, str(root))

    searches = {"ok": 0, "failed": 0}
    failures: list[str] = []
    stop = threading.Event()

    def search_loop() -> None:
        # One process answers 20 queries in a row (--batch), each from its own snapshot.
        while not stop.is_set():
            queries = "\n".join(random.choice(topics) for _ in range(20))
            result = subprocess.run(
                [sys.executable, "-m", "sleuth.cli", "search", "--batch", "-", "-k", "5"],
                input=queries,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if result.returncode in (0, 1):
                searches["ok"] += 20
            else:
                searches["failed"] += 1
                failures.append(result.stderr)

    searcher = threading.Thread(target=search_loop)
    searcher.start()
    kinds = {"create": 0, "edit": 0, "delete": 0}
    started = time.monotonic()
    try:
        for n in range(1000):
            existing = sorted(root.rglob("*.txt"))
            roll = rng.random()
            if roll < 0.4 or len(existing) < 20:
                path = root / f"d{rng.randrange(8)}" / f"new{n}.txt"
                write(path, f"Burst note {n} about {rng.choice(topics)}.\n")
                kinds["create"] += 1
            elif roll < 0.8:
                write(rng.choice(existing), f"Edited {n}: now about {rng.choice(topics)}.\n")
                kinds["edit"] += 1
            else:
                rng.choice(existing).unlink()
                kinds["delete"] += 1
            time.sleep(0.01)
        burst = time.monotonic() - started
        settle = wait_for(lambda: file_hashes() == disk_hashes(root), "settled", timeout=300)
    finally:
        stop.set()
        searcher.join(300)
    assert searches["failed"] == 0, failures[:3]
    assert searches["ok"] > 0
    consistent()
    fresh = fresh_index(root)
    assert catalog() == fresh
    batches = [e for e in w.seen if e["event"] == "batch"]
    print(
        f"\nburst: {sum(kinds.values())} changes {kinds} in {burst:.1f}s; "
        f"settled {settle:.1f}s after the last; {len(batches)} batches, "
        f"{sum(b['chunks_added'] for b in batches)} chunks embedded, "
        f"{sum(b['files_moved'] for b in batches)} moves; {len(fresh)} files at the end; "
        f"searches: {searches['ok']} queries answered, {searches['failed']} runs failed"
    )
    assert w.signal(signal.SIGTERM) == 0


def test_watch_help_lists_its_flags() -> None:
    result = sleuth("watch", "--help")
    for flag in ("--once", "--json", "--quiet", "--debounce", "--index", "--hidden", "--follow"):
        assert flag in result.out
