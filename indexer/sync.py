"""Bring an index up to date for a set of changed paths: ``sleuth index``'s diff, scoped.

The watcher hands over :class:`Changes` (paths that may have changed, directories whose whole
subtree must be looked at again, or "everything"). :func:`scan` finds what is on disk there now
with discovery's own rules (``walk`` for subtrees, ``check_path`` + ``classify`` for single
paths); the catalog rows in the same scope are diffed against it by ``plan.make_plan``, exactly
as ``sleuth index`` does for whole roots. So a move is recognised by its content hash and keeps
its chunks and vectors, a touched file is only re-stamped, and a vanished one is removed.

Locking: the plan is made from a read snapshot and the files are extracted, chunked and
embedded *without* the write lock; the lock is taken only to commit each prepared batch, so a
manual ``sleuth index`` can run between batches and searches never wait on embedding. The
commit checks that the index's generation is still the one the plan was made against; if
another writer committed in between, :class:`Conflict` is raised and the caller retries the
same changes against the new state (the embedding work for that batch is lost, nothing else).
"""

# Paths are plain strings, as discovery yields them.
# ruff: noqa: PTH112, PTH114, PTH115, PTH120

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sleuth.indexer.backfill import backfill
from sleuth.indexer.changes import Changes as Changes
from sleuth.indexer.changes import root_of_watch as root_of_watch
from sleuth.indexer.changes import under
from sleuth.indexer.compact import compact_lexical, needs_compaction
from sleuth.indexer.discovery import (
    DiscoveryOptions,
    FoundFile,
    Skipped,
    check_path,
    classify,
    walk,
)
from sleuth.indexer.embedder import Embedder
from sleuth.indexer.known import known_files, note_rules
from sleuth.indexer.pipeline import (
    IndexSettings,
    Reporter,
    Summary,
    count_commit,
    count_filled,
    note_skip,
    prepare_batches,
)
from sleuth.indexer.plan import Plan, in_scope, make_plan
from sleuth.indexer.shared import SharedCodes
from sleuth.indexer.walker import Unchanged
from sleuth.store.errors import IndexLockedError
from sleuth.store.index import Batch, CommitResult, Index

LOCK_RETRY_SECONDS = 0.2


class Conflict(Exception):
    """Another writer committed between planning and committing; plan again."""


class Stopped(Exception):
    """A stop was requested while waiting for the write lock; the batch was not committed."""


class RootGone(Exception):
    """A watched root no longer exists."""

    def __init__(self, root: str) -> None:
        super().__init__(f"watched path disappeared: {root}")
        self.root = root


@dataclass(slots=True)
class Scan:
    """What is on disk now in the scope of some changes."""

    found: list[FoundFile]
    in_scope: Callable[[str], bool]
    paths: frozenset[str] | None = None  # the whole scope when it is only these paths


def scan(
    changes: Changes,
    roots: Sequence[str],
    options: DiscoveryOptions,
    on_skip: Callable[[Skipped], None],
    exclude: str | None = None,
    known: Unchanged | None = None,
) -> Scan:
    """The indexable files in the scope of ``changes``, judged as ``walk(roots)`` would.

    ``exclude`` is a directory never to index (the index's own folder); ``known`` spares a
    full walk's unchanged files their content checks (see ``sleuth.indexer.known``).
    """
    for top in roots:
        if not os.path.lexists(top):
            raise RootGone(top)
    if changes.full:
        walked = walk(roots, options, on_skip, known)
        found = [f for f in walked if not _excluded(str(f.path), exclude)]
        return Scan(found, lambda p: in_scope(p, roots) and not _excluded(p, exclude))
    dirs = _outermost(d for d in changes.dirs if root_of_watch(d, roots) is not None)
    files = {f for f in changes.files if not under(f, dirs)}
    seen: dict[str, FoundFile] = {}
    for directory in sorted(dirs):
        if os.path.lexists(directory) and not os.path.isdir(directory):
            files.add(directory)  # a folder replaced by a file since the event
            continue
        for item in _scan_dir(directory, roots, options, on_skip):
            seen.setdefault(str(item.path), item)
    for path in sorted(files):
        root = root_of_watch(path, roots)
        if root is None:
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            # The name now holds a directory (a file replaced by a folder): look inside.
            dirs = dirs | {path}
            for item in _scan_dir(path, roots, options, on_skip):
                seen.setdefault(str(item.path), item)
            continue
        result = _scan_file(path, root, options)
        if isinstance(result, FoundFile):
            seen.setdefault(path, result)
        elif result is not None and result.reason != "vanished":
            on_skip(result)
    frozen_files = frozenset(files)
    prefixes = tuple(d.rstrip(os.sep) + os.sep for d in dirs)
    exact = frozenset(dirs) | frozen_files

    def scoped(p: str) -> bool:
        return (
            (p in exact or (bool(prefixes) and p.startswith(prefixes)))
            and in_scope(p, roots)
            and not _excluded(p, exclude)
        )

    found = [item for path, item in seen.items() if not _excluded(path, exclude)]
    return Scan(found, scoped, None if dirs else frozen_files)


