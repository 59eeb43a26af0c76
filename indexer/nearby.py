"""The neighbourhood signal of a ranking: the mean cosine between the query and a hit's chunk
with its neighbours, ``REACH`` chunks either side in the same file.

Scoring by the best chunk alone rewards lucky chunks: each chunk is one more draw at a chance
match, so a long file with one paragraph near the query outranked a short note entirely about
it (on pyfaq, ranking by the best chunk gave nDCG@10 0.618 where one embedding of each
document's start gave 0.683: ARCHITECTURE.md). A passage a person is looking for is rarely a
lone chunk among unrelated ones: its neighbours share its topic. So the calibrated score
blends the chunk's own cosine with the mean over its neighbourhood (``bench/calibrate.py``
chose the blend for ranking).

Not the whole file's mean: a manual or an FAQ covers many topics, and the mean over all of it
buried the one right page. On the 8-PDF corpus, the R FAQ's answer to "why does a test of
equality between two decimal results return FALSE" (cosine 0.52) had a whole-file mean of
0.008 and fell below the floor. On pyfaq, whose files are sections of one or a few chunks, a
window of two either side ranked as well as the whole file (nDCG@10 0.681 against 0.679,
re-ranking the same candidates).

The mean comes from the codes (exact cosines in a full index) and is put on the cosine's
scale by the codes' own fixed map (``Coder.as_cosine``), never by anything fitted to one
query's candidates: the same hit then scores the same in ``search``, ``-l`` and ``--batch``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sleuth.store.dense import DenseIndex
from sleuth.store.vectors import FloatArray

REACH = 2


def nearby_similarities(
    dense: DenseIndex, query: FloatArray, ids: Sequence[int]
) -> dict[int, float]:
    """chunk id -> mean cosine of the query over that chunk's neighbourhood."""
    if not ids:
        return {}
    return dense.nearby_means(query, list(ids), REACH)
