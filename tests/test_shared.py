"""A chunk whose model input is already embedded copies that code instead of being embedded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from clirun import sleuth
from fakes import FakeEmbedder

from sleuth.indexer.pipeline import run_index
from sleuth.indexer.watcher import Watcher
from sleuth.store.index import Index, check_consistency
from sleuth.store.paths import resolve_index

REPO = Path(__file__).resolve().parent.parent
LICENCE = REPO / "indexer" / "models" / "LICENSE.all-minilm-l6-v2.txt"


def vendored(root: Path, *homes: str) -> Path:
    """The same real file (the model's licence) copied, as vendoring does, under ``homes``."""
    for home in homes:
        target = root / home / "LICENSE"
        target.parent.mkdir(parents=True)
        shutil.copyfile(LICENCE, target)
    return root


def codes_by_path(directory: Path) -> dict[str, list[bytes]]:
    with Index.open(directory) as index:
        out: dict[str, list[bytes]] = {}
        for path in index.catalog.files():
            ids = index.catalog.chunk_ids_of(path)
            out[path] = index.catalog.codes(ids)[1]
        assert check_consistency(index) == []
        return out


def test_vendored_copies_are_embedded_once(tmp_path: Path) -> None:
    root = vendored(tmp_path / "tree", "app", "vendor/a", "vendor/b")
    embedder = FakeEmbedder()
    directory = resolve_index().directory
    summary = run_index(directory, [root], embedder)
    per_file = summary.chunks_added // 3
    assert per_file >= 3
    assert embedder.embedded == per_file
    assert summary.chunks_shared == summary.chunks_reused == 2 * per_file
    codes = list(codes_by_path(directory).values())
    assert codes[0] == codes[1] == codes[2]


def test_a_later_run_copies_codes_from_the_index(tmp_path: Path) -> None:
    root = vendored(tmp_path / "tree", "app")
    directory = resolve_index().directory
    first = run_index(directory, [root], FakeEmbedder())
    vendored(root, "third_party/x")
    embedder = FakeEmbedder()
    second = run_index(directory, [root], embedder)
    assert embedder.embedded == 0
    assert second.chunks_added == second.chunks_shared == first.chunks_added
    # And the watcher, which prepares its batches outside the write lock, does the same.
    vendored(root, "third_party/y")
    watching = FakeEmbedder()
    event = Watcher(directory, [root], watching).run_once()
    assert watching.embedded == 0
    assert event.summary.chunks_shared == first.chunks_added


def test_same_text_under_another_name_is_embedded(tmp_path: Path) -> None:
    """The model sees the file name above every chunk: another name is another input."""
    root = vendored(tmp_path / "tree", "app")
    shutil.copyfile(root / "app" / "LICENSE", root / "app" / "COPYING")
    embedder = FakeEmbedder()
    summary = run_index(resolve_index().directory, [root], embedder)
    assert summary.chunks_shared == 0
    assert embedder.embedded == summary.chunks_added


@pytest.mark.model
def test_copied_codes_equal_the_real_models(tmp_path: Path) -> None:
    root = vendored(tmp_path / "tree", "one", "two")
    result = sleuth("index", str(root), "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["chunks_shared"] == summary["chunks_added"] // 2 > 0
    directory = resolve_index().directory
    codes = codes_by_path(directory)
    assert len(set(map(tuple, codes.values()))) == 1
    from sleuth.indexer.chunking import chunk_input
    from sleuth.indexer.embedder import LlamaEmbedder
    from sleuth.indexer.source import read_texts

    with Index.open(directory) as index:
        texts = read_texts(index.catalog, index.catalog.iter_chunks())
        second = sorted(codes)[1]
        ids = index.catalog.chunk_ids_of(second)
        inputs = [chunk_input(texts[i].chunk, texts[i].text or "") for i in ids]
        coder = index.coder
    embedded = coder.encode(LlamaEmbedder().embed(inputs))
    assert [bytes(row) for row in embedded] == codes[second]
    assert np.asarray(embedded).shape[0] == len(ids)