def _excluded(path: str, exclude: str | None) -> bool:
    return exclude is not None and (path == exclude or path.startswith(exclude + os.sep))


def _outermost(dirs: Iterable[str]) -> set[str]:
    """``dirs`` without the ones that lie under another of them."""
    kept: set[str] = set()
    for d in sorted(set(dirs), key=len):
        if not under(d, kept):
            kept.add(d)
    return kept


def _scan_file(path: str, root: str, options: DiscoveryOptions) -> FoundFile | Skipped | None:
    """One path as ``walk(root)`` would judge it; None when ``walk`` would not even look."""
    if path != root and check_path(path, root, options, is_dir=False) is not None:
        return None
    if not options.follow_symlinks and path != root:
        if _linked_parent(path, root):
            return None
        if os.path.islink(path):
            return Skipped(Path(path), "symlink", f"to {_readlink(path)}")
    return classify(path, options)


def _linked_parent(path: str, root: str) -> bool:
    """Whether a folder between ``root`` (exclusive) and ``path`` is a symlink.

    ``walk`` does not enter such a folder unless it follows links.
    """
    current = os.path.dirname(path)
    while current != root and len(current) > len(root):
        if os.path.islink(current):
            return True
        current = os.path.dirname(current)
    return False


def _scan_dir(
    directory: str,
    roots: Sequence[str],
    options: DiscoveryOptions,
    on_skip: Callable[[Skipped], None],
) -> Iterable[FoundFile]:
    """The files ``walk(root)`` yields below ``directory``: nothing if it is pruned or gone."""
    root = root_of_watch(directory, roots)
    if root is None:
        return []
    if directory != root:
        if check_path(directory, root, options, is_dir=True) is not None:
            return []
        if not options.follow_symlinks and (
            os.path.islink(directory) or _linked_parent(directory, root)
        ):
            return []
    if not os.path.isdir(directory):
        return []
    try:
        found = list(walk([directory], options, on_skip))
    except FileNotFoundError:
        return []
    if directory == root:
        return found
    # walk() started at ``directory`` knows nothing of the ignore files above it.
    return [f for f in found if check_path(f.path, root, options, is_dir=False) is None]


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


