"""Which BM25 chunks the dense side missed are re-embedded for their cosine in hybrid search."""

from __future__ import annotations

from sleuth.indexer.calibration import calibration_for
from sleuth.indexer.evidence import Evidence
from sleuth.indexer.hits import Scored
from sleuth.indexer.hybrid import plan_missed
from sleuth.indexer.model import shipped_model
from sleuth.indexer.recompute import Fit
from sleuth.store.codebook import ErrorModel
from sleuth.store.records import ChunkRecord, FileRecord, StoredChunk

CALIBRATION = calibration_for(shipped_model().sha256)
FILE = FileRecord("/c/a.md", "/c", "md", 1, 1, "0" * 64, True)
ERROR = ErrorModel(1.0, 0.0, 0.005)
FIT = Fit(1.0, 0.0, 3 * ERROR.sigma)


def _missed(*ids: int) -> list[Scored]:
    return [
        Scored(StoredChunk(i, FILE, ChunkRecord(i, 0, 1, 1, 1, None, "", 3, b"h")), "t", 1.0)
        for i in ids
    ]


NONE = Evidence()  # no coverage, no file signal, no literals

# Ten dense candidates already scored: the 10th sets the bar at cosine 0.40, no coverage.
DENSE = {100 + n: 0.60 - 0.02 * n for n in range(10)}


def test_compact_codes_are_never_kept_as_cosines() -> None:
    estimates = {1: 0.70, 2: 0.41, 3: 0.10}
    kept, embed = plan_missed(_missed(1, 2, 3), estimates, DENSE, NONE, FIT, 10, CALIBRATION, None)
    assert kept == {}
    assert [s.chunk.id for s in embed] == [1, 2]  # 3 cannot reach the bar even at its ceiling


def test_fast_codes_keep_the_sure_and_embed_the_doubtful() -> None:
    estimates = {1: 0.70, 2: 0.41, 3: 0.10}
    kept, embed = plan_missed(_missed(1, 2, 3), estimates, DENSE, NONE, FIT, 10, CALIBRATION, ERROR)
    assert kept == {1: 0.70}  # above the bar even at its lowest
    assert [s.chunk.id for s in embed] == [2]  # within the error of the bar


def test_a_chunk_without_a_code_is_always_embedded() -> None:
    kept, embed = plan_missed(_missed(7), {}, DENSE, NONE, FIT, 10, CALIBRATION, ERROR)
    assert kept == {} and [s.chunk.id for s in embed] == [7]


def test_without_a_bar_every_chunk_counts() -> None:
    few = dict(list(DENSE.items())[:3])
    kept, embed = plan_missed(
        _missed(1, 3), {1: 0.7, 3: 0.1}, few, NONE, FIT, 10, CALIBRATION, ERROR
    )
    assert kept == {1: 0.7, 3: 0.1} and embed == []
    kept, embed = plan_missed(
        _missed(1, 3), {1: 0.7, 3: 0.1}, few, NONE, FIT, 10, CALIBRATION, None
    )
    assert kept == {} and [s.chunk.id for s in embed] == [1, 3]
