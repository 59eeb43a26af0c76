"""Exact re-scoring of dense candidates by re-embedding their text, as few as it takes.

Candidates arrive ordered by their code score (an estimate of the cosine). They are
recomputed in that order, in small batches, and after each batch a straight line is fitted
from code score to exact cosine on everything scored so far. Recomputation stops once the
best remaining candidate could not reach the current k-th exact score even with the largest
error the fit has shown (plus three standard deviations): later candidates score lower still.
Vectors already in the cache cost nothing and are always used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sleuth.indexer.chunking import chunk_input
from sleuth.store.cache import VectorCache
from sleuth.store.records import StoredChunk
from sleuth.store.vectors import FloatArray

FIRST_BATCH = 10
NEXT_BATCH = 4  # small steps: good codes let the rule stop soon after the first k
MIN_FIT = 6


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