class Syncer:
    """Applies :class:`Changes` to one open index with one embedder."""

    def __init__(
        self,
        index: Index,
        roots: Sequence[str],
        embedder: Embedder,
        settings: IndexSettings,
        reporter: Reporter,
    ) -> None:
        self.index = index
        self.roots = list(roots)
        self.embedder = embedder
        self.settings = settings
        self.reporter = reporter
        self.exclude = str(index.directory.absolute())
        # For the watcher's life: chunks committed since it loaded are in its run memory.
        self.shared = SharedCodes(index.catalog, index.coder)

    def apply(self, changes: Changes) -> Summary:
        """Make the index match the disk in the scope of ``changes``.

        Raises :class:`Conflict` (nothing of this call committed after the conflict: retry
        with the same changes), :class:`Stopped` or :class:`RootGone`.
        """
        started = time.perf_counter()
        summary = Summary()
        unreadable: list[str] = []

        def skip(item: Skipped) -> None:
            if item.reason == "unreadable":
                unreadable.append(str(item.path))
            note_skip(summary, self.reporter, item.path, item.reason, item.detail)

        catalog = self.index.catalog
        options = self.settings.discovery
        stamps = known_files(catalog, options) if changes.full else None
        found = scan(changes, self.roots, options, skip, self.exclude, stamps)
        with self.index.snapshot():
            generation = self.index.generation
            if found.paths is not None:  # single paths: look them up, not the whole catalog
                rows = ((p, catalog.file(p)) for p in found.paths if found.in_scope(p))
                known = {p: r for p, r in rows if r is not None}
            else:
                known = {p: r for p, r in catalog.files().items() if found.in_scope(p)}
        # As in `sleuth index`: what cannot be read now is not deleted; it keeps its entry.
        plan = make_plan(found.found, known, self.roots, keep=unreadable)
        for path, reason in plan.unreadable:
            skip(Skipped(path, "unreadable", reason))
        summary.files_unchanged = plan.unchanged
        generation = self._commit_plan(plan, generation, summary)
        if changes.full:
            with contextlib.suppress(IndexLockedError), self.index.writer():
                note_rules(catalog, options)  # when locked: by a later reconcile
        summary.seconds = time.perf_counter() - started
        return summary

    def embed_waiting(self, summary: Summary) -> None:
        """Embed the chunks an interrupted ``sleuth index`` committed without codes, taking
        the write lock per slice so that a manual run can still get in between."""

        def fill(pairs: Sequence[tuple[int, bytes]]) -> int:
            while True:
                try:
                    with self.index.writer() as writer:
                        return writer.fill_codes(pairs)
                except IndexLockedError:
                    if self.reporter.should_stop():
                        raise Stopped from None
                    time.sleep(LOCK_RETRY_SECONDS)

        reporter = self.reporter
        filled = backfill(
            self.index, fill, self.embedder, reporter.on_embedding, reporter.should_stop
        )
        count_filled(summary, filled)

    def _commit_plan(self, plan: Plan, generation: int, summary: Summary) -> int:
        first: Batch | None = Batch(removals=plan.removals, moves=plan.moves, touches=plan.touch)
        batches = prepare_batches(
            plan.index,
            self.embedder,
            self.settings,
            self.reporter,
            summary,
            self.index.catalog.codes_of_file,
            self.shared,
        )
        for upserts in batches:
            if first is not None:
                upserts.removals, upserts.moves, upserts.touches = (
                    first.removals,
                    first.moves,
                    first.touches,
                )
                first = None
            generation, result = self._commit(upserts, generation)
            self._count_first(upserts, summary)
            count_commit(summary, upserts, result)
        if first:
            generation, result = self._commit(first, generation)
            self._count_first(first, summary)
            count_commit(summary, first, result)
        return generation

    @staticmethod
    def _count_first(batch: Batch, summary: Summary) -> None:
        summary.files_removed += len(batch.removals)
        summary.files_moved += len(batch.moves)

    def _commit(self, batch: Batch, generation: int) -> tuple[int, CommitResult]:
        """Commit ``batch`` under the write lock if nobody else wrote since ``generation``."""
        while True:
            try:
                with self.index.writer() as writer:
                    if self.index.generation != generation:
                        raise Conflict(
                            f"index changed (generation {generation} → "
                            f"{self.index.generation}) while a batch was being prepared"
                        )
                    result = writer.commit(batch)
                    if result.chunks_removed and needs_compaction(self.index):
                        # Edits leave tombstones in the lexical table; a long-running
                        # watcher must clear them itself.
                        compact_lexical(self.index)
                    if result.chunks_removed:
                        self.index.catalog.release_free_pages()
                    return self.index.generation, result
            except IndexLockedError:
                # A manual `sleuth index` is running: wait for it, unless asked to stop.
                if self.reporter.should_stop():
                    raise Stopped from None
                time.sleep(LOCK_RETRY_SECONDS)
