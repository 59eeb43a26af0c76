"""``sleuth watch``: keep an index equal to the disk while folders change.

Pieces
------
:class:`~sleuth.indexer.collector.Collector`
    The watchdog event handler. Runs on the observer's thread and does nothing but turn
    events into :class:`~sleuth.indexer.sync.Changes` (a set of paths, a set of directories to
    rescan) under a lock, with the time of the first and the last event.
:class:`Watcher`
    The main loop. Reconciles on start, then takes a batch from the collector once no event
    came for ``debounce`` seconds (or ``max_wait`` seconds after the first event of a
    continuous storm) and applies it with :class:`~sleuth.indexer.sync.Syncer`, the same diff
    and upsert/remove path as ``sleuth index``. A dead observer thread, an inotify queue
    overflow or any other problem the observer logs triggers a full reconcile (after
    restarting the observer if it died).
:class:`WatchLock`
    One watcher per index, held for the watcher's life. The index's *write* lock is taken only
    to commit each batch, so ``sleuth index`` can run between batches.

Events are coalesced by path, so an editor's save-by-rename (write ``.x.swp``, rename it over
``x``) ends as "``x`` changed, ``.x.swp`` gone" and the diff does the rest: the temp name is
never indexed if it lived within one batch, and removed if it was. A moved directory marks
both its old and new path for a rescan; the diff recognises the moved files by content hash.

This module never prints: batches are reported through callbacks, warnings too.
"""

# ruff: noqa: PTH100, PTH112, PTH114, PTH116, PTH120

from __future__ import annotations

import errno
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from sleuth.indexer.collector import Collector as Collector
from sleuth.indexer.collector import TroubleLog
from sleuth.indexer.embedder import Embedder
from sleuth.indexer.errors import IndexingError
from sleuth.indexer.pipeline import (
    QUIET_SKIPS,
    IndexSettings,
    Reporter,
    Summary,
    open_for_writing,
)
from sleuth.indexer.sync import Changes, Conflict, RootGone, Stopped, Syncer
from sleuth.store.index import Index
from sleuth.store.lock import FileLock

WATCH_LOCK_FILE = "watch.lock"
# Only these event kinds can change what is indexed; the rest (opened, closed without
# writing, a directory's own modified/attrib) are not even asked of the kernel.
EVENT_KINDS = (
    "FileCreatedEvent",
    "FileModifiedEvent",  # also attrib: a chmod can make a file (un)readable
    "FileDeletedEvent",
    "FileMovedEvent",
    "FileClosedEvent",
    "DirCreatedEvent",
    "DirDeletedEvent",
    "DirMovedEvent",
)
ROOT_GRACE = 2.0  # seconds a watched path may be missing before the watcher gives up

EventKind = Literal["reconcile", "batch"]


