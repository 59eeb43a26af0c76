"""Answering a query: dense candidates over codes, exact re-scoring by recomputation,
BM25 from the lexical index, and a calibrated score that ranks and reports them.

Compact and minimal indexes hold only codes, so the dense side proposes candidates by their
code score and then re-embeds the best ``candidates`` of them from their source text (cached)
to order them by exact cosine. Full indexes score by their stored f16 vectors directly.

Every hit's ``score`` is the calibrated probability of relevance of
:mod:`sleuth.indexer.calibration` (cosine, lexical coverage, the neighbourhood signal of
:mod:`sleuth.indexer.nearby` and the literals of :mod:`sleuth.indexer.evidence`), and
hits are shown in score order, so the number a person reads never rises down the list and the
floor keeps a prefix. Hybrid candidates are the dense list plus the best BM25 chunks the dense
side missed, whose cosine is computed too (re-embedded only if their code says they could
reach the top k), so every hybrid hit is scored on the same evidence. The hybrid curve's
blend was chosen for ranking (bench/calibrate.py, bench/quality.py); ``order="rrf"`` keeps
the Reciprocal Rank Fusion order instead (scores then capped by those above).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from sleuth.indexer.calibration import Calibration, calibration_for
from sleuth.indexer.candidates import Allowed, dense_candidates
from sleuth.indexer.chunking import chunk_input
from sleuth.indexer.embedder import Embedder
from sleuth.indexer.evidence import Evidence, literal_shares, query_literals
from sleuth.indexer.hits import MODES as MODES
from sleuth.indexer.hits import Hit as Hit
from sleuth.indexer.hits import Mode as Mode
from sleuth.indexer.hits import Scored as _Scored
from sleuth.indexer.hits import SearchResult as SearchResult
from sleuth.indexer.hits import Timings as Timings
from sleuth.indexer.hits import fuse as _fuse
from sleuth.indexer.hits import lexical_terms as lexical_terms
from sleuth.indexer.hits import non_increasing as _non_increasing
from sleuth.indexer.hybrid import plan_missed
from sleuth.indexer.nearby import nearby_similarities
from sleuth.indexer.options import DEFAULT_CANDIDATES as DEFAULT_CANDIDATES
from sleuth.indexer.options import Order, default_candidates
from sleuth.indexer.options import SearchOptions as SearchOptions
from sleuth.indexer.recompute import (
    SETTLE_MISSES,
    SMALLEST_SETTLE_MISSES,
    Candidate,
    Fit,
    rescore,
    settle,
)
from sleuth.indexer.source import read_texts
from sleuth.store.cache import VectorCache, cache_bound
from sleuth.store.codebook import ErrorModel
from sleuth.store.dense import DenseIndex, GraphCache
from sleuth.store.index import Index
from sleuth.store.scope import chunks_in_scope
from sleuth.store.vectors import FloatArray, SignCoder


class Searcher:
    """Searches one open index; the embedder is created only when a query needs it."""

    def __init__(self, index: Index, embedder: Callable[[], Embedder]) -> None:
        self.index = index
        self._make_embedder = embedder
        self._embedder: Embedder | None = None
        self._dense_index: DenseIndex | None = None
        self._graphs = GraphCache()  # a warm searcher views each graph file once
        manifest = index.manifest
        bound = cache_bound(index.catalog.counts()[1], manifest.storage)
        self.cache = VectorCache(index.directory, manifest.model.dims, bound)
        self.calibration: Calibration = calibration_for(manifest.model.sha256)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._make_embedder()
        return self._embedder

    def close(self) -> None:
        self.cache.close()

    def search(self, query: str, options: SearchOptions) -> SearchResult:
        return self._run(query, None, options)

    def search_vector(self, vector: FloatArray, options: SearchOptions) -> SearchResult:
        """Dense search from a ready embedding (``sleuth similar``); the mode is ignored."""
        return self._run("", vector, replace(options, mode="semantic"))

    def _run(self, query: str, vector: FloatArray | None, options: SearchOptions) -> SearchResult:
        result = SearchResult(hits=[])
        dense: list[_Scored] = []
        lexical: list[_Scored] = []
        coverage: dict[int, float] = {}
        literals = query_literals(query)
        with self.index.snapshot():
            t0 = time.perf_counter()
            self._dense_index = DenseIndex(self.index, self._graphs)
            result.timings.ann += time.perf_counter() - t0
            if options.mode != "lexical":
                result.waiting = self.index.catalog.pending_count()
                result.chunks = self._dense_index.size
            t0 = time.perf_counter()
            allowed = None
            if options.scope is not None:
                ids = chunks_in_scope(self.index.catalog.db, options.scope)
                allowed = Allowed(ids, set(ids.tolist()))
            result.timings.catalog += time.perf_counter() - t0
            qvec: FloatArray | None = None
            fit: Fit | None = None
            estimated: set[int] = set()  # chunks scored by their code's estimate (``fast``)
            if options.mode in ("hybrid", "semantic"):
                qvec, dense, fit, estimated = self._dense(query, vector, options, allowed, result)
            if options.mode in ("hybrid", "lexical"):
                also = [s.chunk.id for s in dense]
                lexical, coverage = self._lexical(query, also, options, allowed, result)
            similarity = {s.chunk.id: s.score for s in dense}
            # The best BM25 chunks the dense side missed get their cosine too (hybrid), so
            # that every hybrid candidate is scored on the same evidence.
            missed = [s for s in lexical if s.chunk.id not in similarity][: options.limit]
            nearby: dict[int, float] = {}
            if qvec is not None:
                candidates = [*similarity, *(s.chunk.id for s in missed)]
                nearby = self._nearby(qvec, candidates, result)
            texts = ((s.chunk.id, s.text) for s in [*dense, *lexical])
            literal = literal_shares(literals, texts) if literals else None
            evidence = Evidence(coverage, nearby, literal)
            if options.mode == "hybrid" and qvec is not None:
                cosines, guessed = self._missed_cosines(
                    qvec, missed, similarity, evidence, fit, options, result
                )
                similarity.update(cosines)
                estimated |= guessed
        t0 = time.perf_counter()
        if options.mode == "semantic":
            hits = [self._hit(s, "semantic", s.score, evidence) for s in dense]
            result.hits = sorted(hits, key=lambda h: -h.score)  # stable: cosine breaks ties
        elif options.mode == "lexical":
            result.hits = self._lexical_hits(lexical, evidence, options.order)
        else:
            result.hits = self._hybrid_hits(dense, lexical, similarity, evidence, options)
            while qvec is not None and result.hits and result.hits[0].chunk.id in estimated:
                # The best hit is always exact (see recompute.settle), in the fused order too.
                best = result.hits[0]
                estimated.discard(best.chunk.id)
                item = _Scored(best.chunk, best.text, 0.0)
                similarity.update(self._cosines(qvec, [item], result))
                result.hits = self._hybrid_hits(dense, lexical, similarity, evidence, options)
        result.hits = result.hits[: options.limit]
        result.timings.fuse = time.perf_counter() - t0
        return result

    def _hit(self, item: _Scored, mode: Mode, similarity: float | None, evidence: Evidence) -> Hit:
        coverage, near, literal = evidence.of(mode, item.chunk.id)
        score = self.calibration.score(mode, similarity, coverage, near, literal)
        return Hit(item.chunk, item.text, score, similarity, mode, coverage, near, literal)

    def _nearby(self, qvec: FloatArray, ids: list[int], result: SearchResult) -> dict[int, float]:
        t0 = time.perf_counter()
        assert self._dense_index is not None  # set for the snapshot this runs in
        found = nearby_similarities(self._dense_index, qvec, ids)
        result.timings.nearby += time.perf_counter() - t0
        return found

    def _lexical_hits(self, lexical: list[_Scored], evidence: Evidence, order: Order) -> list[Hit]:
        hits = [self._hit(s, "lexical", None, evidence) for s in lexical]
        if order == "rrf":
            return _non_increasing(hits)
        # Stable: BM25 order breaks ties of coverage (every chunk holding all the terms).
        return sorted(hits, key=lambda h: -h.score)

    def _hybrid_hits(
        self,
        dense: list[_Scored],
        lexical: list[_Scored],
        similarity: dict[int, float],
        evidence: Evidence,
        options: SearchOptions,
    ) -> list[Hit]:
        fused = _fuse(dense, lexical, options.rrf_k, options.lexical_weight)
        found = {s.chunk.id: s for s in [*lexical, *dense]}
        hits = [
            self._hit(found[i], "hybrid", similarity[i], evidence) for i in fused if i in similarity
        ]
        if options.order == "rrf":
            return _non_increasing(hits)
        return sorted(hits, key=lambda h: -h.score)  # stable: RRF breaks ties

    def _missed_cosines(
        self,
        qvec: FloatArray,
        missed: list[_Scored],
        similarity: dict[int, float],
        evidence: Evidence,
        fit: Fit | None,
        options: SearchOptions,
        result: SearchResult,
    ) -> tuple[dict[int, float], set[int]]:
        """Cosines of the BM25 chunks the dense side did not score (see ``indexer.hybrid``),
        and which of them are estimates. A full index has them in its vectors."""
        if not missed:
            return {}, set()
        assert self._dense_index is not None  # set for the snapshot this runs in
        estimates = self._dense_index.estimate(qvec, [s.chunk.id for s in missed])
        if self.index.manifest.storage == "full":
            waiting = [s for s in missed if s.chunk.id not in estimates]
            return {**estimates, **self._cosines(qvec, waiting, result)}, set()
        # Cached vectors are free and exact, as in the dense list (recompute.settle).
        cached = self.cache.get((s.chunk.id, s.chunk.chunk.text_hash) for s in missed)
        free = {i: float(np.dot(qvec, v)) for i, v in cached.items()}
        result.timings.cached += len(free)
        rest = [s for s in missed if s.chunk.id not in free]
        error = self._error_model()
        kept, embed = plan_missed(
            rest,
            estimates,
            {**similarity, **free},
            evidence,
            fit,
            options.limit,
            self.calibration,
            error,
        )
        return {**kept, **free, **self._cosines(qvec, embed, result)}, set(kept)

    def _cosines(
        self, qvec: FloatArray, items: list[_Scored], result: SearchResult
    ) -> dict[int, float]:
        """Exact cosines of ``items``, from the recompute cache or by embedding them."""
        if not items:
            return {}
        t0 = time.perf_counter()
        vectors = self.cache.get((s.chunk.id, s.chunk.chunk.text_hash) for s in items)
        missing = [s for s in items if s.chunk.id not in vectors]
        if missing:
            fresh = self._embed_as_cached([chunk_input(s.chunk, s.text) for s in missing])
            pairs = list(zip(missing, fresh, strict=True))
            self.cache.put((s.chunk.id, s.chunk.chunk.text_hash, v) for s, v in pairs)
            vectors.update((s.chunk.id, v) for s, v in pairs)
        result.timings.recomputed += len(missing)
        result.timings.cached += len(items) - len(missing)
        result.timings.recompute += time.perf_counter() - t0
        return {i: float(np.dot(qvec, v)) for i, v in vectors.items()}

    # -- dense ---------------------------------------------------------------------------
    def _dense(
        self,
        query: str,
        vector: FloatArray | None,
        options: SearchOptions,
        allowed: Allowed | None,
        result: SearchResult,
    ) -> tuple[FloatArray, list[_Scored], Fit | None, set[int]]:
        t0 = time.perf_counter()
        qvec = vector if vector is not None else self._query_vector(query)
        result.timings.embed_query = time.perf_counter() - t0
        storage = self.index.manifest.storage
        compact = storage != "full"  # codes only: recompute the best
        sign_bits = isinstance(self.index.coder, SignCoder)
        cap = options.candidates or default_candidates(storage, sign_bits)
        want = max(cap, options.limit) if compact else options.limit
        t0 = time.perf_counter()
        catalog_before = result.timings.catalog
        assert self._dense_index is not None  # set for the snapshot this runs in
        picked = dense_candidates(
            self._dense_index, qvec, want, options.chunk_filter, allowed, result.timings
        )
        catalog = result.timings.catalog - catalog_before
        result.timings.ann += time.perf_counter() - t0 - catalog
        t0 = time.perf_counter()
        texts = read_texts(self.index.catalog, (c for c, _ in picked))
        live = [Candidate(c, text, s) for c, s in picked if (text := texts[c.id].text) is not None]
        result.stale += len(picked) - len(live)
        if compact:
            error = self._error_model()
            if error is None:
                done = rescore(qvec, live, options.limit, self._embed_as_cached, self.cache)
            else:  # codes that rank on their own: re-embed only the doubtful
                embed = self._embed_as_cached
                misses = SMALLEST_SETTLE_MISSES if storage == "minimal" else SETTLE_MISSES
                done = settle(qvec, live, options.limit, cap, embed, self.cache, error, misses)
            scored = [
                _Scored(c.chunk, c.text, done.scores[c.chunk.id])
                for c in live
                if c.chunk.id in done.scores
            ]
            result.timings.recomputed += done.recomputed
            result.timings.cached += done.cached
            fit, estimated = done.fit, set(done.estimated)
        else:
            scored = [_Scored(c.chunk, c.text, c.estimate) for c in live]
            fit, estimated = None, set()
        result.timings.recompute = time.perf_counter() - t0
        scored.sort(key=lambda s: -s.score)
        return qvec, scored, fit, estimated

    def _error_model(self) -> ErrorModel | None:
        """The error of the codes' estimates, shipped with codes precise enough to rank."""
        return self.index.coder.error

    def _embed_as_cached(self, texts: list[str]) -> FloatArray:
        """Fresh embeddings at the recompute cache's f16 precision, so that a hit scores
        exactly the same whether its vector was just computed or read from the cache.

        Not ``self.embedder.embed`` up front: the model loads only if a candidate is uncached.
        """
        vectors: FloatArray = self.embedder.embed(texts).astype(np.float16).astype(np.float32)
        return vectors

    def _query_vector(self, query: str) -> FloatArray:
        cached = self.cache.get_query(query)
        if cached is not None:
            return cached
        # At the cache's f16 precision too, so a repeated query scores exactly as the first.
        vector: FloatArray = self.embedder.embed([query])[0].astype(np.float16).astype(np.float32)
        self.cache.put_query(query, vector)
        return vector

    # -- lexical -------------------------------------------------------------------------
    def _lexical(
        self,
        query: str,
        also: list[int],
        options: SearchOptions,
        allowed: Allowed | None,
        result: SearchResult,
    ) -> tuple[list[_Scored], dict[int, float]]:
        """BM25's best chunks, and the coverage of the query by them and by ``also``."""
        t0 = time.perf_counter()
        catalog_before = result.timings.catalog
        terms = lexical_terms(query)
        if not terms:
            return [], {}
        depth = max(options.lexical_depth, options.limit)
        keep = options.chunk_filter
        ask = depth if keep is None else depth * 4
        within = None if allowed is None else allowed.members
        while True:
            match = self.index.catalog.lexical_match(terms, ask, also, within)
            found = match.hits
            t1 = time.perf_counter()
            rows = self.index.catalog.chunks(i for i, _ in found)
            result.timings.catalog += time.perf_counter() - t1
            picked = [
                (rows[i], s) for i, s in found if i in rows and (keep is None or keep(rows[i]))
            ]
            if len(picked) >= depth or len(found) < ask:
                break
            ask *= 4
        picked = picked[:depth]
        texts = read_texts(self.index.catalog, (c for c, _ in picked))
        out = [_Scored(c, texts[c.id].text or "", s) for c, s in picked if not texts[c.id].stale]
        result.stale += len(picked) - len(out)
        catalog = result.timings.catalog - catalog_before
        result.timings.lexical = time.perf_counter() - t0 - catalog
        return out, match.coverage
