"""Section ``frontier`` (issue 11): each storage mode's footprint, cold and warm latency and
recall@10, side by side on corpus S: the table in the README.

- footprint: the index on disk over the raw bytes, plus the recompute cache filled to its bound
  (``cache_bound``: 2% of the chunks, 0.5% for minimal), as a user's index ends up after many
  queries;
- recall@10 against exact f32 search at the mode's default candidate count (semantic mode,
  in-process, every embedding from the recorded store: the figure does not depend on timing);
- latency: ``sleuth search QUERY --json`` from spawn to exit with the real model, *cold* = a
  new process after deleting the recompute cache (query embedding included), *warm* = the
  same query again; p50/p95 over the queries, and the mean number of chunks re-embedded.
The modes' indexes are built from the recorded vectors (no embedding cost).
"""

from __future__ import annotations

import json

import numpy as np

from bench.cachesize import cache_bytes_at_bound
from bench.common import (
    Config,
    Json,
    emit,
    log,
    p50_p95,
    run_measured,
    sleuth_cmd,
    sleuth_env,
    table,
)
from bench.corpora import docstring_queries
from bench.indexes import ensure_index, exact_vectors, open_searcher
from bench.latency import drop_cache
from bench.prepare import prepare
from sleuth.indexer.search import DEFAULT_CANDIDATES, SearchOptions
from sleuth.store.index import Index
from sleuth.store.manifest import StorageMode

MODES: tuple[StorageMode, ...] = ("compact", "fast", "minimal", "full")
K = 10


def run(config: Config) -> Json:
    prep = prepare(config, "s")
    raw = prep.corpus.raw_bytes
    queries = docstring_queries(prep.corpus, 20 if not config.quick else 8)
    recall_queries = docstring_queries(prep.corpus, 200 if not config.quick else 50)
    env = sleuth_env(prep.compact.parent.parent, config.threads)
    figures: Json = {"raw_bytes": raw, "modes": {}}
    rows: list[list[object]] = []
    for storage in MODES:
        directory = ensure_index(prep.corpus, storage, prep.embedder)
        exact = exact_vectors(directory, prep.embedder)
        with Index.open(directory) as index:
            foot = index.footprint()
        cache = cache_bytes_at_bound(384, exact.vectors, storage) if storage != "full" else 0
        index, searcher = open_searcher(directory, prep.embedder)
        kept: list[float] = []
        try:
            for query in recall_queries:
                truth = set(exact.top(prep.embedder.embed([query])[0], K))
                hits = searcher.search(query, SearchOptions(limit=K, mode="semantic")).hits
                kept.append(len(truth & {h.chunk.id for h in hits}) / K)
        finally:
            searcher.close()
            index.close()
        log(f"frontier: {storage}: recall done, timing {len(queries)} CLI queries")
        cold: list[float] = []
        warm: list[float] = []
        recomputed: list[int] = []
        for query in queries:
            drop_cache(directory)
            done = run_measured(
                sleuth_cmd("search", query, "--json", "--explain", "--index", directory.name), env
            )
            cold.append(done.seconds)
            recomputed.append(_recomputed(done.stderr))
            warm.append(
                run_measured(
                    sleuth_cmd("search", query, "--json", "--index", directory.name), env
                ).seconds
            )
        entry: Json = {
            "footprint": foot.total / raw,
            # The index's own cache file is whatever earlier queries left: replaced, not added.
            "footprint_with_cache_at_bound": (foot.total - foot.cache + cache) / raw,
            "parts": {k: v / raw for k, v in foot.as_dict().items()},
            "cache_at_bound_bytes": cache,
            "recall_at_10": float(np.mean(kept)),
            "candidates": DEFAULT_CANDIDATES[storage],
            "cold": p50_p95(cold),
            "warm": p50_p95(warm),
            "recomputed_mean": float(np.mean(recomputed)),
        }
        figures["modes"][storage] = entry
        rows.append(
            [
                storage,
                entry["footprint_with_cache_at_bound"],
                entry["cold"]["p50"],
                entry["cold"]["p95"],
                entry["warm"]["p50"],
                entry["recall_at_10"],
                entry["recomputed_mean"],
            ]
        )
    emit(
        table(
            f"Storage modes on corpus {prep.corpus.name} ({raw:,} bytes, {len(queries)} timed "
            "queries, 200 for recall)",
            [
                "mode",
                "footprint x (cache at bound)",
                "cold p50 s",
                "cold p95 s",
                "warm p50 s",
                "recall@10",
                "re-embedded (mean)",
            ],
            rows,
        )
    )
    emit(
        "(targets, issue 11: default cold <= 1.0 s p50 / 2.0 s p95, warm <= 0.3 s, recall >= 0.97,"
    )
    emit(" footprint <= 0.30x with the cache at its bound; minimal <= 0.25x with cold <= 3 s)")
    return figures


def _recomputed(stderr: str) -> int:
    for line in stderr.splitlines():
        if "timings:" in line and "embedded" in line:
            part = line.split("recompute", 1)[1]
            return int(part.split("(", 1)[1].split(" ", 1)[0])
    return 0


if __name__ == "__main__":
    print(json.dumps(run(Config(quick=False, threads=None))))
