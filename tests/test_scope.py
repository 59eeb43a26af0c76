"""Filters applied in the catalog: the chunks in a scope, and searches within it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeEmbedder

from sleuth.indexer import candidates, search
from sleuth.indexer.pipeline import run_index
from sleuth.indexer.search import Searcher, SearchOptions
from sleuth.store.index import Index
from sleuth.store.records import StoredChunk
from sleuth.store.scope import FileScope, chunks_in_scope

TOPICS = ("garden tomato", "bread flour", "river boat", "tax invoice")


def _corpus(root: Path) -> Path:
    # "a" and "ab" share a prefix as strings, not as folders.
    for folder in ("a", "ab", "a/deep", "b"):
        for i in range(6):
            path = root / folder / f"n{i}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            topic = TOPICS[i % len(TOPICS)]
            path.write_text(f"# {folder} {i}\n\n{topic} notes number {i} in {folder}\n")
    return root


@pytest.fixture
def index(tmp_path: Path) -> Index:
    directory = tmp_path / "index"
    run_index(directory, [_corpus(tmp_path / "docs")], FakeEmbedder())
    return Index.open(directory)


def test_a_prefix_is_a_folder_not_a_string_prefix(index: Index, tmp_path: Path) -> None:
    root = str(tmp_path / "docs")
    ids = chunks_in_scope(index.catalog.db, FileScope(None, (f"{root}/a",)))
    paths = {c.file.path for c in index.catalog.chunks(int(i) for i in ids).values()}
    assert paths == {f"{root}/a/n{i}.md" for i in range(6)} | {
        f"{root}/a/deep/n{i}.md" for i in range(6)
    }
    one = chunks_in_scope(index.catalog.db, FileScope(None, (f"{root}/b/n2.md",)))
    assert len(one) == 1
    odd = chunks_in_scope(index.catalog.db, FileScope(lambda f: f.path.endswith("1.md")))
    assert len(odd) == 4
    assert list(ids) == sorted(ids)


@pytest.mark.parametrize("flat", [True, False])
def test_a_scoped_search_finds_what_a_filtered_one_does(
    index: Index, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flat: bool
) -> None:
    if not flat:  # the large-scope path: the index's own search, over-fetching
        monkeypatch.setattr(candidates, "SCOPED_SCAN_MAX", 0)
    root = str(tmp_path / "docs")
    embedder = FakeEmbedder()
    searcher = Searcher(index, lambda: embedder)
    scope = FileScope(lambda f: "/n" in f.path, (f"{root}/ab", f"{root}/b"))

    def keep(chunk: StoredChunk) -> bool:
        return chunk.file.path.startswith((f"{root}/ab/", f"{root}/b/"))

    try:
        for mode in search.MODES:
            for query in ("tomato garden", "invoice", "notes"):
                options = SearchOptions(limit=5, mode=mode, candidates=8)
                scoped = searcher.search(
                    query, SearchOptions(**{**_fields(options), "scope": scope})
                )
                filtered = searcher.search(
                    query, SearchOptions(**{**_fields(options), "chunk_filter": keep})
                )
                # Same scores; same chunks wherever the score is not tied with the last one.
                assert [h.score for h in scoped.hits] == [h.score for h in filtered.hits]
                last = scoped.hits[-1].score
                assert [h.chunk.id for h in scoped.hits if h.score > last] == [
                    h.chunk.id for h in filtered.hits if h.score > last
                ]
                assert scoped.hits and all(keep(h.chunk) for h in scoped.hits)
    finally:
        searcher.close()


def _fields(options: SearchOptions) -> dict[str, object]:
    return {name: getattr(options, name) for name in SearchOptions.__dataclass_fields__}
