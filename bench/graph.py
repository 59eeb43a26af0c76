"""Section ``graph`` (issue 15): the usearch graph path against the flat scan of codes.

Both paths end the same way: the C best candidates by code score are re-scored by their exact
vectors (what recomputation gives) and the best 10 kept. The flat path scores every code; the
graph path scores only the pool the graph proposes (``GRAPH_POOL_FACTOR`` x C, at least
``GRAPH_POOL_MIN``). Reported per vector set and graph setting: agreement of the graph's final
top-10 with the flat scan's (the issue's target: >= 0.99), recall@10 of both against exact
search over every vector, graph bytes per vector on disk, and the CPU time of a query's
dense step.

Vector sets: real MiniLM vectors of corpus S chunks, as many as the bench's embedding store
holds (``bench/run.py --prepare --family s`` fills it), with held-out chunk vectors as
queries; and the synthetic index of the ``scale`` section (its chunks re-embedded by
``SyntheticEmbedder``, exactly what the searcher recomputes), with the section's queries.
The switch point: the dense step's time by flat scan (codes read from the catalog, as a
one-query process does) and by graph walk, at growing prefixes of the synthetic index.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.common import DATA_DIR, Config, Json, emit, log, percentile, table
from bench.scale import _queries, data_dir
from bench.synthetic import Layout, SyntheticEmbedder, shipped_identity
from sleuth.indexer.chunking import chunk_input
from sleuth.indexer.source import read_texts
from sleuth.store import codebook
from sleuth.store.dense import GRAPH_POOL_FACTOR, GRAPH_POOL_MIN
from sleuth.store.index import Index
from sleuth.store.vectors import CodebookCoder, Coder, Graph, SignCoder

FloatArray = npt.NDArray[np.float32]
K = 10
CONNECTIVITY = (4, 8, 16)
POOL_MIN = (64, 128, 256, 512)
HELD_OUT = 200
SWITCH_SIZES = (5_000, 10_000, 25_000, 50_000, 100_000)


def real_s_vectors() -> tuple[FloatArray, FloatArray]:
    """(base, queries): corpus S chunk vectors from the embedding store, the last HELD_OUT
    (in a fixed shuffle) held out as queries."""
    sha = shipped_identity().sha256[:12]
    path = DATA_DIR / "embeddings" / sha / "s.vectors.npy"
    vectors = np.load(path).astype(np.float32)
    order = np.random.default_rng(5).permutation(len(vectors))
    vectors = vectors[order]
    return vectors[:-HELD_OUT], vectors[-HELD_OUT:]


def synthetic_vectors(size: int) -> tuple[FloatArray, FloatArray]:
    """Every chunk of the scale section's index of ``size`` chunks, as recomputation sees it."""
    directory = data_dir() / "home" / "indexes" / Layout(size).name
    embedder = SyntheticEmbedder()
    with Index.open(directory) as index:
        chunks = list(index.catalog.iter_chunks())
        chunks.sort(key=lambda c: c.id)
        texts = read_texts(index.catalog, chunks)
    inputs = [chunk_input(c, texts[c.id].text or "") for c in chunks]
    base = np.concatenate(
        [embedder.embed(inputs[i : i + 4096]) for i in range(0, len(inputs), 4096)]
    )
    queries = embedder.embed(_queries(100))
    return base, queries


def _top(scores: FloatArray, count: int) -> npt.NDArray[np.int64]:
    count = min(count, len(scores))
    best = np.argpartition(-scores, count - 1)[:count]
    return best[np.argsort(-scores[best], kind="stable")]


def _final(vectors: FloatArray, query: FloatArray, rows: npt.NDArray[np.int64]) -> set[int]:
    """The exact top-10 of the candidate rows: what recomputation makes of them."""
    exact = vectors[rows] @ query
    return {int(rows[i]) for i in _top(exact, K)}


def compare(
    vectors: FloatArray,
    queries: FloatArray,
    coder: Coder,
    candidates: int,
    connectivity: int,
    pools: tuple[int, ...],
) -> list[Json]:
    codes = coder.encode(vectors)
    keys = list(range(len(vectors)))
    graph = Graph.create(coder, connectivity)
    started = time.process_time()
    graph.add(keys, codes)
    build = time.process_time() - started
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "g.usearch"
        graph.save(path)
        graph_bytes = path.stat().st_size
        view = Graph.load(path, coder, view=True)
        rows_out: list[Json] = []
        exact_tops = [set(_top(vectors @ q, K).tolist()) for q in queries]
        flat_tops = []
        for q in queries:
            flat = _top(coder.score(q, codes), candidates)
            flat_tops.append(_final(vectors, q, flat))
        for pool_min in pools:
            agree, recall, cpu = [], [], []
            for q, exact, flat in zip(queries, exact_tops, flat_tops, strict=True):
                t0 = time.process_time()
                pool = view.propose(q, max(candidates * GRAPH_POOL_FACTOR, pool_min))
                local = _top(coder.score(q, codes[pool]), candidates)
                cpu.append(time.process_time() - t0)
                got = _final(vectors, q, pool[local])
                agree.append(len(got & flat) / K)
                recall.append(len(got & exact) / K)
            rows_out.append(
                {
                    "connectivity": connectivity,
                    "pool_min": pool_min,
                    "agreement_with_flat": round(float(np.mean(agree)), 4),
                    "worst_agreement": round(float(np.min(agree)), 2),
                    "recall_at_10": round(float(np.mean(recall)), 4),
                    "flat_recall_at_10": round(
                        float(
                            np.mean(
                                [len(f & e) / K for f, e in zip(flat_tops, exact_tops, strict=True)]
                            )
                        ),
                        4,
                    ),
                    "graph_bytes_per_vector": round(graph_bytes / len(vectors), 1),
                    "build_cpu_s": round(build, 2),
                    "query_cpu_ms_p50": round(percentile(cpu, 50) * 1000, 3),
                }
            )
    return rows_out


