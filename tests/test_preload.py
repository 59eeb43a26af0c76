"""The model preload of one-off searches: when it starts, and that a command gets exactly the
model it asks for (real GGUF model)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sleuth.cli import preload
from sleuth.cli.client import query_text
from sleuth.cli.common import make_embedder
from sleuth.indexer.embedder import LlamaEmbedder
from sleuth.store.cache import VectorCache
from sleuth.store.cache_file import CACHE_FILE, holds_query


@pytest.fixture(autouse=True)
def _no_leftover() -> Iterator[None]:
    yield
    leftover = preload.take(None, None)
    if leftover is not None:
        leftover.close()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["search", "reset a password"], True),
        (["similar", "notes.md"], True),
        (["search", "x", "--mode", "semantic"], True),
        (["search", "--", "--mode", "lexical"], True),  # the query's own words
        (["search", "x", "--mode", "lexical"], False),  # needs no model
        (["search", "x", "--mode=lexical"], False),
        (["search", "x", "--model", "other.gguf"], False),
        (["search", "x", "--model=other.gguf"], False),
        (["search", "--help"], False),
        (["index", "notes"], False),
        ([], False),
    ],
)
def test_preloads_only_what_a_command_will_load(args: list[str], expected: bool) -> None:
    assert preload.wanted(args, {}) is expected


def test_a_custom_model_in_the_environment_is_not_preloaded() -> None:
    assert not preload.wanted(["search", "x"], {"SLEUTH_MODEL": "/m.gguf"})


def test_threads_on_the_command_line_are_the_preload_s() -> None:
    assert preload._threads(["search", "x", "--threads", "1"]) == 1
    assert preload._threads(["search", "x", "--threads=3"]) == 3
    assert preload._threads(["search", "x", "--threads", "zero"]) is None
    assert preload._threads(["search", "x"]) is None


def test_a_preloaded_model_embeds_as_a_fresh_one(real_embedder: LlamaEmbedder) -> None:
    preload.start(["search", "x", "--threads", "1"])
    embedder = make_embedder(None, 1)
    try:
        text = ["how do I reset a forgotten password"]
        assert float(embedder.embed(text)[0] @ real_embedder.embed(text)[0]) > 0.9999
        assert embedder.identity == real_embedder.identity
    finally:
        assert isinstance(embedder, LlamaEmbedder)
        embedder.close()


def test_a_command_asking_for_other_threads_gets_its_own_load() -> None:
    preload.start(["search", "x", "--threads", "1"])
    assert preload.take(None, 2) is None  # the preloaded one is dropped, not handed out
    assert preload.take(None, 1) is None  # and only once


def test_a_command_with_its_own_model_never_gets_the_shipped_one(tmp_path: Path) -> None:
    preload.start(["search", "x"])
    assert preload.take(tmp_path / "other.gguf", None) is None


def test_a_failed_preload_leaves_the_command_to_load_and_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLEUTH_THREADS", "1")

    def broken(*_: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr("sleuth.indexer.native_model.NativeModel.__init__", broken)
    preload.start(["search", "x"])
    assert preload.take(None, None) is None
    monkeypatch.undo()
    embedder = make_embedder(None, None)
    assert np.isfinite(embedder.embed(["still works"])).all()


@pytest.mark.parametrize(
    ("argv", "query"),
    [
        (["search", "reset a password"], "reset a password"),
        (["search", "-k", "5", "--mode", "semantic", "reset it"], "reset it"),
        (["search", "--json", "-i", "notes", "reset it", "--explain"], "reset it"),
        (["search", "--", "-k is not an option here"], "-k is not an option here"),
        (["search", "-"], None),  # from stdin
        (["search", "--batch"], None),
        (["search", "--json"], None),
    ],
)
def test_the_query_is_read_from_the_command_line_as_click_reads_it(
    argv: list[str], query: str | None
) -> None:
    assert query_text(argv) == query


def test_a_query_in_the_cache_is_seen_without_numpy_or_a_write(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path, 4, 64)
    cache.put_query("reset a password", np.ones(4, dtype=np.float32))
    cache.close()
    before = (tmp_path / CACHE_FILE).stat().st_mtime_ns
    assert holds_query(tmp_path, "reset a password")
    assert not holds_query(tmp_path, "reset a password!")
    assert not holds_query(tmp_path / "elsewhere", "reset a password")
    assert (tmp_path / CACHE_FILE).stat().st_mtime_ns == before


def test_a_cached_query_loads_no_model_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLEUTH_HOME", str(tmp_path))
    directory = tmp_path / "indexes" / "notes"
    directory.mkdir(parents=True)
    cache = VectorCache(directory, 4, 64)
    cache.put_query("reset a password", np.ones(4, dtype=np.float32))
    cache.close()
    preload.start(["search", "reset a password", "--index", "notes"])
    assert preload.take(None, None) is None  # nothing was loaded
    preload.start(["search", "something new", "--index", "notes"])
    loaded = preload.take(None, None)
    assert loaded is not None
    loaded.close()
