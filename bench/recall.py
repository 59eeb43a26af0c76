"""Section ``recall`` (issue 4): compact mode's top-10 against exact brute-force f32 search.

For every query, the exact top-10 chunks are the 10 best cosines between the query and every
chunk's f32 embedding (same model, same chunk text as recomputation re-reads). sleuth's top-10
comes from ``Searcher.search(query, SearchOptions(limit=10, mode="semantic", candidates=C))``
on the compact index, and on the full (f16) index for comparison. Recall@10 = mean share of
the exact top-10 chunk ids that sleuth returns. Queries: corpus S has no labelled queries, so
it uses stdlib docstring first lines (see bench.corpora); pyfaq uses its FAQ questions.
Embeddings come from the recorded store, so the figures do not depend on timing.
"""

from __future__ import annotations

from bench.common import Config, Json, emit, log, table
from bench.corpora import DOCSTRING_QUERIES, QUICK_QUERIES, docstring_queries
from bench.indexes import open_searcher
from bench.prepare import Prepared, prepare
from sleuth.indexer.search import DEFAULT_CANDIDATES, SearchOptions

CANDIDATES = (10, 20, 30, 50, 100)
K = 10


def queries_for(config: Config, prep: Prepared) -> tuple[str, list[str]]:
    if prep.labelled is not None:
        return "pyfaq FAQ questions", list(prep.labelled.queries.values())
    count = QUICK_QUERIES if config.quick else DOCSTRING_QUERIES
    return "stdlib docstring first lines", docstring_queries(prep.corpus, count)


def recall_of(prep: Prepared, storage: str, queries: list[str], candidates: int) -> Json:
    directory = prep.compact if storage == "compact" else prep.full
    index, searcher = open_searcher(directory, prep.embedder)
    kept: list[float] = []
    stale = 0
    try:
        for query in queries:
            exact = set(prep.exact.top(prep.embedder.embed([query])[0], K))
            result = searcher.search(
                query, SearchOptions(limit=K, mode="semantic", candidates=candidates)
            )
            stale += result.stale
            got = {hit.chunk.id for hit in result.hits}
            kept.append(len(got & exact) / len(exact))
    finally:
        searcher.close()
        index.close()
    return {
        "recall_at_10": round(sum(kept) / len(kept), 4),
        "min": round(min(kept), 2),
        "perfect_share": round(sum(1 for k in kept if k == 1.0) / len(kept), 4),
        "stale": stale,
    }


def run(config: Config) -> Json:
    figures: Json = {}
    for family in config.families:
        prep = prepare(config, family)
        label, queries = queries_for(config, prep)
        log(f"recall on {prep.corpus.name}: {len(queries)} queries")
        default = DEFAULT_CANDIDATES["compact"]
        sizes = sorted({*CANDIDATES, default})
        compact = {c: recall_of(prep, "compact", queries, c) for c in sizes}
        full = recall_of(prep, "full", queries, K)
        figures[prep.corpus.name] = {
            "queries": label,
            "query_count": len(queries),
            "chunks": len(prep.exact.ids),
            "default_candidates": default,
            "compact": {f"C={c}": v for c, v in compact.items()},
            "full_f16": full,
        }
        rows: list[list[object]] = [
            [
                f"compact, C={c}{' (default)' if c == default else ''}",
                v["recall_at_10"],
                v["perfect_share"],
                v["min"],
                v["stale"],
            ]
            for c, v in compact.items()
        ]
        rows.append(
            [
                "full (f16, no recompute)",
                full["recall_at_10"],
                full["perfect_share"],
                full["min"],
                full["stale"],
            ]
        )
        emit(
            table(
                f"Recall@10 vs exact f32 brute force: {prep.corpus.name} "
                f"({len(prep.exact.ids):,} chunks), {len(queries)} {label}",
                ["index", "recall@10", "all 10 kept", "worst query", "stale"],
                rows,
            )
        )
    emit(f"(target: compact recall@10 >= 0.97 at the default C={DEFAULT_CANDIDATES['compact']})")
    return figures
