"""The store layer with the fake embedder: commit protocol, codes, lexical index, cache."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEmbedder

from sleuth.indexer.compact import compact_lexical, needs_compaction
from sleuth.indexer.pipeline import run_index
from sleuth.store.cache import QUERY_MIN_ENTRIES, VectorCache, cache_bound, query_bound
from sleuth.store.cache_file import CACHE_FILE
from sleuth.store.catalog import Catalog
from sleuth.store.errors import IndexLockedError, StoreError
from sleuth.store.index import Batch, Index, check_consistency
from sleuth.store.vectors import HalfCoder, SignCoder


def _corpus(root: Path, count: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / f"note{i:03d}.md").write_text(
            f"# Note {i}\n\nThis note is about topic{i} and shared words alpha beta.\n"
        )
    return root


def test_sign_codes_score_like_cosine() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((500, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[7] + 0.3 * rng.standard_normal(384).astype(np.float32)
    query /= np.linalg.norm(query)
    signs_coder = SignCoder(384)
    codes = signs_coder.encode(vectors)
    assert codes.shape == (500, 48)
    estimate = signs_coder.score(query, codes)
    signs = np.unpackbits(codes, axis=1).astype(np.float32) * 2 - 1
    assert np.allclose(estimate, signs @ query, atol=1e-4)
    assert int(np.argmax(estimate)) == 7
    half = HalfCoder(384)
    full = half.score(query, half.encode(vectors))
    assert np.allclose(full, vectors @ query, atol=2e-3)


def test_failed_commit_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "index"
    run_index(directory, [_corpus(tmp_path / "docs", 5)], FakeEmbedder())
    index = Index.open(directory, readonly=False)
    before = (index.catalog.counts(), index.generation)
    with index.writer() as writer:
        original = writer.index.catalog.remove_file

        def explode(path: str) -> list[int]:
            original(path)
            raise KeyboardInterrupt

        monkeypatch.setattr(writer.index.catalog, "remove_file", explode)
        with pytest.raises(KeyboardInterrupt):
            writer.commit(Batch(removals=[str(tmp_path / "docs" / "note000.md")]))
    assert (index.catalog.counts(), index.generation) == before
    assert check_consistency(index) == []
    index.close()


def test_writer_lock_is_exclusive(tmp_path: Path) -> None:
    directory = tmp_path / "index"
    run_index(directory, [_corpus(tmp_path / "docs", 2)], FakeEmbedder())
    index = Index.open(directory, readonly=False)
    with index.writer(), pytest.raises(IndexLockedError), index.writer():
        pass
    index.close()


def test_lexical_bm25_prefers_rare_terms(tmp_path: Path) -> None:
    directory = tmp_path / "index"
    run_index(directory, [_corpus(tmp_path / "docs", 20)], FakeEmbedder())
    with Index.open(directory) as index:
        hits = index.catalog.lexical_search(["topic7", "alpha"], 5)
        assert hits[0][0] in index.catalog.chunk_ids_of(str(tmp_path / "docs" / "note007.md"))
        assert hits[0][1] > hits[1][1] > 0
        assert index.catalog.lexical_search(["nosuchword"], 5) == []
        assert index.catalog.lexical_search(["NEAR", "and", "or"], 5) is not None


def test_tombstones_are_skipped_and_compaction_rebuilds(tmp_path: Path) -> None:
    docs = _corpus(tmp_path / "docs", 30)
    directory = tmp_path / "index"
    run_index(directory, [docs], FakeEmbedder())
    for i in range(20):
        (docs / f"note{i:03d}.md").unlink()
    run_index(directory, [docs], FakeEmbedder())
    with Index.open(directory, readonly=False) as index:
        assert int(index.catalog.get_meta("dead_lexical")) == 20
        live = {c.file.path for c in index.catalog.iter_chunks()}
        for chunk_id, _ in index.catalog.lexical_search(["alpha"], 100):
            assert index.catalog.chunks([chunk_id])[chunk_id].file.path in live
        assert not needs_compaction(index)  # below the minimum worth a rebuild
        with index.writer():
            assert compact_lexical(index) == 0
        assert index.catalog.get_meta("dead_lexical") == "0"
        assert len(index.catalog.lexical_search(["alpha"], 100)) == 10
        assert len(index.catalog.lexical_search(["topic25"], 100)) == 1


def test_recompute_cache_is_bounded_and_keyed_by_text(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path, 4, capacity=3)
    vec = np.array([1, 0, 0, 0], np.float32)
    cache.put([(i, b"h%d" % i, vec * i) for i in range(1, 6)])
    found = cache.get([(i, b"h%d" % i) for i in range(1, 6)])
    assert sorted(found) == [3, 4, 5]
    assert cache.get([(5, b"changed")]) == {}
    assert np.allclose(found[4], vec * 4)
    cache.close()


def test_query_embeddings_are_bounded_with_the_cache(tmp_path: Path) -> None:
    capacity = 8 * (QUERY_MIN_ENTRIES + 5)  # above the floor: an eighth of the vectors
    cache = VectorCache(tmp_path, 4, capacity=capacity)
    kept = query_bound(capacity)
    assert kept == QUERY_MIN_ENTRIES + 5
    for n in range(kept + 3):
        cache.put_query(f"query {n}", np.full(4, n, np.float32))
    newest = cache.get_query(f"query {kept + 2}")
    assert newest is not None and newest.tolist() == [kept + 2] * 4
    cache.close()
    db = sqlite3.connect(tmp_path / CACHE_FILE)
    assert db.execute("SELECT count(*) FROM query").fetchone()[0] == kept
    db.close()
    assert query_bound(1) == QUERY_MIN_ENTRIES
    assert cache_bound(2240, "fast") == 64 and cache_bound(2240, "minimal") == 32
    assert cache_bound(100_000, "fast") == 2000 and cache_bound(100_000, "minimal") == 500


def test_newer_or_older_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(StoreError, match="newer"):
        Catalog(path)


def test_recompute_stops_only_when_nothing_left_can_enter_the_top() -> None:
    from sleuth.indexer.recompute import can_stop

    estimates = [10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0]
    exact = [e / 20 for e in estimates]  # a perfect line: cos = est / 20
    assert can_stop(estimates, exact, next_estimate=1.0, need=3)  # 0.05 < 0.40
    assert not can_stop(estimates, exact, next_estimate=9.5, need=3)
    assert not can_stop(estimates[:4], exact[:4], next_estimate=0.0, need=3)  # too few to fit
    noisy = [x + (0.2 if i == 2 else 0.0) for i, x in enumerate(exact)]
    # The largest error seen widens the margin: a candidate close to the cut is still scored.
    assert not can_stop(estimates, noisy, next_estimate=7.5, need=3)


def test_a_move_onto_an_indexed_path_drops_the_replaced_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLEUTH_GRAPH_MIN_CHUNKS", "0")
    docs = _corpus(tmp_path / "docs", 3)
    directory = tmp_path / "index"
    run_index(directory, [docs], FakeEmbedder())
    index = Index.open(directory, readonly=False)
    try:
        files = index.catalog.files()
        source, target = str(docs / "note000.md"), str(docs / "note001.md")
        kept = index.catalog.chunk_ids_of(source)
        with index.writer() as writer:
            result = writer.commit(Batch(moves=[(source, replace(files[source], path=target))]))
        assert result.chunks_removed == 1
        assert index.catalog.chunk_ids_of(target) == kept
        assert source not in index.catalog.files()
        assert check_consistency(index) == []
        assert len(index.load_graph().stored_keys()) == index.catalog.counts()[1] == 2
    finally:
        index.close()
