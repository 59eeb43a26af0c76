"""The neighbourhood signal (the mean cosine over a hit's chunk and its neighbours) and the
literals (identifiers, quoted phrases) in the score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEmbedder
from hypothesis import given
from hypothesis import strategies as st

from sleuth.indexer.calibration import calibration_for
from sleuth.indexer.chunking import chunk_input
from sleuth.indexer.evidence import literal_shares, query_literals
from sleuth.indexer.pipeline import IndexSettings, run_index
from sleuth.indexer.search import MODES, Searcher, SearchOptions
from sleuth.indexer.source import read_texts
from sleuth.store.dense import DenseIndex
from sleuth.store.index import Index
from sleuth.store.manifest import StorageMode

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
TOPIC = "password reset account recovery email link"


def _corpus(root: Path) -> Path:
    """A short note all about the topic, and a long file with one chunk closer to the query
    than the note's, between chunks far from it."""
    docs = root / "docs"
    docs.mkdir()
    body = " ".join([TOPIC] * 15)  # a chunk of its own, never merged with a garden bed
    aside = " ".join(["kitchen"] * 12)  # so that the note's one chunk is the less close
    (docs / "note.md").write_text(f"# Note\n\n{body} {aside}\n")
    garden = "\n\n".join(
        f"## Bed {i}\n\n"
        + " ".join(f"tomato{i} seedling{i} compost{i} mulch{i}" for _ in range(40))
        for i in range(12)
    )
    (docs / "password-reset-account.md").write_text(f"# Garden\n\n## Help\n\n{body}\n\n{garden}\n")
    return docs


def _open(tmp_path: Path, storage: StorageMode) -> tuple[Index, Searcher, FakeEmbedder]:
    embedder = FakeEmbedder()
    run_index(tmp_path / "index", [_corpus(tmp_path)], embedder, IndexSettings(storage=storage))
    index = Index.open(tmp_path / "index")
    return index, Searcher(index, lambda: embedder), embedder


@given(unit, unit, unit, unit)
def test_the_score_rises_with_the_neighbourhood_and_without_one_a_hit_stands_for_it(
    s: float, c: float, f1: float, f2: float
) -> None:
    lo, hi = sorted((f1, f2))
    for cal in (calibration_for("0" * 64), calibration_for("f" * 64)):
        for mode in MODES:
            assert cal.score(mode, s, c, lo) <= cal.score(mode, s, c, hi)
            assert cal.score(mode, s, c, None) == cal.score(mode, s, c, s)


def _cosines(index: Index, embedder: FakeEmbedder) -> dict[str, list[tuple[int, float]]]:
    """file path -> (chunk id, exact cosine to TOPIC) of its chunks, in order."""
    chunks = list(index.catalog.iter_chunks())
    texts = read_texts(index.catalog, chunks)
    vectors = embedder.embed([chunk_input(c, texts[c.id].text or "") for c in chunks])
    query = embedder.embed([TOPIC])[0]
    by_file: dict[str, list[tuple[int, float]]] = {}
    for c, v in zip(chunks, vectors, strict=True):
        by_file.setdefault(c.file.path, []).append((c.id, float(v @ query)))
    return by_file


@pytest.mark.parametrize("reach", [0, 1, 2, 5])
def test_the_neighbourhood_is_the_chunk_and_its_neighbours_in_the_same_file(
    tmp_path: Path, reach: int
) -> None:
    index, searcher, embedder = _open(tmp_path, "full")
    try:
        by_file = _cosines(index, embedder)
        ids = [i for chunks in by_file.values() for i, _ in chunks]
        means = DenseIndex(index).nearby_means(embedder.embed([TOPIC])[0], ids, reach)
        for chunks in by_file.values():
            for at, (chunk_id, _) in enumerate(chunks):
                near = [c for _, c in chunks[max(0, at - reach) : at + reach + 1]]
                assert means[chunk_id] == pytest.approx(np.mean(near), abs=2e-3)
    finally:
        searcher.close()
        index.close()


