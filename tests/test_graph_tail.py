"""The graph is merged lazily: new chunks are a flat tail, removed ones dead entries."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeEmbedder

from sleuth.indexer.pipeline import IndexSettings, run_index
from sleuth.indexer.search import Searcher, SearchOptions
from sleuth.store import graph_state
from sleuth.store.index import Index, check_consistency

WORDS = ("harbour", "glacier", "orchard", "violin", "lantern", "meadow", "copper", "falcon")


def _write(root: Path, names: range) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in names:
        word = WORDS[i % len(WORDS)]
        (root / f"n{i:02d}.txt").write_text(f"{word} {word} note {i} about the {word}\n")


def _index(directory: Path, root: Path) -> None:
    # One file per commit, so that every file is a commit of its own.
    run_index(directory, [root], FakeEmbedder(), IndexSettings(commit_chunks=1))


def _semantic_ids(index: Index, query: str) -> list[int]:
    embedder = FakeEmbedder()
    searcher = Searcher(index, lambda: embedder)
    try:
        hits = searcher.search(query, SearchOptions(limit=3, mode="semantic")).hits
    finally:
        searcher.close()
    return [h.chunk.id for h in hits]


@pytest.fixture(autouse=True)
def _graph_from_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLEUTH_GRAPH_MIN_CHUNKS", "2")
    monkeypatch.setattr(graph_state, "TAIL_MAX", 4)


def test_small_commits_leave_the_graph_file_alone_and_search_the_tail(tmp_path: Path) -> None:
    root, directory = tmp_path / "docs", tmp_path / "index"
    _write(root, range(3))  # the graph is made at the third chunk
    _index(directory, root)
    with Index.open(directory) as index:
        made = index.graph_state
        assert made is not None
    _write(root, range(3, 6))  # three more: a tail within TAIL_MAX
    _index(directory, root)
    with Index.open(directory) as index:
        state = index.graph_state
        assert state is not None and state.generation == made.generation
        assert len(index.load_graph().stored_keys()) == 3
        assert check_consistency(index) == []
        newest = index.catalog.chunk_ids_of(str(root / "n05.txt"))[0]
        assert newest > state.upto
        assert _semantic_ids(index, "meadow meadow note")[0] == newest
        files = {p.name for p in directory.glob("vectors.*.usearch")}
        assert files == {f"vectors.{made.generation}.usearch"}


def test_a_long_tail_and_many_removals_are_merged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graph_state, "DEAD_SHARE", 0.5)
    root, directory = tmp_path / "docs", tmp_path / "index"
    _write(root, range(3))
    _index(directory, root)
    _write(root, range(3, 12))  # the tail outgrows TAIL_MAX: merged
    _index(directory, root)
    with Index.open(directory) as index:
        state = index.graph_state
        assert state is not None and state.dead == 0
        # Earlier merges' files go as soon as no search can still be reading them.
        numbers = {int(p.name.split(".")[1]) for p in directory.glob("vectors.*.usearch")}
        recent = index.generation - state.generation <= 2
        assert numbers == {state.generation} | ({state.previous} if recent else set())
        assert index.catalog.counts()[1] - graph_state.mergeable(index.catalog, state.upto) == (
            len(index.load_graph().stored_keys())
        )
        assert check_consistency(index) == []
    (root / "n00.txt").unlink()
    _index(directory, root)
    with Index.open(directory) as index:
        state = index.graph_state
        assert state is not None
        assert state.dead == 1  # 1 of ~12: below DEAD_SHARE, still in the graph
        assert check_consistency(index) == []
        gone = str(root / "n00.txt")
        assert gone not in {
            index.catalog.chunks([i])[i].file.path for i in _semantic_ids(index, "harbour")
        }
    monkeypatch.setattr(graph_state, "DEAD_SHARE", 0.1)
    for i in range(1, 4):
        (root / f"n{i:02d}.txt").unlink()
    _index(directory, root)
    with Index.open(directory) as index:
        state = index.graph_state
        assert state is not None and state.dead == 0  # past DEAD_SHARE: merged away
        assert set(index.load_graph().stored_keys().tolist()) <= set(index.catalog.all_chunk_ids())
        assert check_consistency(index) == []


def test_a_warm_searcher_views_a_graph_file_once_and_follows_merges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, directory = tmp_path / "docs", tmp_path / "index"
    _write(root, range(3))
    _index(directory, root)
    views: list[int] = []
    original = Index.load_graph

    def counting(self: Index, *, view: bool = True) -> object:
        if view:  # a search's (a writer's merge loads it whole)
            views.append(self.generation)
        return original(self, view=view)

    monkeypatch.setattr(Index, "load_graph", counting)
    index = Index.open(directory)
    embedder = FakeEmbedder()
    searcher = Searcher(index, lambda: embedder)
    options = SearchOptions(limit=3, mode="semantic")
    try:
        for _ in range(3):
            assert searcher.search("harbour note", options).hits
        assert len(views) == 1
        _write(root, range(3, 12))  # past TAIL_MAX: merged into the next generation's file
        _index(directory, root)
        hits = searcher.search("falcon note 7", options).hits
        assert len(views) == 2
        assert hits[0].chunk.file.path == str(root / "n07.txt")
    finally:
        searcher.close()
        index.close()
