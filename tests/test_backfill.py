"""Text first, vectors after: a run's text is searchable before any chunk is embedded, the
dense side uses what is ready, and an interrupted embedding pass resumes where it stopped."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from clirun import sleuth
from fakes import FakeEmbedder

from sleuth.indexer import backfill
from sleuth.indexer.embedder import LlamaEmbedder
from sleuth.indexer.pipeline import Reporter, run_index
from sleuth.indexer.search import Searcher, SearchOptions
from sleuth.store.index import Index, check_consistency
from sleuth.store.paths import resolve_index
from sleuth.store.vectors import FloatArray

WORDS = ("lighthouse", "harbour", "orchard", "glacier", "meadow", "quarry", "estuary", "canyon")


def _corpus(root: Path, files: int = 24) -> Path:
    root.mkdir(parents=True)
    for n in range(files):
        word = WORDS[n % len(WORDS)]
        parts = (f"Part {p} of note {n}: the {word} survey, entry {p}." for p in range(40))
        body = "\n\n".join(parts)
        (root / f"note{n:02d}.md").write_text(f"# Note {n} about the {word}\n\n{body}\n")
    return root


class Watching(FakeEmbedder):
    """Searches the index from another connection the first time it is asked to embed."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        self.seen: dict[str, object] = {}

    def embed(self, texts: Sequence[str]) -> FloatArray:
        if not self.seen:
            with Index.open(self.directory) as index:
                searcher = Searcher(index, FakeEmbedder)
                lexical = searcher.search("canyon", SearchOptions(limit=50, mode="lexical"))
                hybrid = searcher.search("canyon survey", SearchOptions(limit=5, mode="hybrid"))
                searcher.close()
                self.seen = {
                    "files": len(index.catalog.files()),
                    "lexical": {h.chunk.file.path for h in lexical.hits},
                    "hybrid": [h.chunk.file.path for h in hybrid.hits],
                    "waiting": hybrid.waiting,
                    "chunks": hybrid.chunks,
                    "problems": check_consistency(index),
                }
        return super().embed(texts)


def test_every_file_is_searchable_lexically_before_the_first_embedding(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "docs")
    directory = tmp_path / "index"
    embedder = Watching(directory)
    summary = run_index(directory, [root], embedder)
    seen = embedder.seen
    assert seen["files"] == 24
    assert seen["lexical"] == {str(root / f"note{n:02d}.md") for n in range(7, 24, 8)}
    assert seen["waiting"] == seen["chunks"] == summary.chunks_added
    # Hybrid embeds the few BM25 chunks that have no code yet, so it answers too.
    hybrid = seen["hybrid"]
    assert isinstance(hybrid, list) and "canyon" in Path(hybrid[0]).read_text()
    assert seen["problems"] == []
    assert summary.chunks_waiting == 0
    with Index.open(directory) as index:
        assert index.catalog.pending_count() == 0
        assert len(index.catalog.codes()[0]) == summary.chunks_added


@pytest.mark.parametrize("graph", [False, True])
def test_a_stopped_embedding_pass_resumes_and_embeds_only_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, graph: bool
) -> None:
    if graph:
        monkeypatch.setenv("SLEUTH_GRAPH_MIN_CHUNKS", "0")
    monkeypatch.setattr(backfill, "SLICE_CHUNKS", 16)
    root = _corpus(tmp_path / "docs")
    directory = tmp_path / "index"
    done = [0]  # chunks given a code so far: stop after two slices of 16
    stop = Reporter(
        should_stop=lambda: done[0] >= 32,
        on_embedding=lambda e: done.__setitem__(0, e.chunks_done),
    )
    first = FakeEmbedder()
    summary = run_index(directory, [root], first, reporter=stop)
    total = summary.chunks_added
    assert summary.chunks_waiting == total - 32
    with Index.open(directory) as index:
        assert check_consistency(index) == []
        ready = set(index.catalog.codes()[0])
        searcher = Searcher(index, FakeEmbedder)
        found = searcher.search("glacier survey", SearchOptions(limit=100, mode="semantic"))
        searcher.close()
        assert found.waiting == total - 32
        assert found.hits and {h.chunk.id for h in found.hits} <= ready

    second = FakeEmbedder()
    again = run_index(directory, [root], second)
    assert again.files_indexed == 0 and again.chunks_waiting == 0
    assert second.embedded == total - 32
    with Index.open(directory) as index:
        assert check_consistency(index) == []
        assert index.catalog.pending_count() == 0
        if graph:
            assert index.graph_state is not None


