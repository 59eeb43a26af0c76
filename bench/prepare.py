"""Build every cache a benchmark section needs: corpora, indexes, exact embeddings.

Sections call these on demand; ``run.py --prepare`` runs them up front (e.g. overnight).
"""

from __future__ import annotations

import fcntl
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import DATA_DIR, HOME_DIR, Config, log
from bench.corpora import Corpus, Labelled, corpus_pyfaq, corpus_s
from bench.embeddings import RecordingEmbedder, warm_store

if TYPE_CHECKING:
    from bench.indexes import Exact


@dataclass(frozen=True, slots=True)
class Prepared:
    corpus: Corpus
    embedder: RecordingEmbedder
    exact: Exact
    labelled: Labelled | None = None

    @property
    def compact(self) -> Path:
        return HOME_DIR / "indexes" / f"{self.corpus.name}-compact"

    @property
    def full(self) -> Path:
        return HOME_DIR / "indexes" / f"{self.corpus.name}-full"


@cache
def prepare(config: Config, family: str) -> Prepared:
    """Corpus, both cached indexes and the exact vectors of one corpus family.

    Holds an exclusive lock per corpus meanwhile, so a section waits for a ``--prepare`` run
    in another process and then finds everything cached instead of embedding it twice.
    """
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    lock = DATA_DIR / f"prepare-{family}{config.suffix}.lock"
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            return _prepare(config, family)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prepare(config: Config, family: str) -> Prepared:
    labelled = corpus_pyfaq(config) if family == "pyfaq" else None
    corpus = labelled.corpus if labelled else corpus_s(config)
    log(f"preparing {corpus.name}: {len(corpus.files)} files, {corpus.raw_bytes:,} bytes")
    embedder = RecordingEmbedder(family, threads=config.threads)
    chunks = warm_store(corpus, embedder)
    log(f"embeddings of {corpus.name}: {chunks} chunks, {embedder.embedded} newly embedded")
    # Imported late: the store warm-up needs only the chunker, so it runs even while the
    # index code is being changed.
    from bench.indexes import ensure_index, exact_vectors

    compact = ensure_index(corpus, "compact", embedder)
    ensure_index(corpus, "full", embedder)
    exact = exact_vectors(compact, embedder)
    log(f"prepared {corpus.name}: {len(exact.ids)} chunks, store {len(embedder.store)} vectors")
    return Prepared(corpus, embedder, exact, labelled)
