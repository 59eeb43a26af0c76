"""Dense candidates for a query: a flat scan of every code, or a graph walk then a scan."""

from __future__ import annotations

import numpy as np

from sleuth.store.index import Index
from sleuth.store.scope import codes_of
from sleuth.store.vectors import CodeArray, FloatArray, Graph, KeyArray

# A graph proposes this many times the requested count, so scoring by codes can reorder it.
GRAPH_POOL_FACTOR = 4
GRAPH_POOL_MIN = 256


def _matrix(codes: list[bytes]) -> CodeArray:
    if not codes:
        return np.empty((0, 0), np.uint8)
    return np.frombuffer(b"".join(codes), np.uint8).reshape(len(codes), -1)


class DenseIndex:
    """Read side of the dense index for one catalog snapshot."""

    def __init__(self, index: Index) -> None:
        self._index = index
        self._coder = index.coder
        self._graph: Graph | None = index.load_graph(view=True) if index.graph_active else None
        self._flat: tuple[KeyArray, CodeArray] | None = None
        self.size = len(self._graph) if self._graph is not None else index.catalog.counts()[1]

    def search_among(
        self, query: FloatArray, count: int, ids: KeyArray
    ) -> tuple[KeyArray, FloatArray]:
        """The ``count`` best of the sorted chunk ids ``ids`` by code score: a flat scan of
        their codes only (a filter's scope, see ``sleuth.store.scope``)."""
        keys, codes = codes_of(self._index.catalog.db, ids)
        if count <= 0 or len(keys) == 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        return self._best(query, keys, _matrix(codes), count)

    def search(self, query: FloatArray, count: int) -> tuple[KeyArray, FloatArray]:
        """The ``count`` best chunk ids by code score, best first, with their scores."""
        if count <= 0 or self.size == 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        if self._graph is None:
            if self._flat is None:
                ids, codes = self._index.catalog.codes()
                self._flat = (np.asarray(ids, np.int64), _matrix(codes))
            keys, codes_matrix = self._flat
        else:
            pool = self._graph.propose(query, max(count * GRAPH_POOL_FACTOR, GRAPH_POOL_MIN))
            ids, codes = self._index.catalog.codes([int(k) for k in pool])
            keys, codes_matrix = np.asarray(ids, np.int64), _matrix(codes)
        return self._best(query, keys, codes_matrix, count)

    def _best(
        self, query: FloatArray, keys: KeyArray, codes_matrix: CodeArray, count: int
    ) -> tuple[KeyArray, FloatArray]:
        scores = self._coder.score(query, codes_matrix)
        top = min(count, len(scores))
        best = (
            np.argpartition(-scores, top - 1)[:top] if top < len(scores) else np.arange(len(scores))
        )
        best = best[np.argsort(-scores[best], kind="stable")]
        return keys[best], scores[best]
