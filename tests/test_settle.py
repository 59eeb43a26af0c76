"""``fast`` storage's settling: only candidates whose side of the top-k line is in doubt are
re-embedded; the rest keep their code's estimate."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from sleuth.indexer import recompute
from sleuth.indexer.recompute import Candidate, settle
from sleuth.store.cache import VectorCache
from sleuth.store.codebook import ErrorModel
from sleuth.store.records import ChunkRecord, FileRecord, StoredChunk

DIMS = 8
QUERY = np.eye(DIMS, dtype=np.float32)[0]


def _vector(cosine: float) -> np.ndarray:
    """A unit vector whose cosine to QUERY is ``cosine``."""
    v = np.zeros(DIMS, np.float32)
    v[0], v[1] = cosine, np.sqrt(1.0 - cosine * cosine)
    return v


def _candidates(estimates: list[float], exact: list[float]) -> tuple[list[Candidate], dict]:
    file = FileRecord("/c/a.txt", "/c", "text", 1, 1, "0" * 64, True)
    items, truth = [], {}
    for n, (estimate, cosine) in enumerate(zip(estimates, exact, strict=True)):
        text = f"chunk {n}"
        record = ChunkRecord(n, 0, 1, 1, 1, None, "", 3, hashlib.sha256(text.encode()).digest())
        items.append(Candidate(StoredChunk(n + 1, file, record), text, estimate))
        truth[text] = _vector(cosine)
    return items, truth


class _Model:
    def __init__(self, truth: dict[str, np.ndarray]) -> None:
        self.truth = truth
        self.seen: list[str] = []

    def embed(self, inputs: list[str]) -> np.ndarray:
        texts = [next(t for t in self.truth if i.endswith(t)) for i in inputs]
        self.seen.extend(texts)
        return np.stack([self.truth[t] for t in texts])


@pytest.fixture
def cache(tmp_path: Path) -> VectorCache:
    return VectorCache(tmp_path, DIMS, 100)


def test_well_separated_codes_settle_with_only_the_best_re_embedded(cache: VectorCache) -> None:
    estimates = [0.9, 0.8, 0.7, 0.3, 0.2, 0.1]
    exact = [0.92, 0.8, 0.7, 0.3, 0.2, 0.1]
    items, truth = _candidates(estimates, exact)
    model = _Model(truth)
    done = settle(QUERY, items, 3, 20, model.embed, cache, ErrorModel(1.0, 0.0, 0.01))
    assert done.recomputed == 1 and model.seen == ["chunk 0"]  # the best is always exact
    assert done.scores == {i + 1: pytest.approx(e, abs=1e-3) for i, e in enumerate(exact)}
    assert done.estimated == frozenset(range(2, 7))


def test_only_the_candidates_near_the_line_are_re_embedded(cache: VectorCache) -> None:
    # The 3rd and 4th are 0.005 apart by code, and their exact cosines are the other way round.
    # Each is ~0.45 likely on the wrong side: minimal's budget of 0.2 misses settles both.
    misses = recompute.SMALLEST_SETTLE_MISSES
    assert misses < 0.45
    estimates = [0.9, 0.8, 0.505, 0.500, 0.2, 0.1]
    exact = [0.9, 0.8, 0.49, 0.51, 0.2, 0.1]
    items, truth = _candidates(estimates, exact)
    model = _Model(truth)
    error = ErrorModel(1.0, 0.0, 0.02)
    done = settle(QUERY, items, 3, 20, model.embed, cache, error, misses)
    assert sorted(model.seen) == ["chunk 0", "chunk 2", "chunk 3"]
    top = sorted(done.scores, key=lambda i: -done.scores[i])[:3]
    assert top == [1, 2, 4]  # the exact top 3
    assert done.scores[4] == pytest.approx(0.51, abs=1e-3)
    assert done.estimated == frozenset({2, 5, 6})


def test_the_default_budget_settles_the_pair_in_doubt_with_one_re_embedding(
    cache: VectorCache,
) -> None:
    # Together the pair is ~0.9 likely to hold a misplaced member, over the default budget;
    # once the likelier one is exact, the other's ~0.45 is within it, and stays an estimate.
    assert 0.45 < recompute.SETTLE_MISSES < 0.9
    estimates = [0.9, 0.8, 0.505, 0.500, 0.2, 0.1]
    exact = [0.9, 0.8, 0.49, 0.51, 0.2, 0.1]
    items, truth = _candidates(estimates, exact)
    model = _Model(truth)
    done = settle(QUERY, items, 3, 20, model.embed, cache, ErrorModel(1.0, 0.0, 0.02))
    assert len(model.seen) == 2 and "chunk 0" in model.seen  # the best, and one of the pair
    assert done.recomputed == 2
    assert len(done.estimated) == 4


def test_the_cap_bounds_the_re_embeddings(cache: VectorCache) -> None:
    estimates = [0.50 + 0.001 * n for n in range(12)][::-1]  # all in doubt
    items, truth = _candidates(estimates, estimates)
    model = _Model(truth)
    done = settle(QUERY, items, 5, 4, model.embed, cache, ErrorModel(1.0, 0.0, 0.05))
    assert done.recomputed == 4 and len(model.seen) == 4
    assert len(done.scores) == 12


def test_cached_vectors_are_free_and_count_as_cached(cache: VectorCache) -> None:
    estimates = [0.9, 0.8, 0.505, 0.500, 0.2, 0.1]
    exact = [0.9, 0.8, 0.49, 0.51, 0.2, 0.1]
    items, truth = _candidates(estimates, exact)
    error = ErrorModel(1.0, 0.0, 0.02)
    first = settle(QUERY, items, 3, 20, _Model(truth).embed, cache, error)
    model = _Model(truth)
    again = settle(QUERY, items, 3, 20, model.embed, cache, error)
    assert model.seen == [] and again.recomputed == 0 and again.cached == first.recomputed
    assert again.scores == pytest.approx(first.scores, abs=1e-3)  # the cache keeps f16


def test_the_line_maps_code_scores_to_cosines(cache: VectorCache) -> None:
    items, truth = _candidates([0.4, 0.1], [0.9, 0.3])
    done = settle(QUERY, items, 3, 20, _Model(truth).embed, cache, ErrorModel(2.0, 0.1, 0.01))
    assert done.scores[2] == pytest.approx(0.3)  # 2 * 0.1 + 0.1; the best one is exact
    assert done.estimated == frozenset({2})
