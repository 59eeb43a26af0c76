"""Exact re-scoring of dense candidates by re-embedding their text, as few as it takes.

Candidates arrive ordered by their code score (an estimate of the cosine). They are
recomputed in that order, in small batches, and after each batch a straight line is fitted
from code score to exact cosine on everything scored so far. Recomputation stops once the
best remaining candidate could not reach the current k-th exact score even with the largest
error the fit has shown (plus three standard deviations): later candidates score lower still.
Vectors already in the cache cost nothing and are always used.

Codes whose codebook ships the error of its estimates (``fast``, and ``minimal``'s product
codes) take :func:`settle` instead: every candidate keeps its estimated cosine unless
recomputing it could change the top k, and recomputation stops once the expected number of
wrong members of the top k is below a budget (``SETTLE_MISSES``; ``SMALLEST_SETTLE_MISSES``
for ``minimal``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sleuth.indexer.chunking import chunk_input
from sleuth.store.cache import VectorCache
from sleuth.store.codebook import ErrorModel
from sleuth.store.records import StoredChunk
from sleuth.store.vectors import FloatArray

FIRST_BATCH = 10
NEXT_BATCH = 4  # small steps: good codes let the rule stop soon after the first k
MIN_FIT = 6
# Expected wrong members of a settled top k. With the 192-byte codes on corpus S (200 queries,
# nothing cached; recall@10 against exact search, chunks re-embedded by a hybrid query):
# 0.2 -> 0.997, 5.9; 0.4 -> 0.991, 4.9; 0.7 -> 0.980, 3.9; 1.0 -> 0.971, 3.2. Each
# re-embedding is ~0.1 s of a cold query on 2 cores, so 0.7 buys a first answer 0.2 s sooner
# for one top-10 member in 50; the best hit stays exact either way (SETTLE_EXACT).
SETTLE_MISSES = 0.7
# ``minimal``'s 48-byte product codes are coarser: each re-embedding there decides more, and
# 0.7 saved only ~10% of its ~24 re-embeddings for recall 0.939 -> 0.911 (0.4: 0.927).
SMALLEST_SETTLE_MISSES = 0.2
SETTLE_BATCH = 2  # a settled query re-embeds few chunks: small steps waste none
# The best candidates are always re-embedded: their cosine is the number a person reads first
# and the one the relevance floor decides "nothing relevant" by, and a code's error is
# largest on the best matches (their coordinates run furthest past the quantiser's range).
SETTLE_EXACT = 1


@dataclass(frozen=True, slots=True)
class Candidate:
    chunk: StoredChunk
    text: str
    estimate: float


@dataclass(frozen=True, slots=True)
class Rescored:
    scores: dict[int, float]  # chunk id -> exact cosine, for the candidates that were scored
    recomputed: int
    cached: int
    fit: Fit | None  # over every scored candidate: bounds the cosine of the unscored ones
    estimated: frozenset[int] = frozenset()  # ids in ``scores`` whose cosine is the estimate


@dataclass(frozen=True, slots=True)
class Fit:
    """Code score -> exact cosine, as a line plus the largest error it has shown."""

    slope: float
    intercept: float
    margin: float

    def ceiling(self, estimate: float) -> float:
        """The highest exact cosine a candidate with this code score can plausibly have."""
        return self.slope * estimate + self.intercept + self.margin


def fit_line(estimates: Sequence[float], exact: Sequence[float]) -> Fit | None:
    """The fit over the candidates scored so far, or None while there are too few."""
    if len(exact) < MIN_FIT:
        return None
    x = np.asarray(estimates, np.float64)
    y = np.asarray(exact, np.float64)
    slope, intercept = np.polyfit(x, y, 1)
    residuals = y - (slope * x + intercept)
    margin = max(float(np.abs(residuals).max()), 3.0 * float(residuals.std()))
    return Fit(float(slope), float(intercept), margin)


def can_stop(
    estimates: Sequence[float], exact: Sequence[float], next_estimate: float, need: int
) -> bool:
    """Whether no candidate with ``next_estimate`` or lower can enter the exact top ``need``."""
    fit = fit_line(estimates, exact) if len(exact) >= need else None
    if fit is None:
        return False
    threshold = float(np.sort(np.asarray(exact))[-need])
    return fit.ceiling(next_estimate) < threshold


def rescore(
    query: FloatArray,
    candidates: Sequence[Candidate],
    need: int,
    embed: Callable[[list[str]], FloatArray],
    cache: VectorCache,
) -> Rescored:
    cached = cache.get((c.chunk.id, c.chunk.chunk.text_hash) for c in candidates)
    scores: dict[int, float] = {}
    estimates: list[float] = []
    exact: list[float] = []
    recomputed = 0
    position = 0
    batch_size = FIRST_BATCH
    stopped = False
    while position < len(candidates) and not stopped:
        batch: list[Candidate] = []
        while position < len(candidates) and len(batch) < batch_size:
            item = candidates[position]
            vector = cached.get(item.chunk.id)
            if vector is not None:
                _record(item, float(np.dot(query, vector)), scores, estimates, exact)
            elif not batch and scores and can_stop(estimates, exact, item.estimate, need):
                # Decided before each new batch, so cached vectors alone can settle the query.
                stopped = True
                break
            else:
                batch.append(item)
            position += 1
        if batch:
            fresh = embed([chunk_input(c.chunk, c.text) for c in batch])
            cache.put(
                (c.chunk.id, c.chunk.chunk.text_hash, v) for c, v in zip(batch, fresh, strict=True)
            )
            for item, vector in zip(batch, fresh, strict=True):
                _record(item, float(np.dot(query, vector)), scores, estimates, exact)
            recomputed += len(batch)
        batch_size = NEXT_BATCH
    # Cached vectors further down the list are free: use them too.
    for item in candidates[position:]:
        vector = cached.get(item.chunk.id)
        if vector is not None:
            _record(item, float(np.dot(query, vector)), scores, estimates, exact)
    return Rescored(scores, recomputed, len(scores) - recomputed, fit_line(estimates, exact))


def _record(
    item: Candidate,
    score: float,
    scores: dict[int, float],
    estimates: list[float],
    exact: list[float],
) -> None:
    scores[item.chunk.id] = score
    estimates.append(item.estimate)
    exact.append(score)


def settle(
    query: FloatArray,
    candidates: Sequence[Candidate],
    need: int,
    cap: int,
    embed: Callable[[list[str]], FloatArray],
    cache: VectorCache,
    error: ErrorModel,
    misses: float | None = None,
) -> Rescored:
    """Exact cosines for the candidates whose side of the top-``need`` line is in doubt.

    Each candidate's cosine is ``error``'s line through its code score, off by a normal error
    of ``error.sigma``. The line is drawn between the ``need``-th and next best of the current
    scores (exact where known); a candidate's chance of lying on its other side is the normal
    tail beyond that distance. The likeliest misplaced candidates are re-embedded, two at a
    time, until the chances left add up to at most ``misses`` (default ``SETTLE_MISSES``)
    and the best
    ``SETTLE_EXACT`` are exact, or ``cap`` were re-embedded. Every candidate is returned:
    the unsettled ones with their estimate."""
    if not candidates:
        return Rescored({}, 0, 0, None)
    cached = cache.get((c.chunk.id, c.chunk.chunk.text_hash) for c in candidates)
    guess = np.array([error.cosine(c.estimate) for c in candidates], np.float64)
    exact = np.full(len(candidates), np.nan)
    for n, item in enumerate(candidates):
        vector = cached.get(item.chunk.id)
        if vector is not None:
            exact[n] = float(np.dot(query, vector))
    budget = SETTLE_MISSES if misses is None else misses
    recomputed = 0
    while recomputed < cap:
        current = np.where(np.isnan(exact), guess, exact)
        best = [int(n) for n in np.argsort(-current, kind="stable")[:SETTLE_EXACT]]
        batch = [n for n in best if np.isnan(exact[n])]
        if len(candidates) > need:
            doubt = _doubt(current, np.isnan(exact), need, error)
            left = float(doubt.sum())
            for n in (int(n) for n in np.argsort(-doubt, kind="stable")):
                if left <= budget or len(batch) >= SETTLE_BATCH:
                    break
                if n not in batch:
                    batch.append(n)
                    left -= float(doubt[n])
        batch = batch[: cap - recomputed]
        if not batch:
            break
        items = [candidates[n] for n in batch]
        fresh = embed([chunk_input(c.chunk, c.text) for c in items])
        cache.put(
            (c.chunk.id, c.chunk.chunk.text_hash, v) for c, v in zip(items, fresh, strict=True)
        )
        for n, vector in zip(batch, fresh, strict=True):
            exact[n] = float(np.dot(query, vector))
        recomputed += len(batch)
    known = ~np.isnan(exact)
    scores = {
        c.chunk.id: float(exact[n] if known[n] else guess[n]) for n, c in enumerate(candidates)
    }
    estimated = frozenset(c.chunk.id for n, c in enumerate(candidates) if not known[n])
    fit = Fit(error.slope, error.intercept, 3.0 * error.sigma)
    return Rescored(scores, recomputed, int(known.sum()) - recomputed, fit, estimated)


def _doubt(scores: np.ndarray, unknown: np.ndarray, need: int, error: ErrorModel) -> np.ndarray:
    """Each unknown candidate's chance of being on the wrong side of the top-``need`` line."""
    ranked = np.sort(scores)[::-1]
    line = 0.5 * (ranked[need - 1] + ranked[need])
    z = np.abs(scores - line) / (error.sigma * math.sqrt(2.0))
    tail = 0.5 * np.array([math.erfc(v) for v in z])
    return np.where(unknown, tail, 0.0)
