"""The recompute cache's bytes on disk at its bound, for footprints that count it.

A user's cache ends up full after enough queries: ``cache_bound`` recomputed vectors and
``query_bound`` query embeddings. This fills a scratch cache with real vectors and queries
of a typical length and measures the file, so every section reports the same figure.
"""

from __future__ import annotations

import shutil

import numpy as np

from bench.common import DATA_DIR
from sleuth.store.cache import VectorCache, cache_bound, query_bound
from sleuth.store.cache_file import CACHE_FILE
from sleuth.store.manifest import StorageMode

_QUERY = "how do I {} the {} when the {} is not set"  # ~45 characters, as typed queries run


def cache_bytes_at_bound(dims: int, vectors: np.ndarray, storage: StorageMode) -> int:
    """Bytes of a recompute cache holding its bound of vectors (rows of ``vectors``) and
    of query embeddings."""
    bound = cache_bound(len(vectors), storage)
    scratch = DATA_DIR / "tmp-cache-at-bound"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    cache = VectorCache(scratch, dims, bound)
    try:
        cache.put((i, bytes(8), vectors[i]) for i in range(min(bound, len(vectors))))
        for n in range(query_bound(bound)):
            cache.put_query(_QUERY.format(n, n * 7, n * 13), vectors[n % len(vectors)])
    finally:
        cache.close()
    size = sum(p.stat().st_size for p in scratch.iterdir() if p.name.startswith(CACHE_FILE))
    shutil.rmtree(scratch, ignore_errors=True)
    return size