def switch_point(size: int, coder: Coder, connectivity: int) -> list[Json]:
    """Dense step CPU time, flat scan (codes read from the catalog) against a graph walk, over
    the first n chunks of the synthetic index (CPU: on a shared machine wall time also counts
    waiting for a core)."""
    directory = data_dir() / "home" / "indexes" / Layout(size).name
    db = sqlite3.connect(f"file:{directory / 'catalog.sqlite3'}?mode=ro", uri=True)
    embedder = SyntheticEmbedder()
    queries = embedder.embed(_queries(20))
    out: list[Json] = []
    try:
        for n in SWITCH_SIZES:
            if n > size:
                break
            limit = db.execute("SELECT id FROM chunks ORDER BY id LIMIT 1 OFFSET ?", (n - 1,))
            last = int(limit.fetchone()[0])
            flat: list[float] = []
            for q in queries:
                t0 = time.process_time()
                rows = db.execute("SELECT id, code FROM chunks WHERE id <= ? ORDER BY id", (last,))
                pairs = rows.fetchall()
                matrix = np.frombuffer(b"".join(bytes(c) for _, c in pairs), np.uint8).reshape(
                    len(pairs), -1
                )
                _top(coder.score(q, matrix), 20)
                flat.append(time.process_time() - t0)
            ids = [int(i) for i, _ in pairs]
            graph = Graph.create(coder, connectivity)
            graph.add(ids, matrix)
            walk: list[float] = []
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "g.usearch"
                graph.save(path)
                for q in queries:
                    t0 = time.process_time()
                    view = Graph.load(path, coder, view=True)
                    pool = view.propose(q, max(20 * GRAPH_POOL_FACTOR, GRAPH_POOL_MIN))
                    marks = ",".join("?" * len(pool))
                    got = db.execute(
                        f"SELECT id, code FROM chunks WHERE id IN ({marks})", [int(k) for k in pool]
                    ).fetchall()
                    sub = np.frombuffer(b"".join(bytes(c) for _, c in got), np.uint8).reshape(
                        len(got), -1
                    )
                    _top(coder.score(q, sub), 20)
                    walk.append(time.process_time() - t0)
            out.append(
                {
                    "chunks": n,
                    "flat_ms_p50": round(percentile(flat, 50) * 1000, 2),
                    "graph_ms_p50": round(percentile(walk, 50) * 1000, 2),
                }
            )
    finally:
        db.close()
    return out


def _coders() -> dict[str, tuple[Coder, int]]:
    identity = shipped_identity()
    book = codebook.shipped(identity.sha256)
    assert book is not None
    return {"compact": (CodebookCoder(book), 20), "minimal": (SignCoder(identity.dims), 60)}


def _emit(title: str, rows: list[Json]) -> None:
    header = [
        "storage, connectivity, pool min",
        "agree w/ flat",
        "worst",
        "recall@10",
        "flat recall@10",
        "graph B/vec",
        "query cpu ms",
    ]
    emit(
        table(
            title,
            header,
            [
                [
                    f"{r['storage']}, M={r['connectivity']}, pool>={r['pool_min']}",
                    r["agreement_with_flat"],
                    r["worst_agreement"],
                    r["recall_at_10"],
                    r["flat_recall_at_10"],
                    r["graph_bytes_per_vector"],
                    r["query_cpu_ms_p50"],
                ]
                for r in rows
            ],
        )
    )


def run(config: Config) -> Json:
    figures: Json = {}
    sets: dict[str, tuple[FloatArray, FloatArray]] = {}
    try:
        sets["real-s"] = real_s_vectors()
    except OSError as exc:
        log(f"graph: no real corpus S vectors ({exc}); run bench/run.py --prepare --family s")
    size = (config.scale_sizes or (100_000,))[-1]
    if (data_dir() / "home" / "indexes" / Layout(size).name).exists():
        sets[f"synthetic-{size}"] = synthetic_vectors(size)
    for name, (base, queries) in sets.items():
        log(f"graph: {name}: {len(base)} vectors, {len(queries)} queries")
        rows: list[Json] = []
        # The synthetic set is large: the default connectivity and the two largest pools only.
        grid = (CONNECTIVITY, POOL_MIN) if name == "real-s" else ((8,), POOL_MIN[-2:])
        for storage, (coder, candidates) in _coders().items():
            for connectivity in grid[0]:
                found = compare(base, queries, coder, candidates, connectivity, grid[1])
                rows += [{"storage": storage, "candidates": candidates, **r} for r in found]
        figures[name] = {"vectors": len(base), "queries": len(queries), "rows": rows}
        _emit(
            f"Graph vs flat, {name}: {len(base):,} vectors, {len(queries)} queries "
            "(C = 20 compact / 60 minimal)",
            rows,
        )
    if sets.keys() - {"real-s"}:
        coder, _ = _coders()["compact"]
        switch = switch_point(size, coder, 8)
        figures["switch_point"] = switch
        emit(
            table(
                "Dense step CPU: flat scan of codes from the catalog vs graph walk (compact, M=8)",
                ["chunks", "flat cpu ms p50", "graph cpu ms p50"],
                [[r["chunks"], r["flat_ms_p50"], r["graph_ms_p50"]] for r in switch],
            )
        )
    return figures
