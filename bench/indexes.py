"""The cached benchmark indexes and the exact (brute-force f32) baseline over their chunks.

Indexes live under ``bench/_data/home/indexes/<corpus>-<storage>`` (so the CLI reaches them
with ``SLEUTH_HOME=bench/_data/home --index <corpus>-<storage>``). They are built in-process
by ``sleuth.indexer.pipeline.run_index`` with a ``RecordingEmbedder`` and brought up to date
on every use: the pipeline is incremental, so an unchanged corpus costs one walk and a stat
per file, and an interrupted build resumes where it stopped.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

import sleuth.indexer.chunking as chunking
from bench.common import HOME_DIR, log
from bench.corpora import Corpus
from bench.embeddings import FloatArray, RecordingEmbedder
from bench.snapshot import fingerprint as code_fingerprint
from sleuth.indexer.pipeline import IndexSettings, run_index
from sleuth.indexer.search import Searcher
from sleuth.indexer.source import read_texts
from sleuth.store.cache import VectorCache
from sleuth.store.errors import StoreError
from sleuth.store.index import Index, check_consistency
from sleuth.store.manifest import StorageMode
from sleuth.store.paths import validate_name
from sleuth.store.records import StoredChunk

BUILD_STAMP = "bench-code-fingerprint"


def index_name(corpus: Corpus, storage: StorageMode) -> str:
    return validate_name(f"{corpus.name}-{storage}")


def index_dir(corpus: Corpus, storage: StorageMode) -> Path:
    return HOME_DIR / "indexes" / index_name(corpus, storage)


def ensure_index(corpus: Corpus, storage: StorageMode, embedder: RecordingEmbedder) -> Path:
    """Build or update the cached index of ``corpus``; returns its directory.

    An index built by other sleuth code is deleted and rebuilt (cheap: every embedding comes
    from the store), so figures always describe the code in the working tree.
    """
    directory = index_dir(corpus, storage)
    stamp = directory / BUILD_STAMP
    fingerprint = code_fingerprint()
    if directory.exists() and (
        not stamp.exists() or stamp.read_text(encoding="utf-8") != fingerprint
    ):
        log(f"index {directory.name}: sleuth's code changed since it was built; rebuilding")
        shutil.rmtree(directory)
    before = embedder.embedded
    settings = IndexSettings(storage=storage)
    try:
        summary = run_index(directory, [corpus.root], embedder, settings)
    except StoreError as exc:  # e.g. an index schema this sleuth no longer reads
        log(f"index {directory.name}: {exc}; rebuilding")
        shutil.rmtree(directory)
        summary = run_index(directory, [corpus.root], embedder, settings)
    embedder.save()
    changed = summary.files_indexed + summary.files_removed + summary.files_moved
    if changed:
        log(
            f"index {directory.name}: {summary.files_indexed} files indexed, "
            f"{summary.files_unchanged} unchanged, {summary.files_removed} removed, "
            f"{summary.chunks_added} chunks, {embedder.embedded - before} new embeddings, "
            f"{summary.seconds:.0f}s"
        )
    stamp.write_text(fingerprint, encoding="utf-8")
    with Index.open(directory) as index:
        files, _chunks = index.catalog.counts()
        problems = check_consistency(index)
    if problems:
        raise SystemExit(f"index {directory} is inconsistent: {'; '.join(problems)}")
    if files != len(corpus.files) - summary.files_skipped:
        # The walker honours ignore files; make sure nothing above the corpus hides it.
        raise SystemExit(
            f"index {directory.name} holds {files} files, the corpus has {len(corpus.files)}"
            f" ({summary.files_skipped} skipped: {dict(summary.skipped)})"
        )
    return directory


@dataclass(frozen=True, slots=True)
class Exact:
    """Every chunk's exact f32 embedding, row-aligned with ``ids``."""

    ids: npt.NDArray[np.int64]
    vectors: FloatArray
    files: list[str]  # path of each row's file

    def top(self, query: FloatArray, k: int) -> list[int]:
        """Chunk ids of the ``k`` best cosines (vectors and query are L2-normalised)."""
        scores = self.vectors @ query
        k = min(k, len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [int(self.ids[i]) for i in best]


def recompute_input(chunk: StoredChunk, text: str) -> str:
    """The model input sleuth builds when it recomputes ``chunk`` (its own helper if any)."""
    helper = getattr(chunking, "chunk_input", None)
    if helper is not None:
        return str(helper(chunk, text))
    return chunking.embed_text(chunk.chunk.context, text)  # before the file name left context


def exact_vectors(directory: Path, embedder: RecordingEmbedder) -> Exact:
    """Re-read each chunk's text from its source, exactly as recomputation does, and embed it."""
    with Index.open(directory) as index:
        chunks = list(index.catalog.iter_chunks())
        texts = read_texts(index.catalog, chunks)
    stale = [c.id for c in chunks if texts[c.id].text is None]
    if stale:
        raise SystemExit(f"{len(stale)} chunks of {directory.name} are stale; rebuild the index")
    inputs = [recompute_input(c, texts[c.id].text or "") for c in chunks]
    before = embedder.embedded
    vectors = embedder.embed(inputs)
    embedder.save()
    if embedder.embedded > before:
        # Recomputation would feed the model other text than indexing did: worth a look.
        log(f"warning: {embedder.embedded - before} recompute inputs were never indexed")
    ids = np.array([c.id for c in chunks], dtype=np.int64)
    return Exact(ids, vectors, [c.file.path for c in chunks])


def open_searcher(directory: Path, embedder: RecordingEmbedder) -> tuple[Index, Searcher]:
    """A searcher whose every embedding (query and recomputation) comes from the store.

    Its recompute cache is switched off (capacity 0): the f16 cache would make results depend
    on the order of earlier queries, and the recorded vectors are exact anyway.
    """
    index = Index.open(directory)
    searcher = Searcher(index, lambda: embedder)
    searcher.cache.close()
    searcher.cache = VectorCache(directory, index.manifest.model.dims, 0)
    return index, searcher