@dataclass(frozen=True, slots=True)
class WatchSettings:
    index: IndexSettings = field(default_factory=lambda: IndexSettings(commit_chunks=128))
    debounce: float = 0.5  # seconds without events before a batch is taken
    max_wait: float = 5.0  # seconds after the first event of a storm: take a batch anyway
    tick: float = 0.25  # how often the loop looks at the stop flag and the observer's health

    def __post_init__(self) -> None:
        if self.debounce < 0 or self.max_wait <= 0 or self.tick <= 0:
            raise ValueError("debounce must be >= 0, max_wait and tick > 0")


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One applied batch (or reconcile), as the CLI reports it."""

    kind: EventKind
    summary: Summary
    reason: str = ""  # for a reconcile: start, once, overflow, observer-error, storm
    paths: int = 0  # changed paths the batch was made of (0 for a reconcile)

    @property
    def changed(self) -> bool:
        """Whether the batch is worth a line: something indexed, removed, moved or failed.

        Re-stamped (touched) files and the expected skips (binary, empty, …) are not.
        """
        s = self.summary
        noisy = any(reason not in QUIET_SKIPS for reason in s.skipped)
        return bool(s.files_indexed or s.files_removed or s.files_moved or noisy)


class WatchLock(FileLock):
    """An advisory lock that only one watcher per index can hold, for its whole life."""

    def __init__(self, directory: Path) -> None:
        super().__init__(
            directory / WATCH_LOCK_FILE,
            "another 'sleuth watch'{holder} is already watching this index; "
            "stop it first or use --index NAME",
        )


class Watcher:
    """Watches ``roots`` and keeps the index in ``directory`` equal to them."""

    def __init__(
        self,
        directory: Path,
        roots: Sequence[Path | str],
        embedder: Embedder,
        settings: WatchSettings | None = None,
        *,
        on_event: Callable[[WatchEvent], None] = lambda _e: None,
        on_warning: Callable[[str], None] = lambda _m: None,
        on_ready: Callable[[], None] = lambda: None,
        stop: threading.Event | None = None,
    ) -> None:
        self.directory = directory
        self.roots = [os.path.abspath(r) for r in roots]
        self.embedder = embedder
        self.settings = settings or WatchSettings()
        self.on_event = on_event
        self.on_warning = on_warning
        self.on_ready = on_ready
        self.stop = stop or threading.Event()
        for root in self.roots:
            if not os.path.lexists(root):
                raise IndexingError(f"path does not exist: {root}")
        self.exclude = os.path.abspath(directory)
        self.follow = self.settings.index.discovery.follow_symlinks
        self.collector = Collector(self.roots, self.exclude)
        self.reporter = Reporter(on_warning=on_warning, should_stop=self.stop.is_set)
        self._observer: Any = None
        self._emitters = 0
        self._identities: list[tuple[int, int] | None] = []
        self._missing_since: float | None = None
        self.reconciles = 0

    # -- public -------------------------------------------------------------------------
    def run_once(self) -> WatchEvent:
        """Reconcile the index with the disk and return (for cron and ``--once``)."""
        with WatchLock(self.directory):
            index = open_for_writing(self.directory, self.embedder, self.settings.index.storage)
            try:
                return self._reconcile(self._syncer(index), "once")
            finally:
                index.close()

    def run(self) -> None:
        """Watch until :attr:`stop` is set; returns after the current batch."""
        with WatchLock(self.directory):
            index = open_for_writing(self.directory, self.embedder, self.settings.index.storage)
            trouble = TroubleLog(self.collector, self.on_warning)
            watchdog_log = logging.getLogger("watchdog")
            watchdog_log.addHandler(trouble)
            try:
                # The observer starts first: what changes during the reconcile is queued.
                self._start_observer()
                syncer = self._syncer(index)
                self._reconcile(syncer, "start")
                self.on_ready()
                self._loop(syncer)
            except Stopped:
                pass
            finally:
                watchdog_log.removeHandler(trouble)
                self._stop_observer()
                index.close()

    # -- loop ---------------------------------------------------------------------------
    def _syncer(self, index: Index) -> Syncer:
        return Syncer(index, self.roots, self.embedder, self.settings.index, self.reporter)

    def _loop(self, syncer: Syncer) -> None:
        s = self.settings
        while not self.stop.is_set():
            self._check_observer()
            wait = self.collector.due(s.debounce, s.max_wait)
            if wait is None or wait > 0:
                self.stop.wait(s.tick if wait is None else min(wait, s.tick))
                continue
            changes = self.collector.take()
            if changes.full:
                self._reconcile(syncer, changes.reason or "reconcile", changes)
            else:
                self._apply(syncer, changes)

    def _apply(self, syncer: Syncer, changes: Changes) -> None:
        try:
            summary = syncer.apply(changes)
        except Conflict:
            # `sleuth index` committed while we embedded: plan again against its result.
            self.collector.requeue(changes)
            return
        except RootGone as gone:
            raise IndexingError(f"{gone}; stopping") from None
        self.on_event(WatchEvent("batch", summary, paths=len(changes)))

    def _reconcile(self, syncer: Syncer, reason: str, changes: Changes | None = None) -> WatchEvent:
        changes = changes or Changes(full=True, reason=reason)
        for _attempt in range(100):
            try:
                summary = syncer.apply(changes)
                syncer.embed_waiting(summary)  # what an interrupted `sleuth index` left
                break
            except Conflict:
                continue
            except RootGone as gone:
                raise IndexingError(f"{gone}; stopping") from None
        else:  # pragma: no cover - a writer that commits faster than we can plan
            raise IndexingError("the index keeps changing under the watcher; giving up")
        self.reconciles += 1
        event = WatchEvent("reconcile", summary, reason=reason)
        self.on_event(event)
        return event

    # -- observer -------------------------------------------------------------------------
    def _start_observer(self) -> None:
        from watchdog import events
        from watchdog.observers import Observer

        kinds = [getattr(events, name) for name in EVENT_KINDS]
        observer = Observer()
        for root in self._watch_roots():
            is_dir = os.path.isdir(root)
            # A single file is watched through its folder, so a save-by-rename that gives it
            # a new inode is still seen; the collector drops the folder's other entries.
            where = root if is_dir else os.path.dirname(root)
            try:
                observer.schedule(
                    cast(Any, self.collector),  # a handler by duck typing (see Collector)
                    where,
                    recursive=is_dir,
                    event_filter=kinds,
                    # A root given as a link is walked through it, so watch it through it.
                    follow_symlink=self.follow or os.path.islink(where),
                )
            except OSError as exc:
                raise IndexingError(_watch_failure(where, exc)) from exc
        try:
            observer.start()
        except OSError as exc:
            observer.stop()
            raise IndexingError(_watch_failure(", ".join(self.roots), exc)) from exc
        self._observer = observer
        self._emitters = len(observer.emitters)
        self._identities = _identities(self.roots)

    def _watch_roots(self) -> list[str]:
        """The roots, without those inside another watched folder (one watch covers both)."""
        folders = [r for r in self.roots if os.path.isdir(r)]
        return [
            r for r in self.roots if not any(r != f and r.startswith(f + os.sep) for f in folders)
        ]

    def _stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            if observer.is_alive():
                observer.join(timeout=5)

    def _check_observer(self) -> None:
        """Restart a dead observer; what it missed is found by a full reconcile.

        Also notices a root that was moved away (its watch would follow the old inode) or
        replaced by another folder of the same name.
        """
        observer = self._observer
        if observer is None:
            return
        identities = _identities(self.roots)
        if None in identities:
            if self._missing_since is None:
                self._missing_since = time.monotonic()
            elif time.monotonic() - self._missing_since > ROOT_GRACE:
                gone = [r for r, i in zip(self.roots, identities, strict=True) if i is None]
                raise IndexingError(f"watched path disappeared: {gone[0]}; stopping")
            return  # an editor may delete and rewrite a watched file: give it a moment
        self._missing_since = None
        emitters = list(observer.emitters)
        healthy = observer.is_alive() and len(emitters) == self._emitters
        if healthy and all(e.is_alive() for e in emitters) and identities == self._identities:
            return
        self.on_warning("file watcher lost its watches; restarting it and reconciling")
        self._stop_observer()
        self._start_observer()
        self.collector.request_full("observer-error")


def _identities(paths: Sequence[str]) -> list[tuple[int, int] | None]:
    """(device, inode) of each watched folder, None for a missing path; files give (0, 0)."""
    out: list[tuple[int, int] | None] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            out.append(None)
            continue
        # A watched file is watched through its folder: a new inode (save-by-rename) is fine.
        out.append((st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else (0, 0))
    return out


def _watch_failure(where: str, exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EMFILE):
        return (
            f"cannot watch {where}: the system's limit on file watches is reached "
            "(raise fs.inotify.max_user_watches / max_user_instances with sysctl)"
        )
    return f"cannot watch {where}: {exc.strerror or exc}"
