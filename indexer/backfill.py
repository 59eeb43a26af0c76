"""Embedding the chunks that were committed without a code: text first, vectors after.

``sleuth index`` commits every file's catalog rows and lexical postings before it embeds
anything (``prepare_batches(defer=True)``), so a first index of a big folder answers lexical
queries within seconds of starting instead of after the last embedding, and hybrid search
uses the vectors that are ready. This pass then reads each waiting chunk's text back the way a
query does (verbatim files from disk, derived text from the store, both checked against the
chunk's text hash), embeds them in id order and commits their codes slice by slice. A file
that changed in between keeps its chunks waiting until the next run re-indexes it; an
interrupted run leaves the rest waiting, and the next ``index`` or ``watch`` continues.

The same model input is embedded once per pass (a vendored copy, a licence header), keyed by
a 16-byte digest so that the memory stays small for big runs.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sleuth.indexer.chunking import chunk_input
from sleuth.indexer.embedder import Embedder
from sleuth.indexer.source import read_texts
from sleuth.store.codes import PENDING
from sleuth.store.index import Index

SLICE_CHUNKS = 256  # chunks per commit of codes: a few seconds of embedding on 2 cores
EMBED_SLICE = 32  # chunks per embed call: smooth progress, still packed batches
RUN_LIMIT = 500_000  # model inputs remembered in one pass (~60 bytes each), then no more


@dataclass(frozen=True, slots=True)
class Embedding:
    """Where the pass is, counted in tokens: what the model's time is proportional to."""

    tokens_done: int
    tokens_total: int
    chunks_done: int
    chunks_total: int


@dataclass(slots=True)
class Filled:
    chunks: int = 0  # given a code
    shared: int = 0  # of ``chunks``: same model input as another chunk of the pass
    waiting: int = 0  # left without one (file changed since, or the pass was stopped)
    embed_seconds: float = 0.0


# Commits codes for (chunk id, code) pairs; returns how many chunks took one
# (``Writer.fill_codes``, under a lock held for the run or taken per slice).
Fill = Callable[[Sequence[tuple[int, bytes]]], int]


def waiting_tokens(index: Index) -> tuple[int, int]:
    """(chunks, tokens) waiting for a code."""
    row = index.catalog.db.execute(
        f"SELECT count(*), coalesce(sum(tokens), 0) FROM chunks WHERE {PENDING}"
    ).fetchone()
    return int(row[0]), int(row[1])


def backfill(
    index: Index,
    fill: Fill,
    embedder: Embedder,
    on_progress: Callable[[Embedding], None] = lambda _e: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Filled:
    """Embed every chunk waiting for a code; stops between slices once ``should_stop``."""
    catalog = index.catalog
    coder = index.coder
    ids = catalog.pending_ids()
    filled = Filled()
    if not ids:
        return filled
    chunks_total, tokens_total = waiting_tokens(index)
    tokens_done = 0
    on_progress(Embedding(0, tokens_total, 0, chunks_total))  # the clock starts here
    seen: dict[bytes, bytes] = {}
    for start in range(0, len(ids), SLICE_CHUNKS):
        if should_stop():
            break
        rows = catalog.chunks(ids[start : start + SLICE_CHUNKS])
        slice_end = tokens_done + sum(c.chunk.tokens for c in rows.values())
        inputs: dict[int, bytes] = {}  # chunk id -> digest of its model input
        todo: dict[bytes, tuple[str, int]] = {}  # digest -> (model input, tokens) to embed
        for chunk_id, found in read_texts(catalog, rows.values()).items():
            if found.text is None:
                continue  # changed since it was committed: the next run re-indexes the file
            text = chunk_input(found.chunk, found.text)
            digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
            inputs[chunk_id] = digest
            if digest not in seen:
                todo.setdefault(digest, (text, found.chunk.chunk.tokens))
        keys = list(todo)
        fresh: dict[bytes, bytes] = {}
        for at in range(0, len(keys), EMBED_SLICE):
            part = keys[at : at + EMBED_SLICE]
            t0 = time.perf_counter()
            vectors = embedder.embed([todo[k][0] for k in part])
            filled.embed_seconds += time.perf_counter() - t0
            codes = coder.encode(np.asarray(vectors, np.float32))
            fresh.update(zip(part, (bytes(c) for c in codes), strict=True))
            tokens_done += sum(todo[k][1] for k in part)
            embedded = filled.chunks + len(fresh)  # this slice's so far, not yet committed
            on_progress(Embedding(tokens_done, tokens_total, embedded, chunks_total))
        pairs = [(i, fresh[d] if d in fresh else seen[d]) for i, d in inputs.items()]
        for digest, code in fresh.items():
            if len(seen) >= RUN_LIMIT:
                break
            seen[digest] = code
        filled.chunks += fill(pairs)
        filled.shared += len(pairs) - len(keys)
        tokens_done = slice_end  # the chunks that shared a code or changed count as done
        on_progress(Embedding(tokens_done, tokens_total, filled.chunks, chunks_total))
    filled.waiting = catalog.pending_count()
    return filled
