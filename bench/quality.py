"""Section ``quality`` (issue 4): retrieval quality on pyfaq, per search mode.

Documents are pyfaq passages, one file each (see bench.corpora). A method returns ranked chunk
hits; they become documents by file name, first occurrence wins, and the first 10 documents
are scored (binary relevance) with nDCG@10, Recall@10 and MRR@10, averaged over questions.
Two protocols, both reported:

* ``10 hits``: the 10 chunk hits a user sees with ``sleuth search -k 10`` (may hold fewer than
  10 distinct files when a file has several good chunks);
* ``30 hits -> 10 files``: 30 chunk hits, the first 10 distinct files (what ``-l`` lists).
  Compact semantic/hybrid then recompute max(C, 30) candidates.

Methods: sleuth lexical (its FTS5 index; BM25 order and calibrated-score order), semantic on
the compact index (sleuth's default C, with recomputation), semantic on the full f16 index,
exact brute-force f32 over every chunk, hybrid on both indexes (ordered by the calibrated
score, sleuth's default, and by RRF as before issue 12); and pyfaq's own pure-Python BM25
over whole passages.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from bench.common import Config, Json, emit, log, table
from bench.corpora import Labelled, pyfaq_module
from bench.indexes import ensure_index, open_searcher
from bench.prepare import Prepared, prepare
from sleuth.indexer.search import DEFAULT_CANDIDATES, Mode, Order, SearchOptions
from sleuth.store.manifest import StorageMode

K = 10
PROTOCOLS = {"10 hits": 10, "30 hits -> 10 files": 30}


def metrics(ranked_files: list[str], labelled: Labelled, qid: str) -> tuple[float, float, float]:
    """nDCG@10, Recall@10, MRR@10 of a ranked file list for one question."""
    docs: list[str] = []
    for name in ranked_files:
        doc = labelled.doc_of_file[name]
        if doc not in docs:
            docs.append(doc)
        if len(docs) == K:
            break
    rel = labelled.qrels[qid]
    dcg = sum(1 / math.log2(r + 2) for r, d in enumerate(docs) if d in rel)
    idcg = sum(1 / math.log2(r + 2) for r in range(min(len(rel), K)))
    recall = sum(d in rel for d in docs) / len(rel)
    mrr = next((1 / (r + 1) for r, d in enumerate(docs) if d in rel), 0.0)
    return dcg / idcg, recall, mrr


def evaluate(labelled: Labelled, ranker: Callable[[str, int], list[str]], depth: int) -> Json:
    totals = [0.0, 0.0, 0.0]
    for qid, text in labelled.queries.items():
        for i, value in enumerate(metrics(ranker(text, depth), labelled, qid)):
            totals[i] += value
    n = len(labelled.queries)
    return {
        "ndcg_at_10": round(totals[0] / n, 4),
        "recall_at_10": round(totals[1] / n, 4),
        "mrr_at_10": round(totals[2] / n, 4),
    }


def sleuth_ranker(
    prep: Prepared, storage: StorageMode, mode: Mode, stack: ExitStack, order: Order = "score"
) -> Callable[[str, int], list[str]]:
    directory = {"compact": prep.compact, "full": prep.full}.get(storage)
    if directory is None:  # prepare() builds only those two
        directory = ensure_index(prep.corpus, storage, prep.embedder)
    index, searcher = open_searcher(directory, prep.embedder)
    stack.callback(index.close)
    stack.callback(searcher.close)

    def rank(query: str, depth: int) -> list[str]:
        result = searcher.search(query, SearchOptions(limit=depth, mode=mode, order=order))
        return [Path(hit.path).name for hit in result.hits]

    return rank


def exact_ranker(prep: Prepared) -> Callable[[str, int], list[str]]:
    names = [Path(p).name for p in prep.exact.files]
    row_of = {int(chunk_id): row for row, chunk_id in enumerate(prep.exact.ids)}

    def rank(query: str, depth: int) -> list[str]:
        top = prep.exact.top(prep.embedder.embed([query])[0], depth)
        return [names[row_of[c]] for c in top]

    return rank


def run(config: Config) -> Json:
    with ExitStack() as stack:
        return _run(config, stack)


def _run(config: Config, stack: ExitStack) -> Json:
    prep = prepare(config, "pyfaq")
    labelled = prep.labelled
    assert labelled is not None
    default = DEFAULT_CANDIDATES["compact"]
    methods: dict[str, Callable[[str, int], list[str]]] = {
        "lexical (sleuth BM25 order)": sleuth_ranker(prep, "compact", "lexical", stack, "rrf"),
        "lexical (calibrated score order)": sleuth_ranker(prep, "compact", "lexical", stack),
        f"semantic, compact (C={default})": sleuth_ranker(prep, "compact", "semantic", stack),
        "semantic, full f16": sleuth_ranker(prep, "full", "semantic", stack),
        "semantic, exact f32 brute force": exact_ranker(prep),
        "hybrid, compact, RRF order": sleuth_ranker(prep, "compact", "hybrid", stack, "rrf"),
        "semantic, fast (settled)": sleuth_ranker(prep, "fast", "semantic", stack),
        "hybrid, compact (score order)": sleuth_ranker(prep, "compact", "hybrid", stack),
        "hybrid, fast (default: score order)": sleuth_ranker(prep, "fast", "hybrid", stack),
        "hybrid, full f16": sleuth_ranker(prep, "full", "hybrid", stack),
        "hybrid, minimal (48 B product codes)": sleuth_ranker(prep, "minimal", "hybrid", stack),
    }
    figures: Json = {
        "corpus": prep.corpus.name,
        "passages": len(labelled.passages),
        "chunks": len(prep.exact.ids),
        "questions": len(labelled.queries),
        "protocols": {},
    }
    pyfaq = pyfaq_module()
    ndcg, rec, mrr = pyfaq.bm25_eval(labelled.passages, labelled.queries, labelled.qrels)
    baseline = {
        "ndcg_at_10": round(ndcg, 4),
        "recall_at_10": round(rec, 4),
        "mrr_at_10": round(mrr, 4),
    }
    figures["pyfaq_bm25_passages"] = baseline
    for protocol, depth in PROTOCOLS.items():
        log(f"quality: {protocol}, {len(labelled.queries)} questions x {len(methods)} methods")
        results = {name: evaluate(labelled, ranker, depth) for name, ranker in methods.items()}
        figures["protocols"][protocol] = results
        rows: list[list[object]] = [
            [name, r["ndcg_at_10"], r["recall_at_10"], r["mrr_at_10"]]
            for name, r in results.items()
        ]
        rows.append(
            [
                "pyfaq BM25 (whole passages, reference)",
                baseline["ndcg_at_10"],
                baseline["recall_at_10"],
                baseline["mrr_at_10"],
            ]
        )
        emit(
            table(
                f"Retrieval quality on {prep.corpus.name} ({len(labelled.passages):,} passages, "
                f"{len(prep.exact.ids):,} chunks, {len(labelled.queries)} questions), "
                f"protocol: {protocol}",
                ["method", "nDCG@10", "Recall@10", "MRR@10"],
                rows,
            )
        )
    emit("(target: hybrid nDCG@10 above both lexical-only and exact semantic-only)")
    return figures
