"""Files to commit batches: extract, chunk, reuse the codes that still fit, embed (or defer).

This is the part of a run that reads files; :mod:`sleuth.indexer.pipeline` and the watcher
(:mod:`sleuth.indexer.sync`) commit what it yields.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from sleuth.extractors.base import ExtractionError
from sleuth.extractors.pdfium import take_crashes
from sleuth.extractors.registry import extract
from sleuth.indexer.chunking import Chunk, Chunker
from sleuth.indexer.discovery import FoundFile
from sleuth.indexer.embedder import Embedder
from sleuth.indexer.plan import Candidate
from sleuth.indexer.runinfo import (
    IndexSettings,
    Progress,
    Reporter,
    Summary,
    extraction_reason,
    note_skip,
)
from sleuth.indexer.shared import SharedCodes
from sleuth.store.index import Batch, Upsert
from sleuth.store.records import ChunkRecord, FileRecord

EMBED_SLICE = 32  # chunks per embed call: small enough for smooth progress, big enough to pack


KnownCodes = Callable[[str], dict[tuple[bytes, str], bytes]]


def prepare_batches(
    todo: Sequence[Candidate],
    embedder: Embedder,
    settings: IndexSettings,
    reporter: Reporter,
    summary: Summary,
    known_codes: KnownCodes | None = None,
    shared: SharedCodes | None = None,
    *,
    defer: bool = False,
) -> Iterator[Batch]:
    """Extract, chunk and embed ``todo``; yield upsert batches of about ``commit_chunks``.

    ``known_codes(path)`` gives the codes a file's chunks have now, by (text hash, context):
    after an edit only the chunks whose text changed are embedded again (delta indexing).
    ``shared`` finds chunks whose model input is already embedded elsewhere (in the index or
    earlier in the run); within a batch each distinct input is embedded once.

    With ``defer``, nothing is embedded: chunks without a reusable code are committed
    without one, for :func:`sleuth.indexer.backfill.backfill` to embed after every file's
    text is searchable.

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
        if defer:
            return _deferred(pending, summary)
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


def _deferred(pending: Pending, summary: Summary) -> Batch:
    batch = Batch()
    for record, chunks, reused, derived in pending:
        records = [_record(i, c) for i, c in enumerate(chunks)]
        texts = [c.embed_text for c in chunks]
        empty = np.zeros((0, 0), np.float32)
        batch.upserts.append(Upsert(record, records, texts, empty, reused, derived, deferred=True))
        summary.chunks_reused += len(reused)
    return batch


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