def test_hits_carry_their_neighbourhood_with_reach_two(tmp_path: Path) -> None:
    index, searcher, embedder = _open(tmp_path, "full")
    try:
        by_file = _cosines(index, embedder)
        around: dict[int, float] = {}
        for chunks in by_file.values():
            for at, (chunk_id, _) in enumerate(chunks):
                around[chunk_id] = float(np.mean([c for _, c in chunks[max(0, at - 2) : at + 3]]))
        hits = searcher.search(TOPIC, SearchOptions(limit=50, mode="semantic")).hits
        assert len(hits) == len(around)
        for hit in hits:
            assert hit.nearby_similarity == pytest.approx(around[hit.chunk.id], abs=2e-3)
    finally:
        searcher.close()
        index.close()


@pytest.mark.parametrize("storage", ["full", "minimal"])
def test_a_passage_all_on_topic_outranks_one_lucky_chunk_among_unrelated_ones(
    tmp_path: Path, storage: StorageMode
) -> None:
    index, searcher, _ = _open(tmp_path, storage)
    try:
        hits = searcher.search(TOPIC, SearchOptions(limit=5)).hits
        lucky = next(h for h in hits if h.path.endswith("password-reset-account.md"))
        note = next(h for h in hits if h.path.endswith("note.md"))
        assert lucky.similarity is not None and note.similarity is not None
        assert lucky.similarity > note.similarity
        assert note.nearby_similarity is not None and lucky.nearby_similarity is not None
        assert lucky.nearby_similarity < note.nearby_similarity
        if storage == "full":  # exact; 1-bit codes put the fake's sparse vectors off scale
            assert note.nearby_similarity == pytest.approx(note.similarity, abs=2e-3)
        assert hits[0].path.endswith("note.md")
    finally:
        searcher.close()
        index.close()


@pytest.mark.parametrize(
    ("query", "literals"),
    [
        ("where is plan_missed defined", ("plan_missed",)),
        ("how do I use os.path.join", ("os.path.join",)),
        ("DenseIndex.estimate", ("denseindex.estimate", "denseindex")),
        ('"connection reset by peer" after a while', ("connection reset by peer",)),
        ("what's the 'retry policy' here", ("retry policy",)),
        ("the __init__ of getElementById", ("__init__", "getelementbyid")),
        ("Why are Python strings immutable? e.g. in 3.11", ()),
        ("U.S.A. travel rules, i.e. per diem", ()),
    ],
)
def test_literals_are_identifiers_and_quoted_phrases(query: str, literals: tuple[str, ...]) -> None:
    assert query_literals(query) == literals


def test_a_quoted_phrase_is_found_across_a_line_break() -> None:
    literals = query_literals('"connection reset by peer" in retry_loop')
    texts = [
        (1, "raise Error('Connection reset\n    by peer')\ndef retry_loop():"),
        (2, "connection was reset by the peer"),
        (3, "def retry_loop(): pass"),
    ]
    assert literal_shares(literals, texts) == {1: 1.0, 2: 0.0, 3: 0.5}


def test_a_chunk_naming_the_identifier_outranks_one_that_only_shares_its_words(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    # The prose holds more of the query's words (and the identifier's parts), so BM25 and
    # the (bag of words) embedding both prefer it; only the literal says which defines it.
    (docs / "notes.md").write_text("# Notes\n\nWhere is the plan? We missed it.\n")
    (docs / "hybrid.py").write_text("def plan_missed(items):\n    return sorted(items)\n")
    for i, words in enumerate(["tomato garden", "bread flour", "invoice total", "river boat"]):
        (docs / f"f{i}.md").write_text(f"# {words}\n\n{words} notes about {words}.\n")
    embedder = FakeEmbedder()
    run_index(tmp_path / "index", [docs], embedder)
    query = "where is plan_missed defined"
    with Index.open(tmp_path / "index") as index:
        searcher = Searcher(index, lambda: embedder)
        try:
            hits = searcher.search(query, SearchOptions(limit=3)).hits
            notes = next(h for h in hits if h.path.endswith("notes.md"))
            assert hits[0].path.endswith("hybrid.py") and hits[0].literal == 1.0
            assert notes.coverage is not None and hits[0].coverage is not None
            assert notes.coverage > hits[0].coverage and notes.literal == 0.0
            lexical = searcher.search(query, SearchOptions(limit=3, mode="lexical")).hits
            assert {h.literal for h in lexical} == {0.0, 1.0}
            semantic = searcher.search(query, SearchOptions(limit=3, mode="semantic")).hits
            assert all(h.literal is None for h in semantic)
            plain = searcher.search("where is the plan", SearchOptions(limit=3)).hits
            assert all(h.literal is None for h in plain)
        finally:
            searcher.close()