def test_identical_chunks_waiting_in_one_pass_are_embedded_once(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    text = "# Licence\n\nPermission is granted to use, copy and modify this software freely.\n"
    for sub in ("a", "b", "c"):
        (root / sub).mkdir()
        (root / sub / "LICENSE.md").write_text(text)
    embedder = FakeEmbedder()
    summary = run_index(tmp_path / "index", [root], embedder)
    assert summary.chunks_added == 3
    assert embedder.embedded == 1
    assert summary.chunks_shared == 2


def test_search_says_the_dense_side_is_still_being_built(
    tmp_path: Path, real_embedder: LlamaEmbedder
) -> None:
    root = _corpus(tmp_path / "docs", files=4)
    directory = resolve_index(None).directory
    asked = iter(range(100))  # asked once per file while reading, then before embedding
    stop = Reporter(should_stop=lambda: next(asked) >= 4)
    summary = run_index(directory, [root], real_embedder, reporter=stop)
    assert summary.chunks_waiting == summary.chunks_added > 0
    found = sleuth("search", "glacier survey", "--json", "--min-score", "0")
    assert found.code == 0, found.err
    assert found.json_lines() and found.json_lines()[0]["path"].endswith("note03.md")
    assert (
        f"the dense index is still being built (0 of {summary.chunks_added} chunks embedded)"
        in found.err
    )
    lexical = sleuth("search", "glacier", "--mode", "lexical", "--json", "--min-score", "0")
    assert lexical.code == 0 and "still being built" not in lexical.err
    status = sleuth("status", "--json")
    assert status.json_lines()[0]["chunks_waiting"] == summary.chunks_added


def test_the_watcher_embeds_what_an_interrupted_index_left_waiting(tmp_path: Path) -> None:
    from sleuth.indexer.watcher import Watcher

    root = _corpus(tmp_path / "docs", files=6)
    directory = tmp_path / "index"
    asked = iter(range(100))  # asked once per file while reading, then before embedding
    summary = run_index(
        directory, [root], FakeEmbedder(), reporter=Reporter(should_stop=lambda: next(asked) >= 6)
    )
    assert summary.chunks_waiting == summary.chunks_added > 0
    embedder = FakeEmbedder()
    event = Watcher(directory, [root], embedder).run_once()
    assert event.summary.chunks_waiting == 0
    assert embedder.embedded == summary.chunks_added
    with Index.open(directory) as index:
        assert index.catalog.pending_count() == 0
        assert check_consistency(index) == []


def test_embedding_progress_is_counted_in_tokens_and_ends_at_the_total(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sleuth.indexer.backfill import Embedding

    monkeypatch.setattr(backfill, "EMBED_SLICE", 4)

    root = _corpus(tmp_path / "docs", files=8)
    events: list[Embedding] = []
    summary = run_index(
        tmp_path / "index", [root], FakeEmbedder(), reporter=Reporter(on_embedding=events.append)
    )
    with Index.open(tmp_path / "index") as index:
        tokens = index.catalog.db.execute("SELECT sum(tokens) FROM chunks").fetchone()[0]
    done = [e.tokens_done for e in events]
    assert done == sorted(done) and len(set(done)) > 2
    assert {e.tokens_total for e in events} == {tokens}
    assert events[-1].tokens_done == tokens
    assert events[-1].chunks_done == events[-1].chunks_total == summary.chunks_added
