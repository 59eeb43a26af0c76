"""The per-file signal of a ranking: the mean cosine between the query and a hit's file.

Scoring a file by its best chunk favours long files: each chunk is one more draw at a lucky
match, so a manual with one paragraph near the query outranks a short note that is entirely
about it. On pyfaq, ranking by the best chunk gave nDCG@10 0.618 where one embedding of each
document's start gave 0.683 (ARCHITECTURE.md). The mean over the file's chunks says how much
of the file is about the query; the calibrated score blends it with the chunk's own cosine
(``bench/calibrate.py`` chose the blend for ranking), so the best chunk still decides within a
file and the file signal between files of unequal focus.

The mean comes from the codes (exact cosines in a full index), over at most ``FILE_SAMPLE``
evenly spaced chunks of the file, so a query costs the same on a 1,000-page PDF, and is put
on the cosine's scale by the codes' own fixed map (``Coder.as_cosine``), never by anything
fitted to one query's candidates: the same hit then scores the same in ``search``, ``-l`` and
``--batch``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sleuth.store.dense import DenseIndex
from sleuth.store.vectors import FloatArray

FILE_SAMPLE = 256


def file_similarities(dense: DenseIndex, query: FloatArray, ids: Sequence[int]) -> dict[int, float]:
    """chunk id -> mean cosine of the query over that chunk's file."""
    if not ids:
        return {}
    return dense.file_means(query, list(ids), FILE_SAMPLE)
