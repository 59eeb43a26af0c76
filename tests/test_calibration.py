"""The calibrated score: a probability in 0..1, monotone in its evidence, keyed by the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import FakeEmbedder
from hypothesis import given
from hypothesis import strategies as st

from sleuth.indexer.calibration import (
    DATA_FILE,
    Calibration,
    CalibrationError,
    calibration_for,
    default_min_score,
)
from sleuth.indexer.model import shipped_model
from sleuth.indexer.pipeline import IndexSettings, run_index
from sleuth.indexer.search import MODES, Mode, Searcher, SearchOptions
from sleuth.store.index import Index

SHIPPED = shipped_model().path.with_name(shipped_model().path.name + ".sha256")
SHIPPED_SHA = SHIPPED.read_text().split()[0]
unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def _calibrations() -> list[Calibration]:
    return [calibration_for(SHIPPED_SHA), calibration_for("f" * 64)]


def test_the_shipped_model_has_a_fitted_calibration_and_others_the_fallback() -> None:
    assert calibration_for(SHIPPED_SHA).fitted
    fallback = calibration_for("f" * 64)
    assert not fallback.fitted and fallback.name == "fallback"
    assert 0.0 < default_min_score() < 1.0


@given(unit, unit, unit, unit)
def test_scores_are_probabilities_monotone_in_each_feature(
    s1: float, s2: float, c1: float, c2: float
) -> None:
    lo_s, hi_s = sorted((s1, s2))
    lo_c, hi_c = sorted((c1, c2))
    for cal in _calibrations():
        for mode in MODES:
            low = cal.score(mode, lo_s, lo_c)
            high = cal.score(mode, hi_s, hi_c)
            assert 0.0 <= low <= high <= 1.0


def test_modes_use_only_their_own_evidence() -> None:
    cal = calibration_for(SHIPPED_SHA)
    assert cal.score("semantic", 0.5, 0.0) == cal.score("semantic", 0.5, 1.0)
    assert cal.score("lexical", 0.0, 0.5) == cal.score("lexical", 0.9, 0.5)
    assert cal.score("hybrid", 0.6, 0.8) > cal.score("hybrid", 0.6, 0.0)
    # Nonsense (demo cosines of off-topic queries ~0.05-0.2) stays far below the floor, a
    # clear match (cosine 0.6 with the query's words) far above.
    floor = default_min_score()
    assert cal.score("hybrid", 0.2, 0.0) < floor < cal.score("hybrid", 0.6, 0.5)


def test_fallback_is_more_conservative_than_a_fitted_curve_for_weak_evidence() -> None:
    fallback = calibration_for("f" * 64)
    assert fallback.score("semantic", 0.2, None) < default_min_score()


def test_a_negative_weight_is_refused(tmp_path: Path) -> None:
    raw = json.loads(DATA_FILE.read_text())
    raw["lexical"]["weights"]["coverage"] = -1.0
    broken = tmp_path / "calibration.json"
    broken.write_text(json.dumps(raw))
    with pytest.raises(CalibrationError, match="bad weight"):
        calibration_for(SHIPPED_SHA, broken)


def test_a_missing_data_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="unusable"):
        default_min_score(tmp_path / "nothing.json")


def _searcher(tmp_path: Path) -> tuple[Index, Searcher]:
    docs = tmp_path / "docs"
    docs.mkdir()
    topics = ["sourdough bread starter flour", "password reset account", "tomato garden seeds"]
    for i, topic in enumerate(topics):
        for j in range(4):
            (docs / f"n{i}{j}.md").write_text(f"# Note {i}{j}\n\n{topic} part {j} {'x ' * j}\n")
    embedder = FakeEmbedder()
    run_index(tmp_path / "index", [docs], embedder)
    index = Index.open(tmp_path / "index")
    return index, Searcher(index, lambda: embedder)


@pytest.mark.parametrize("mode", MODES)
def test_hits_are_shown_in_score_order_in_every_mode(tmp_path: Path, mode: Mode) -> None:
    index, searcher = _searcher(tmp_path)
    try:
        hits = searcher.search("password reset", SearchOptions(limit=8, mode=mode)).hits
        assert hits
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert hits[0].path.endswith(("n10.md", "n11.md", "n12.md", "n13.md"))
        if mode != "lexical":
            assert all(h.similarity is not None for h in hits)
        if mode != "semantic":
            assert all(h.coverage is not None and 0.0 <= h.coverage <= 1.0 for h in hits)
    finally:
        searcher.close()
        index.close()


def test_the_same_hit_scores_the_same_at_any_limit(tmp_path: Path) -> None:
    index, searcher = _searcher(tmp_path)
    try:
        wide = searcher.search("garden seeds", SearchOptions(limit=10)).hits
        narrow = searcher.search("garden seeds", SearchOptions(limit=2)).hits
        by_id = {h.chunk.id: h.score for h in wide}
        assert [h.chunk.id for h in narrow] == [h.chunk.id for h in wide[:2]]
        assert all(by_id[h.chunk.id] == h.score for h in narrow)
    finally:
        searcher.close()
        index.close()


def test_rrf_order_keeps_scores_non_increasing(tmp_path: Path) -> None:
    index, searcher = _searcher(tmp_path)
    try:
        hits = searcher.search("bread flour", SearchOptions(limit=8, order="rrf")).hits
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)
    finally:
        searcher.close()
        index.close()


def test_a_full_index_scores_hybrid_candidates_without_re_embedding(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(12):
        words = "password reset account" if i % 3 == 0 else "garden tomato seeds"
        (docs / f"n{i}.md").write_text(f"# Note {i}\n\n{words} note {i} password\n")
    embedder = FakeEmbedder()
    run_index(tmp_path / "index", [docs], embedder, IndexSettings(storage="full"))
    with Index.open(tmp_path / "index") as index:
        searcher = Searcher(index, lambda: embedder)
        try:
            before = embedder.embedded
            hits = searcher.search("password", SearchOptions(limit=3)).hits
            assert len(hits) == 3 and all(h.similarity is not None for h in hits)
            assert embedder.embedded - before == 1  # the query; chunks come from their vectors
        finally:
            searcher.close()
