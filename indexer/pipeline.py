"""``sleuth index``: discover → diff → extract → chunk → commit text → embed → commit codes.

Each batch commits catalog rows and lexical postings together (store.index), first with the
codes it can reuse and the rest left waiting; once every file's text is in, the waiting chunks
are embedded and their codes committed slice by slice (indexer.backfill). So lexical search
answers within seconds of a first run's start, an interrupted run keeps every batch before the
interruption, and the next run resumes from there. The watcher embeds in the same batch
(``prepare_batches`` without ``defer``): its batches are small. This layer never prints: it
reports through the ``Reporter`` callbacks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from sleuth.indexer.backfill import backfill
from sleuth.indexer.batches import prepare_batches as prepare_batches
from sleuth.indexer.chunking import OVERLAP_TOKENS
from sleuth.indexer.compact import compact_lexical, needs_compaction
from sleuth.indexer.discovery import Skipped, walk
from sleuth.indexer.embedder import Embedder
from sleuth.indexer.errors import IndexingError
from sleuth.indexer.known import known_files, note_rules
from sleuth.indexer.plan import Candidate, in_scope, make_plan
from sleuth.indexer.runinfo import QUIET_SKIPS as QUIET_SKIPS
from sleuth.indexer.runinfo import IndexSettings as IndexSettings
from sleuth.indexer.runinfo import Progress as Progress
from sleuth.indexer.runinfo import Reporter as Reporter
from sleuth.indexer.runinfo import Summary as Summary
from sleuth.indexer.runinfo import count_commit as count_commit
from sleuth.indexer.runinfo import count_filled as count_filled
from sleuth.indexer.runinfo import extraction_reason as extraction_reason
from sleuth.indexer.runinfo import note_skip as note_skip
from sleuth.indexer.shared import SharedCodes
from sleuth.store import codebook
from sleuth.store.index import Batch, Index, Writer, index_exists, require_same_model
from sleuth.store.manifest import (
    CODEBOOK_MODES,
    OPTIONAL_CODEBOOK_MODES,
    Manifest,
    ModelIdentity,
    StorageMode,
)

# A new index's storage when none is asked for: the first whose codebook ships with the model.
# fast over compact: a first answer in ~0.7 s instead of ~1.6 s for 0.16x more of the corpus's
# size on disk (README, "Size and speed").
DEFAULT_STORAGE: tuple[StorageMode, ...] = ("fast", "compact")

# Seconds a run waits for the write lock: long enough to slip between a watcher's commits.
WRITER_PATIENCE = 3.0


def _storage_for(model: ModelIdentity, asked: StorageMode | None) -> tuple[StorageMode, str]:
    """(mode, codebook sha256) for a new index: fast (else compact) when the model ships the
    codebook.

    A custom model has none, so it gets the sign-bit mode unless another was asked for."""
    coded = (*CODEBOOK_MODES, *OPTIONAL_CODEBOOK_MODES)
    for mode in [asked] if asked else DEFAULT_STORAGE:
        book = codebook.shipped(model.sha256, mode) if mode in coded else None
        if book is not None:
            return mode, book.sha256
    if asked in CODEBOOK_MODES:
        raise IndexingError(
            f"{asked} storage needs a codebook for {model.describe()}; "
            "use --storage minimal or --storage full"
        )
    return asked or "minimal", ""


def open_for_writing(directory: Path, embedder: Embedder, storage: StorageMode | None) -> Index:
    if index_exists(directory):
        index = Index.open(directory, readonly=False)
        require_same_model(index, Manifest(model=embedder.identity))
        if storage is not None and storage != index.manifest.storage:
            index.close()
            raise IndexingError(
                f"this index uses {index.manifest.storage} storage, fixed when it was created; "
                f"use --index NAME for a new {storage} index"
            )
        return index
    mode, book = _storage_for(embedder.identity, storage)
    manifest = Manifest(
        model=embedder.identity,
        storage=mode,
        codebook=book,
        max_tokens=embedder.max_tokens,
        overlap_tokens=OVERLAP_TOKENS,
    )
    if index_exists(directory):
        index = Index.open(directory, readonly=False)
        require_same_model(index, manifest)
        if storage is not None and storage != index.manifest.storage:
            index.close()
            raise IndexingError(
                f"this index uses {index.manifest.storage} storage, fixed when it was created; "
                f"use --index NAME for a new {storage} index"
            )
    return Index.create(directory, manifest)


def run_index(
    directory: Path,
    roots: Sequence[Path],
    embedder: Embedder,
    settings: IndexSettings | None = None,
    reporter: Reporter | None = None,
) -> Summary:
    settings = settings or IndexSettings()
    reporter = reporter or Reporter()
    started = time.perf_counter()
    summary = Summary()
    root_names = [str(Path(r).absolute()) for r in roots]

    unreadable: list[str] = []

    def skip(item: Skipped) -> None:
        if item.reason == "unreadable":
            unreadable.append(str(item.path))
        note_skip(summary, reporter, item.path, item.reason, item.detail)

    known = None
    if index_exists(directory):
        with Index.open(directory) as current:
            known = known_files(current.catalog, settings.discovery)
    try:
        found = list(walk(root_names, settings.discovery, skip, known))
    except FileNotFoundError as exc:
        raise IndexingError(f"path does not exist: {exc.filename or exc}") from None
    # Never index the index itself (a project's .sleuth/ with --hidden, SLEUTH_HOME in a root).
    own = str(directory.absolute())
    found = [f for f in found if not in_scope(str(f.path), [own])]

    index = open_for_writing(directory, embedder, settings.storage)
    try:
        with index.writer(timeout=WRITER_PATIENCE) as writer:
            plan = make_plan(found, index.catalog.files(), root_names, keep=unreadable)
            for path, reason in plan.unreadable:
                skip(Skipped(path, "unreadable", reason))
            summary.files_unchanged = plan.unchanged
            first = Batch(removals=plan.removals, moves=plan.moves, touches=plan.touch)
            result = writer.commit(first)
            summary.files_removed = len(plan.removals)
            summary.files_moved = len(plan.moves)
            summary.chunks_removed += result.chunks_removed
            reporter.on_plan(len(plan.index))
            _index_files(writer, plan.index, embedder, settings, reporter, summary)
            # The plan's removals (files these rules now skip) committed first, even if stopped.
            note_rules(index.catalog, settings.discovery)
            filled = backfill(
                index, writer.fill_codes, embedder, reporter.on_embedding, reporter.should_stop
            )
            count_filled(summary, filled)
            if needs_compaction(index):
                compact_lexical(index)
            _tidy(index, summary)
    finally:
        index.close()
    summary.seconds = time.perf_counter() - started
    return summary


# Merging the lexical index rewrites all of it: worth it after a build or a large change,
# not after a one-file edit of a big index, where freeing pages is enough.
TIDY_SHARE = 0.1


def _tidy(index: Index, summary: Summary) -> None:
    changed = summary.chunks_added + summary.chunks_removed
    if changed and changed >= TIDY_SHARE * index.catalog.counts()[1]:
        index.catalog.tidy()
    elif changed or summary.files_removed:
        index.catalog.release_free_pages()


def _index_files(
    writer: Writer,
    todo: list[Candidate],
    embedder: Embedder,
    settings: IndexSettings,
    reporter: Reporter,
    summary: Summary,
) -> None:
    index = writer.index
    known = index.catalog.codes_of_file
    shared = SharedCodes(index.catalog, index.coder)
    batches = prepare_batches(
        todo, embedder, settings, reporter, summary, known, shared, defer=True
    )
    for batch in batches:
        count_commit(summary, batch, writer.commit(batch))
