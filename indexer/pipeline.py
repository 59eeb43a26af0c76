"""``sleuth index``: discover → diff → extract → chunk → embed → commit, in batches.

Each batch commits catalog rows, lexical postings and vectors together (store.index), so an
interrupted run keeps every batch before the interruption and the next run resumes from there.
This layer never prints: it reports through the ``Reporter`` callbacks.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sleuth.extractors.base import ExtractionError
from sleuth.extractors.pdfium import take_crashes
from sleuth.extractors.registry import extract
from sleuth.indexer.chunking import OVERLAP_TOKENS, Chunk, Chunker
from sleuth.indexer.compact import compact_lexical, needs_compaction
from sleuth.indexer.discovery import DiscoveryOptions, FoundFile, Skipped, walk
from sleuth.indexer.embedder import Embedder
from sleuth.indexer.errors import IndexingError
from sleuth.indexer.junk import JUNK_REASONS
from sleuth.indexer.plan import Candidate, in_scope, make_plan
from sleuth.indexer.shared import SharedCodes
from sleuth.store import codebook
from sleuth.store.index import (
    Batch,
    CommitResult,
    Index,
    Upsert,
    Writer,
    index_exists,
    require_same_model,
)
from sleuth.store.manifest import Manifest, ModelIdentity, StorageMode
from sleuth.store.records import ChunkRecord, FileRecord

EMBED_SLICE = 32  # chunks per embed call: small enough for smooth progress, big enough to pack
# Seconds a run waits for the write lock: long enough to slip between a watcher's commits.
WRITER_PATIENCE = 3.0


@dataclass(frozen=True, slots=True)
class Progress:
    files_done: int
    files_total: int
    chunks_done: int
    path: str = ""


@dataclass(slots=True)
class Summary:
    files_indexed: int = 0
    files_unchanged: int = 0
    files_skipped: int = 0
    files_removed: int = 0
    files_moved: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_reused: int = 0  # of chunks_added: unchanged text, code kept instead of embedded
    chunks_shared: int = 0  # of chunks_reused: same model input as another chunk, code copied
    bytes_indexed: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    pdf_engine_crashes: int = 0  # PDFs whose native engine died or hung (read by pypdf instead)
    skipped: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "files_indexed": self.files_indexed,
            "files_unchanged": self.files_unchanged,
            "files_skipped": self.files_skipped,
            "files_removed": self.files_removed,
            "files_moved": self.files_moved,
            "chunks_added": self.chunks_added,
            "chunks_removed": self.chunks_removed,
            "chunks_reused": self.chunks_reused,
            "chunks_shared": self.chunks_shared,
            "bytes_indexed": self.bytes_indexed,
            "skipped": dict(sorted(self.skipped.items())),
            "seconds": round(self.seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
            "pdf_engine_crashes": self.pdf_engine_crashes,
        }


@dataclass(frozen=True, slots=True)
class Reporter:
    on_progress: Callable[[Progress], None] = lambda _p: None
    on_warning: Callable[[str], None] = lambda _m: None
    on_plan: Callable[[int], None] = lambda _n: None
    should_stop: Callable[[], bool] = lambda: False


@dataclass(frozen=True, slots=True)
class IndexSettings:
    storage: StorageMode | None = None  # None: "compact" for a new index, as is for an old one
    discovery: DiscoveryOptions = field(default_factory=DiscoveryOptions)
    commit_chunks: int = 256


def _storage_for(model: ModelIdentity, asked: StorageMode | None) -> tuple[StorageMode, str]:
    """(mode, codebook sha256) for a new index: compact when the model has a codebook.

    A custom model has none, so it gets the sign-bit mode unless another was asked for."""
    book = codebook.shipped(model.sha256) if asked in (None, "compact") else None
    if book is not None:
        return "compact", book.sha256
    if asked == "compact":
        raise IndexingError(
            f"compact storage needs a codebook for {model.describe()}; "
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

    try:
        found = list(walk(root_names, settings.discovery, skip))
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


KnownCodes = Callable[[str], dict[tuple[bytes, str], bytes]]


def prepare_batches(
    todo: Sequence[Candidate],
    embedder: Embedder,
    settings: IndexSettings,
    reporter: Reporter,
    summary: Summary,
    known_codes: KnownCodes | None = None,
    shared: SharedCodes | None = None,
) -> Iterator[Batch]:
    """Extract, chunk and embed ``todo``; yield upsert batches of about ``commit_chunks``.

    ``known_codes(path)`` gives the codes a file's chunks have now, by (text hash, context):
    after an edit only the chunks whose text changed are embedded again (delta indexing).
    ``shared`` finds chunks whose model input is already embedded elsewhere (in the index or
    earlier in the run); within a batch each distinct input is embedded once.

    Nothing here touches the index: the caller commits each batch (and adds its
    ``CommitResult`` with :func:`count_commit`) before asking for the next. A file that cannot
    be extracted is reported through ``reporter`` and left out. Stops early, between files,
    once ``reporter.should_stop()`` says so; what was prepared so far is still yielded.
    """
    chunker = Chunker(embedder.tokenize, embedder.max_tokens)
    pending: Pending = []
    pending_chunks = 0
    done = 0

    def reusable(path: str, chunks: list[Chunk]) -> dict[int, bytes]:
        old = known_codes(path) if known_codes is not None else {}
        found = {i: old.get((c.text_hash, c.context)) for i, c in enumerate(chunks)}
        return {i: code for i, code in found.items() if code is not None}

    def embed_pending() -> Batch:
        if shared is not None:
            _share(pending, shared, summary)
        texts = [
            c.embed_text
            for _, chunks, reused, _ in pending
            for i, c in enumerate(chunks)
            if i not in reused
        ]
        position = {text: n for n, text in enumerate(dict.fromkeys(texts))}
        unique = list(position)
        summary.chunks_reused += len(texts) - len(unique)
        summary.chunks_shared += len(texts) - len(unique)
        vectors = np.zeros((len(texts), 0), np.float32)
        parts = []
        for start in range(0, len(unique), EMBED_SLICE):
            t0 = time.perf_counter()
            parts.append(embedder.embed(unique[start : start + EMBED_SLICE]))
            summary.embed_seconds += time.perf_counter() - t0
            reporter.on_progress(
                Progress(done, len(todo), summary.chunks_added + start + len(parts[-1]))
            )
        if parts:
            vectors = np.concatenate(parts, axis=0)[[position[text] for text in texts]]
        batch = Batch()
        offset = 0
        for record, chunks, reused, derived in pending:
            records = [_record(i, c) for i, c in enumerate(chunks)]
            fresh = len(chunks) - len(reused)
            mine = vectors[offset : offset + fresh]
            offset += fresh
            summary.chunks_reused += len(reused)
            texts = [c.embed_text for c in chunks]
            upsert = Upsert(record, records, texts, mine, reused, derived)
            batch.upserts.append(upsert)
            if shared is not None:
                shared.remember(chunks, upsert.codes(shared.coder))
        return batch

    for cand in todo:
        if reporter.should_stop():
            break
        item = cand.found
        try:
            doc = extract(item.path)
        except ExtractionError as exc:
            _note_engine_crashes(summary, reporter)
            note_skip(summary, reporter, item.path, extraction_reason(exc), str(exc))
            done += 1
            continue
        _note_engine_crashes(summary, reporter)
        chunks = chunker.split(doc, label=item.path.name)
        record = _file_record(item, cand, doc.kind, doc.verbatim, doc.title)
        reused = reusable(str(item.path), chunks)
        # Derived text is kept so that queries never extract (see indexer.source).
        pending.append((record, chunks, reused, None if doc.verbatim else doc.text))
        pending_chunks += len(chunks) - len(reused)
        summary.bytes_indexed += item.size
        done += 1
        reporter.on_progress(Progress(done, len(todo), summary.chunks_added, str(item.path)))
        if pending_chunks >= settings.commit_chunks:
            yield embed_pending()
            pending, pending_chunks = [], 0
    if pending:
        yield embed_pending()


# (file, chunks, reused codes, derived text to store: None for a verbatim file)
Pending = list[tuple[FileRecord, list[Chunk], dict[int, bytes], str | None]]


def _share(pending: Pending, shared: SharedCodes, summary: Summary) -> None:
    """Mark the chunks of ``pending`` whose model input is already embedded as reused."""
    todo = [
        (p, i)
        for p, (_, chunks, reused, _) in enumerate(pending)
        for i in range(len(chunks))
        if i not in reused
    ]
    found = shared.find([pending[p][1][i] for p, i in todo])
    for n, code in found.items():
        p, i = todo[n]
        pending[p][2][i] = code
    summary.chunks_shared += len(found)


def _note_engine_crashes(summary: Summary, reporter: Reporter) -> None:
    for crash in take_crashes():
        summary.pdf_engine_crashes += 1
        reporter.on_warning(f"PDF engine failed on {crash}; read with pypdf instead")


def count_commit(summary: Summary, batch: Batch, result: CommitResult) -> None:
    """Add a committed batch to ``summary``."""
    summary.chunks_added += result.chunks_added
    summary.chunks_removed += result.chunks_removed
    summary.files_indexed += len(batch.upserts)


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
    for batch in prepare_batches(todo, embedder, settings, reporter, summary, known, shared):
        count_commit(summary, batch, writer.commit(batch))


# Skips that are expected in any real folder: counted, but not worth a warning line each.
# Junk (lockfiles, minified, generated, ...) is left out by design and summed up at the end.
QUIET_SKIPS = frozenset({"binary", "empty", "duplicate", "symlink"}) | JUNK_REASONS


def extraction_reason(exc: ExtractionError) -> str:
    """The skip reason for a failed extraction: an I/O cause is named as such."""
    cause = exc.__cause__
    if isinstance(cause, FileNotFoundError):
        return "vanished"
    if isinstance(cause, OSError):
        return "unreadable"
    return "encrypted" if "encrypted" in str(exc).lower() else "extract-error"


def note_skip(summary: Summary, reporter: Reporter, path: Path, reason: str, detail: str) -> None:
    if reason in ("ignored", "hidden"):
        return  # by design, not a problem worth counting
    summary.files_skipped += 1
    summary.skipped[reason] += 1
    if reason not in QUIET_SKIPS:
        reporter.on_warning(f"skipped {path}: {reason}" + (f" ({detail})" if detail else ""))


def _file_record(
    item: FoundFile, cand: Candidate, kind: str, verbatim: bool, title: str
) -> FileRecord:
    return FileRecord(
        path=str(item.path),
        root=cand.root,
        kind=kind,
        size=item.size,
        mtime_ns=item.mtime_ns,
        sha256=cand.sha256,
        verbatim=verbatim,
        title=title,
    )


def _record(ordinal: int, chunk: Chunk) -> ChunkRecord:
    return ChunkRecord(
        ordinal=ordinal,
        start=chunk.start,
        end=chunk.end,
        line_start=chunk.line_start,
        line_end=chunk.line_end,
        page=chunk.page,
        context=chunk.context,
        tokens=chunk.tokens,
        text_hash=chunk.text_hash,
    )
