"""Section ``latency`` (issue 4): query latency as a user sees it, and where it goes.

End to end: ``python -m sleuth.cli search QUERY --json --index s-compact`` (default hybrid
mode, sleuth's default C), wall time from spawn to exit. *Cold* = the first run after deleting the
index's recompute cache file (``recompute-cache.sqlite3``; the OS page cache is left warm);
*warm* = the same query run again right after (sleuth caches query embeddings too, so this
needs no model); then the query upper-cased: a text the cache has not seen, whose candidates
are cached (the model is uncased), so it costs a model load and one query embedding. The
full (f16) index is timed the same way for comparison (it has nothing to recompute).
Baselines show the fixed cost of a process: ``python -c pass``, ``python -m sleuth.cli
--version``.

In-process: one ``Searcher`` with the real model (loaded once, before timing), the same
queries, cold (cache file deleted) then warm, split by ``SearchResult.timings``.
Queries: stdlib docstring first lines (see bench.corpora), the first 20 (8 with ``--quick``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

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
from bench.corpora import Corpus, corpus_s, docstring_queries
from bench.indexing import built_by_indexing
from bench.prepare import prepare
from sleuth.indexer.embedder import LlamaEmbedder
from sleuth.indexer.search import DEFAULT_CANDIDATES, Searcher, SearchOptions
from sleuth.store.cache import VectorCache, cache_bound
from sleuth.store.cache_file import CACHE_FILE
from sleuth.store.index import Index

PARTS = ("embed_query", "ann", "recompute", "lexical", "fuse")


def drop_cache(directory: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (directory / (CACHE_FILE + suffix)).unlink(missing_ok=True)


def cli_search(env: dict[str, str], name: str, query: str) -> tuple[float, int, int]:
    """(wall seconds, exit code, hits) of one ``sleuth search`` process."""
    done = run_measured(sleuth_cmd("search", query, "--json", "--index", name), env)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"sleuth search exited {done.returncode}: {done.stderr[-2000:]}")
    hits = sum(1 for line in done.stdout.splitlines() if line.strip().startswith("{"))
    return done.seconds, done.returncode, hits


def baseline(env: dict[str, str], cmd: list[str], reps: int) -> Json:
    times = [run_measured(cmd, env).seconds for _ in range(reps)]
    return p50_p95(times)


def indexes(config: Config) -> tuple[Corpus, Path, Path | None]:
    """The compact index to time and, if at hand, the full one.

    The index the ``indexing`` section just built with the CLI is used when it holds this
    corpus and was built by the pinned code: then timing needs no cached embeddings at all.
    Its full-mode twin exists only among the cached indexes, so that row is left out then.
    """
    corpus = corpus_s(config)
    made = built_by_indexing(corpus.name)
    if made is not None:
        return corpus, made, None
    prep = prepare(config, "s")
    return prep.corpus, prep.compact, prep.full


def run(config: Config) -> Json:
    corpus, compact, full = indexes(config)
    count = 8 if config.quick else 20
    queries = docstring_queries(corpus, count)
    # SLEUTH_HOME is two levels above an index directory (<home>/indexes/<name>).
    env = sleuth_env(compact.parent.parent, config.threads)
    log(f"latency: {len(queries)} queries, CLI cold/warm on {compact}, full, in-process")

    base = {
        "python -c pass": baseline(env, [sys.executable, "-c", "pass"], 5),
        "sleuth --version": baseline(env, sleuth_cmd("--version"), 5),
    }
    cold: list[float] = []
    fresh: list[float] = []
    warm: list[float] = []
    hits: list[int] = []
    for query in queries:
        drop_cache(compact)
        seconds, _code, n = cli_search(env, compact.name, query)
        cold.append(seconds)
        warm.append(cli_search(env, compact.name, query)[0])
        # A query text the cache has not seen (MiniLM is uncased, so its candidates are the
        # same and already cached): process start + model load + query embedding.
        fresh.append(cli_search(env, compact.name, query.upper())[0])
        hits.append(n)
    full_times: list[float] = []
    if full is not None:
        cli_search(env, full.name, queries[0])  # page in the full index once
        full_times = [cli_search(env, full.name, q)[0] for q in queries]

    inproc = in_process(config, compact, queries)
    figures: Json = {
        "corpus": corpus.name,
        "index": str(compact),
        "queries": len(queries),
        "mode": "hybrid",
        "candidates": DEFAULT_CANDIDATES["compact"],
        "cli": {
            "compact_cold": p50_p95(cold),
            "compact_warm": p50_p95(warm),
            "compact_warm_new_query_text": p50_p95(fresh),
            "full": p50_p95(full_times) if full_times else None,
            "baselines": base,
            "mean_hits": round(sum(hits) / len(hits), 1),
        },
        "in_process": inproc,
    }
    rows: list[list[object]] = [
        [f"sleuth search, compact, cold (C={figures['candidates']})", *_ms(cold)],
        ["sleuth search, compact, warm (same query again)", *_ms(warm)],
        ["sleuth search, compact, warm cache, query upper-cased", *_ms(fresh)],
    ]
    if full_times:
        rows.append(["sleuth search, full f16", *_ms(full_times)])
    for label, stats in base.items():
        rows.append([f"baseline: {label}", stats["p50"] * 1000, stats["p95"] * 1000])
    emit(
        table(
            f"Query latency end to end, process start -> exit ({len(queries)} queries, "
            f"{corpus.name}, hybrid)",
            ["what", "p50 ms", "p95 ms"],
            rows,
        )
    )
    emit("(target: warm sleuth search <= 500 ms p50 on corpus S)")
    split_rows: list[list[object]] = []
    for state in ("cold", "warm"):
        for part in (*PARTS, "total"):
            stats = inproc[state][part]
            split_rows.append([f"{state}: {part}", stats["p50"] * 1000, stats["p95"] * 1000])
        split_rows.append(
            [f"{state}: chunks re-embedded (mean count)", inproc[state]["recomputed_mean"], None]
        )
        split_rows.append(
            [f"{state}: chunks from cache (mean count)", inproc[state]["cached_mean"], None]
        )
    emit(
        table(
            "Query latency in-process, by SearchResult.timings (model already loaded)",
            ["part", "p50 ms", "p95 ms"],
            split_rows,
        )
    )
    return figures


def _ms(values: list[float]) -> list[float]:
    stats = p50_p95(values)
    return [stats["p50"] * 1000, stats["p95"] * 1000]


def in_process(config: Config, directory: Path, queries: list[str]) -> Json:
    index = Index.open(directory)
    embedder = LlamaEmbedder(threads=config.threads)
    searcher = Searcher(index, lambda: embedder)
    capacity = cache_bound(index.catalog.counts()[1], index.manifest.storage)
    dims = index.manifest.model.dims
    options = SearchOptions()
    samples: dict[str, dict[str, list[float]]] = {
        state: {part: [] for part in (*PARTS, "total", "recomputed", "cached")}
        for state in ("cold", "warm")
    }
    try:
        searcher.search("warm-up query", options)
        for query in queries:
            searcher.cache.close()
            drop_cache(directory)
            searcher.cache = VectorCache(directory, dims, capacity)
            for state in ("cold", "warm"):
                started = time.perf_counter()
                result = searcher.search(query, options)
                total = time.perf_counter() - started
                t = result.timings
                row = samples[state]
                for part in PARTS:
                    row[part].append(float(getattr(t, part)))
                row["total"].append(total)
                row["recomputed"].append(float(t.recomputed))
                row["cached"].append(float(t.cached))
    finally:
        searcher.close()
        index.close()
    out: Json = {}
    for state, row in samples.items():
        out[state] = {part: p50_p95(row[part]) for part in (*PARTS, "total")}
        out[state]["recomputed_mean"] = round(sum(row["recomputed"]) / len(queries), 1)
        out[state]["cached_mean"] = round(sum(row["cached"]) / len(queries), 1)
    return out
