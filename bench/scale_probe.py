"""Child process of the ``scale`` section: warm searches on one index, and its peak RSS.

    python -m bench.scale_probe REQUEST.json

Runs in its own process so that ``ru_maxrss`` is the peak of searching this index alone.
Prints one JSON object on stdout: per-query timings (seconds) of hybrid search, of hybrid
search with a path filter, of lexical search for a common term, of the dense step alone by
flat scan and by graph walk, and resident memory (bytes) before the index is opened and at
peak. The embedder is ``SyntheticEmbedder`` (what it costs is not what is measured here).
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.synthetic import SyntheticEmbedder
from sleuth.indexer.search import Searcher, SearchOptions, Timings
from sleuth.store import lexical
from sleuth.store.dense import DenseIndex
from sleuth.store.graph_state import GraphState
from sleuth.store.index import Index
from sleuth.store.records import StoredChunk
from sleuth.store.scope import FileScope
from sleuth.store.vectors import Graph

PARTS = ("ann", "catalog", "lexical", "fuse", "recompute", "embed_query")


def rss_now() -> int:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _parts(t: Timings) -> dict[str, float]:
    return {p: float(getattr(t, p)) for p in PARTS}


def _searches(searcher: Searcher, queries: list[str], options: SearchOptions) -> list[Any]:
    """Timings of each query's second run. ``cpu`` is this process's CPU time for the whole
    search: on a shared machine wall time also counts waiting for a core."""
    for query in queries:  # warm-up: page cache, recompute cache, query vectors
        searcher.search(query, options)
    out = []
    for query in queries:
        started = time.process_time()
        result = searcher.search(query, options)
        cpu = time.process_time() - started
        out.append({**_parts(result.timings), "cpu": cpu, "hits": len(result.hits)})
    return out


def _dense_paths(index: Index, searcher: Searcher, queries: list[str], count: int) -> Any:
    """The dense step alone (what a one-query process pays): a flat scan of every code read
    from the catalog, against a walk of the index's graph (a temporary one if it has none)."""
    vectors = [searcher._query_vector(q) for q in queries]
    flat: list[float] = []
    coder = index.coder
    for qvec in vectors:
        t0 = time.perf_counter()
        ids, codes = index.catalog.codes()
        matrix = np.frombuffer(b"".join(codes), np.uint8).reshape(len(codes), -1)
        scores = coder.score(qvec, matrix)
        np.argpartition(-scores, min(count, len(scores) - 1))
        flat.append(time.perf_counter() - t0)
    graph: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "graph.usearch"
        if index.graph_active:
            path = None  # type: ignore[assignment]
        else:
            built = Graph.create(coder, index.manifest.connectivity)
            ids, codes = index.catalog.codes()
            built.add(ids, np.frombuffer(b"".join(codes), np.uint8).reshape(len(codes), -1))
            built.save(path)
        for qvec in vectors:
            t0 = time.perf_counter()
            dense = DenseIndex(index)
            if path is not None:  # as if the index had this graph, holding every chunk
                dense._graph = Graph.load(path, coder, view=True)
                dense._state = GraphState(0, 2**62, 0, 0, len(dense._graph))
            dense.search(qvec, count)
            graph.append(time.perf_counter() - t0)
    return {"flat": flat, "graph": graph}


def main(argv: list[str]) -> int:
    request = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    if request.get("cpu_clock"):
        # SearchResult.timings read time.perf_counter; on a shared machine wall time also
        # counts waiting for a core, so this process's parts are timed in CPU time instead.
        time.perf_counter = time.process_time
    embedder = SyntheticEmbedder()
    base = rss_now()
    index = Index.open(Path(request["index"]))
    searcher = Searcher(index, lambda: embedder)
    scope = FileScope(None, (request["prefix"],))
    prefix = request["prefix"] + "/"

    def under_prefix(chunk: StoredChunk) -> bool:
        return chunk.file.path.startswith(prefix)

    try:
        out: dict[str, Any] = {"rss_base": base}
        with index.snapshot():
            out["graph"] = index.graph_active
        out["hybrid"] = _searches(searcher, request["queries"], SearchOptions())
        out["filtered"] = _searches(searcher, request["queries"], SearchOptions(scope=scope))
        # Before: the same filter as a predicate on candidates, through the over-fetch loop.
        out["filtered_overfetch"] = _searches(
            searcher, request["queries"][:10], SearchOptions(chunk_filter=under_prefix)
        )
        common = [request["common_term"]] * 5
        out["lexical_common"] = _searches(searcher, common, SearchOptions(mode="lexical"))
        # Before: every posting of the common term read and scored in Python.
        cap = lexical.COMMON_POSTINGS
        lexical.COMMON_POSTINGS = 1 << 62
        out["lexical_common_full"] = _searches(searcher, common, SearchOptions(mode="lexical"))
        lexical.COMMON_POSTINGS = cap
        out["rss_after_search"] = rss_now()
        out["peak_rss_search"] = peak_rss()
        if request.get("dense_paths"):
            with index.snapshot():
                out["dense_paths"] = _dense_paths(index, searcher, request["queries"][:10], 20)
    finally:
        searcher.close()
        index.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
