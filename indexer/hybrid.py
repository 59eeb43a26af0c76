"""Hybrid search's BM25 chunks that the dense side did not score: which get re-embedded for
their cosine and which are scored without it.

Every hybrid candidate is ranked by the calibrated score of its cosine and other evidence, so
the BM25 chunks the dense list missed need a cosine too. On a cold query each re-embedding
costs as much as the whole rest of the search, so only those are re-embedded that could still
enter the top ``limit`` even at the highest cosine their code allows.
"""

from __future__ import annotations

from collections.abc import Sequence

from sleuth.indexer.calibration import Calibration
from sleuth.indexer.evidence import Evidence
from sleuth.indexer.hits import Scored
from sleuth.indexer.recompute import Fit
from sleuth.store.codebook import ErrorModel


def plan_missed(
    missed: Sequence[Scored],
    estimates: dict[int, float],
    similarity: dict[int, float],
    evidence: Evidence,
    fit: Fit | None,
    limit: int,
    calibration: Calibration,
    error: ErrorModel | None,
) -> tuple[dict[int, float], list[Scored]]:
    """(cosines kept as estimated, chunks to re-embed) for the ``missed`` chunks.

    ``estimates`` holds their code scores (a chunk still waiting for its embedding, while a
    first index runs, has none and is always embedded); ``similarity`` the cosines of the
    candidates scored already, which set the bar of the top ``limit``; ``evidence`` the rest of
    what both are scored on. Codes that rank on their own (``error`` is shipped: ``fast``)
    keep their estimate wherever it clears the bar even at its lowest; compact and minimal
    codes are never trusted for a cosine."""
    known = sorted(
        (evidence.score(calibration, "hybrid", i, c) for i, c in similarity.items()),
        reverse=True,
    )
    ids = {s.chunk.id for s in missed}
    guesses = (
        {} if error is None else {i: error.cosine(e) for i, e in estimates.items() if i in ids}
    )
    if fit is None or len(known) < limit:  # no bar yet: every chunk counts
        return guesses, [s for s in missed if s.chunk.id not in guesses]
    bar = known[limit - 1]

    def reaches(chunk_id: int, cosine: float) -> bool:
        return evidence.score(calibration, "hybrid", chunk_id, cosine) >= bar

    sure = {i: c for i, c in guesses.items() if reaches(i, c - fit.margin)}
    worth = [
        s
        for s in missed
        if s.chunk.id not in sure
        and (s.chunk.id not in estimates or reaches(s.chunk.id, fit.ceiling(estimates[s.chunk.id])))
    ]
    return sure, worth
