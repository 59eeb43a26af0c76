"""Dense candidates for a query: a flat scan of every code, or a graph walk then a scan."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from sleuth.store.catalog import Catalog
from sleuth.store.graph_state import GraphState, tail_codes
from sleuth.store.index import Index
from sleuth.store.scope import codes_of
from sleuth.store.vectors import CodeArray, FloatArray, Graph, KeyArray, vectors_file

# A graph proposes this many times the requested count, so scoring by codes can reorder it.
# The graph walks Hamming distance over sign bits, which orders chunks less well than the
# codes' scores: on real MiniLM vectors of corpus S (3,896 chunks, 200 held-out queries,
# bench section ``graph``) the compact graph's final top-10 agreed with the flat scan's on
# 0.981 of hits with a pool of 256 and 0.993 with 512, for +0.25 ms of CPU per query;
# connectivity 4 / 8 / 16 (93 / 123 / 186 graph bytes per chunk) gave 0.991 / 0.993 / 0.995.
GRAPH_POOL_FACTOR = 4
GRAPH_POOL_MIN = 512


def _matrix(codes: list[bytes]) -> CodeArray:
    if not codes:
        return np.empty((0, 0), np.uint8)
    return np.frombuffer(b"".join(codes), np.uint8).reshape(len(codes), -1)


class GraphCache:
    """The graph file a searcher viewed last, kept across its queries.

    Viewing (memory-mapping) a usearch graph walks every node: 95 ms at a million chunks, more
    than the rest of a warm search. A graph file is never rewritten (a merge writes the next
    generation's file), so the file's identity on disk says whether the view is still good;
    one deleted after a merge stays readable while it is mapped."""

    def __init__(self) -> None:
        self._kept: tuple[tuple[str, int, int, int], Graph] | None = None

    def graph(self, index: Index, state: GraphState) -> Graph:
        path = vectors_file(index.directory, state.generation)
        st = path.stat()
        key = (str(path), st.st_ino, st.st_mtime_ns, st.st_size)
        if self._kept is None or self._kept[0] != key:
            self._kept = (key, index.load_graph(view=True))
        return self._kept[1]


class DenseIndex:
    """Read side of the dense index for one catalog snapshot."""

    def __init__(self, index: Index, graphs: GraphCache | None = None) -> None:
        self._index = index
        self._coder = index.coder
        self._state = index.graph_state
        self._graph: Graph | None = None
        if self._state is not None:
            graphs = graphs or GraphCache()
            self._graph = graphs.graph(index, self._state)
        self._flat: tuple[KeyArray, CodeArray] | None = None
        self._tail: tuple[KeyArray, CodeArray] | None = None
        self.size = index.catalog.counts()[1]

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
            assert self._state is not None
            # Dead entries (removed chunks the graph still holds) take places in the pool.
            live = max(1, len(self._graph) - self._state.dead) / max(1, len(self._graph))
            wanted = int(max(count * GRAPH_POOL_FACTOR, GRAPH_POOL_MIN) / live)
            pool = self._graph.propose(query, wanted)
            ids, codes = self._index.catalog.codes([int(k) for k in pool])
            if self._tail is None:  # chunks added since the graph was last merged: flat
                tail_ids, tail = tail_codes(self._index.catalog, self._state.upto)
                self._tail = (np.asarray(tail_ids, np.int64), _matrix(tail))
            keys = np.concatenate([np.asarray(ids, np.int64), self._tail[0]])
            codes_matrix = _matrix(codes)
            if len(self._tail[0]):
                codes_matrix = (
                    np.concatenate([codes_matrix, self._tail[1]]) if len(ids) else self._tail[1]
                )
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

    @property
    def catalog(self) -> Catalog:
        return self._index.catalog

    def estimate(self, query: FloatArray, ids: list[int]) -> dict[int, float]:
        """The code scores of the chunks ``ids`` (exact cosines in a full index)."""
        found, codes = self._index.catalog.codes(ids)
        if not found:
            return {}
        scores = self._coder.score(query, _matrix(codes))
        return {int(i): float(s) for i, s in zip(found, scores, strict=True)}

    def nearby_means(self, query: FloatArray, ids: list[int], reach: int) -> dict[int, float]:
        """chunk id -> the mean cosine (by the codes) of the query over that chunk and the
        ``reach`` chunks either side of it in its file."""
        spans = self._index.catalog.file_spans(ids)
        windows = {
            c: (max(first, c - reach), min(first + count - 1, c + reach))
            for c, (first, count) in spans.items()
        }
        codes = self._index.catalog.codes_between(_merged(windows.values()))
        if not codes:
            return {}
        estimates = self._coder.score(query, _matrix(list(codes.values()))).tolist()
        scores = dict(zip(codes, estimates, strict=True))
        means: dict[int, float] = {}
        for chunk_id, (low, high) in windows.items():
            near = [scores[k] for k in range(low, high + 1) if k in scores]
            if near:
                means[chunk_id] = self._coder.as_cosine(sum(near) / len(near))
        return means


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Inclusive ranges with the overlapping ones joined, so each id is read once."""
    out: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if out and low <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return out
