"""BM25 for terms in very many chunks: looked up where they can change the ranking only."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeEmbedder

from sleuth.indexer.pipeline import run_index
from sleuth.store import lexical
from sleuth.store.index import Index


def _corpus(root: Path) -> Path:
    root.mkdir(parents=True)
    for i in range(60):
        words = ["filler"] * (i % 7) + [f"rare{i % 5}"] * (i % 3 == 0)
        words += ["common"] * (i % 3 != 1) + ["usual"] * (i % 2 == 0)
        (root / f"n{i:02d}.txt").write_text(" ".join([f"word{i}", *words]) + "\n")
    return root


@pytest.fixture(params=[False, True], ids=["join", "length-index"])
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Index:
    """The shortest chunks of a common term found both ways: joined and sorted, or walked
    through the index of chunks by length that big catalogs get."""
    if request.param:
        monkeypatch.setattr(lexical, "LENGTH_INDEX_FROM", 0)
        monkeypatch.setattr(lexical, "LENGTH_PAGE", 7)  # several pages for 60 chunks
        monkeypatch.setattr(lexical, "WALK_SHARE", 1e9)  # walk even where the join is cheaper
    directory = tmp_path / "index"
    run_index(directory, [_corpus(tmp_path / "docs")], FakeEmbedder())
    opened = Index.open(directory)
    assert opened.catalog._has_length_index() is request.param
    return opened


def _both(
    index: Index, monkeypatch: pytest.MonkeyPatch, terms: list[str], also: list[int]
) -> tuple[lexical.LexicalMatch, lexical.LexicalMatch]:
    exact = index.catalog.lexical_match(terms, 5, also)
    monkeypatch.setattr(lexical, "COMMON_POSTINGS", 5)  # rare3 is in 4 chunks
    cheap = index.catalog.lexical_match(terms, 5, also)
    monkeypatch.setattr(lexical, "COMMON_POSTINGS", 20_000)
    return exact, cheap


def test_one_common_term_ranks_exactly(index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    exact, cheap = _both(index, monkeypatch, ["common"], [])
    assert len(exact.hits) == 5
    assert cheap.hits == exact.hits


def test_rare_and_common_terms_rank_and_cover_exactly(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = index.catalog.all_chunk_ids()
    also = [ids[2], ids[4], ids[5]]  # without the rare term; n02 and n05 hold "common"
    exact, cheap = _both(index, monkeypatch, ["rare3", "common", "nosuchword"], also)
    assert cheap.hits == exact.hits
    assert cheap.coverage.keys() == exact.coverage.keys()
    for chunk_id, share in exact.coverage.items():
        assert cheap.coverage[chunk_id] == pytest.approx(share)
    assert any(0 < exact.coverage[i] < 1 for i in also)


def test_only_common_terms_still_find_chunks_holding_them(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact, cheap = _both(index, monkeypatch, ["common", "usual"], [])
    assert len(cheap.hits) == 5
    # Every hit holds the rarer of the two (the shortest of its chunks are looked at).
    assert all(cheap.coverage[i] > 0.5 for i, _ in cheap.hits)
    assert cheap.hits[0] == exact.hits[0]
