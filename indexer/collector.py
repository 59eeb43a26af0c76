"""Watchdog events to pending changes: the watcher's event handler, on the observer's thread.

It does nothing but turn events into :class:`~sleuth.indexer.sync.Changes` (a set of paths, a
set of directories to rescan) under a lock, with the time of the first and the last event;
the watcher's loop takes them as batches (see :mod:`sleuth.indexer.watcher`).
"""

# ruff: noqa: PTH100, PTH118, PTH119, PTH120

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from sleuth.indexer.changes import Changes, root_of_watch

RULE_FILES = frozenset({".gitignore", ".sleuthignore"})
MAX_PENDING_PATHS = 100_000  # beyond this a full reconcile is cheaper than a path list


class FsEvent(Protocol):
    """What the collector reads of a ``watchdog.events.FileSystemEvent``."""

    event_type: str
    src_path: bytes | str
    dest_path: bytes | str
    is_directory: bool


class Collector:
    """Turns watchdog events into pending :class:`Changes`; thread-safe.

    An event handler by duck typing (watchdog calls ``dispatch``), so that importing this
    module does not import watchdog: ``sleuth --help`` stays instant.
    """

    def __init__(self, roots: Sequence[str], exclude: str | None = None) -> None:
        self.roots = list(roots)
        self.exclude = exclude
        self._lock = threading.Lock()
        self._pending = Changes()
        self._first = 0.0  # monotonic time of the first pending event, 0 when none
        self._last = 0.0
        self.events = 0  # seen since start, for tests and --debug

    def dispatch(self, event: FsEvent) -> None:
        self.on_any_event(event)

    def on_any_event(self, event: FsEvent) -> None:
        src = os.fsdecode(event.src_path)
        dest = os.fsdecode(event.dest_path) if event.dest_path else ""
        if event.event_type == "moved":
            self._add(src, event.is_directory)
            if dest:
                self._add(dest, event.is_directory)
        elif event.event_type in ("created", "deleted"):
            self._add(src, event.is_directory)
        elif event.event_type in ("modified", "closed") and not event.is_directory:
            # A folder's own "modified" only says an entry changed, which has its own event.
            self._add(src, is_dir=False)

    def _add(self, path: str, is_dir: bool) -> None:
        path = os.path.abspath(path)
        if self.exclude and (path == self.exclude or path.startswith(self.exclude + os.sep)):
            return  # our own index files: reacting to them would loop forever
        if root_of_watch(path, self.roots) is None:
            return  # outside every root (the parent folder of a watched file)
        name = os.path.basename(path)
        if name in RULE_FILES:
            # New ignore rules change what is indexed below their folder.
            self.add(os.path.dirname(path), is_dir=True)
        elif name == "exclude" and path.endswith(os.sep + os.path.join(".git", "info", "exclude")):
            self.add(os.path.dirname(os.path.dirname(os.path.dirname(path))), is_dir=True)
        self.add(path, is_dir=is_dir)

    def add(self, path: str, *, is_dir: bool) -> None:
        now = time.monotonic()
        with self._lock:
            self.events += 1
            pending = self._pending
            if not pending.full:
                (pending.dirs if is_dir else pending.files).add(path)
                if len(pending) > MAX_PENDING_PATHS:
                    pending.files, pending.dirs = set(), set()
                    pending.full, pending.reason = True, "storm"
            if not self._first:
                self._first = now
            self._last = now

    def request_full(self, reason: str) -> None:
        """Ask for a full reconcile with the next batch (after an overflow, an error)."""
        with self._lock:
            if not self._pending.full:
                self._pending.files, self._pending.dirs = set(), set()
                self._pending.full, self._pending.reason = True, reason
            now = time.monotonic()
            if not self._first:
                self._first = now
            self._last = now

    def requeue(self, changes: Changes) -> None:
        """Put back changes that could not be applied, ahead of any debounce."""
        with self._lock:
            changes.merge(self._pending)
            self._pending = changes
            self._first = self._last = time.monotonic() - 3600.0

    def due(self, debounce: float, max_wait: float) -> float | None:
        """Seconds until the pending batch is due (<= 0: now); None when nothing is pending."""
        with self._lock:
            if not self._pending:
                return None
            now = time.monotonic()
            return min(self._last + debounce, self._first + max_wait) - now

    def take(self) -> Changes:
        with self._lock:
            self._first = self._last = 0.0
            return self._pending.take()


class TroubleLog(logging.Handler):
    """Hears what watchdog logs when it loses events (queue overflow) or a watch fails."""

    def __init__(self, collector: Collector, on_warning: Callable[[str], None]) -> None:
        super().__init__(logging.WARNING)
        self.collector = collector
        self.on_warning = on_warning

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        reason = "overflow" if "overflow" in message.lower() else "observer-error"
        self.on_warning(f"file watcher: {message}; reconciling")
        self.collector.request_full(reason)
