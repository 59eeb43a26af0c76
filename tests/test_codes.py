"""Codebook codes (the default compact storage): fitting, bit packing, scoring, the shipped file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEmbedder

from sleuth.indexer.embedder import LlamaEmbedder
from sleuth.indexer.errors import IndexingError
from sleuth.indexer.model import shipped_model
from sleuth.indexer.pipeline import open_for_writing
from sleuth.store import codebook, pq
from sleuth.store.errors import StoreError
from sleuth.store.index import make_coder
from sleuth.store.manifest import Manifest, ModelIdentity
from sleuth.store.vectors import CodebookCoder, ProductCoder, SignCoder

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _sample(count: int, seed: int = 0) -> np.ndarray:
    """Unit vectors whose variance sits in a few directions, as sentence embeddings' does."""
    rng = np.random.default_rng(seed)
    scale = np.exp(-np.arange(64) / 12.0)
    x = rng.standard_normal((count, 64)) * scale + 0.05 * rng.standard_normal((count, 64))
    x = x.astype(np.float32) + 0.2
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _decode(book: codebook.Codebook, codes: np.ndarray) -> np.ndarray:
    bits = np.unpackbits(codes, axis=1)
    values = []
    position = 0
    for axis, width in enumerate(book.bits.tolist()):
        index = np.zeros(len(codes))
        for _ in range(width):
            index = index * 2 + bits[:, position]
            position += 1
        values.append((index - 2**width / 2 + 0.5) * book.step[axis])
    return np.stack(values, axis=1) @ book.basis.T + book.mean


def test_fit_spends_the_bytes_on_the_strongest_axes() -> None:
    book = codebook.fit(_sample(2000), 16, "m" * 64)
    assert book.size == 16 and int(book.bits.sum()) == 128
    assert list(book.bits) == sorted(book.bits, reverse=True)  # first axes get the most bits
    assert np.allclose(book.basis.T @ book.basis, np.eye(len(book.bits)), atol=1e-4)


def test_score_is_the_dot_product_with_the_decoded_code() -> None:
    vectors = _sample(3000)
    book = codebook.fit(vectors[:2000], 24, "m" * 64)
    coder = CodebookCoder(book)
    codes = coder.encode(vectors[2000:])
    assert codes.shape == (1000, 24)
    query = vectors[5]
    decoded = _decode(book, codes)
    assert np.allclose(coder.score(query, codes), decoded @ query, atol=1e-4)
    # and the decoded code is close to the vector: the score estimates the cosine
    exact = vectors[2000:] @ query
    assert np.abs(coder.score(query, codes) - exact).mean() < 0.02
    assert int(np.argmax(coder.score(query, codes))) == int(np.argmax(exact))


def test_graph_vectors_are_the_sign_of_each_axis() -> None:
    vectors = _sample(500)
    book = codebook.fit(vectors, 12, "m" * 64)
    coder = CodebookCoder(book)
    signs = np.unpackbits(coder.graph_vectors(coder.encode(vectors)), axis=1)
    projected = (vectors - book.mean) @ book.basis
    assert np.array_equal(signs[:, : len(book.bits)], (projected >= 0).astype(np.uint8))
    probe = np.unpackbits(coder.graph_probe(vectors[3]))[: len(book.bits)]
    assert np.array_equal(probe, signs[3, : len(book.bits)])


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    book = codebook.fit(_sample(800), 10, "m" * 64)
    path = tmp_path / "book.npz"
    codebook.save(book, path)
    again = codebook.load(path.read_bytes())
    assert again.sha256 and again.model_sha256 == "m" * 64
    assert np.array_equal(again.bits, book.bits)
    assert np.allclose(again.basis, book.basis, atol=1e-3)
    assert again.error is None
    with pytest.raises(StoreError, match="unreadable"):
        codebook.load(b"not a codebook")


def test_an_error_model_round_trips(tmp_path: Path) -> None:
    book = codebook.fit(_sample(800), 10, "m" * 64)
    path = tmp_path / "book.npz"
    codebook.save(replace(book, error=codebook.ErrorModel(1.02, -0.01, 0.006)), path)
    again = codebook.load(path.read_bytes())
    assert again.error is not None
    assert again.error.cosine(0.5) == pytest.approx(1.02 * 0.5 - 0.01)
    assert again.error.sigma == pytest.approx(0.006)


def test_the_shipped_model_has_its_codebook() -> None:
    sha = shipped_model().sha256
    book = codebook.shipped(sha)
    assert book is not None and book.model_sha256 == sha and book.size == 80
    assert book.error is None  # compact codes are confirmed by recomputation, never trusted
    fast = codebook.shipped(sha, "fast")
    assert fast is not None and fast.size == 192 and fast.error is not None
    assert 0.0 < fast.error.sigma < 0.02
    smallest = codebook.shipped(sha, "minimal")
    assert smallest is not None and smallest.size == 48 and smallest.error is not None
    assert fast.error.sigma < smallest.error.sigma < 0.05
    assert codebook.shipped("f" * 64) is None


def test_minimal_takes_the_models_codebook_and_old_indexes_keep_sign_bits() -> None:
    model = shipped_model()
    identity = ModelIdentity("MiniLM", model.sha256, 384, "mean")
    book = codebook.shipped(model.sha256, "minimal")
    assert book is not None
    coder = make_coder(Manifest(model=identity, storage="minimal", codebook=book.sha256))
    assert isinstance(coder, ProductCoder) and coder.size == 48 and coder.storage == "minimal"
    # A minimal index made before the codebook shipped records none: sign bits, as it was coded.
    assert isinstance(make_coder(Manifest(model=identity, storage="minimal")), SignCoder)
    with pytest.raises(StoreError, match="rebuild"):
        make_coder(Manifest(model=identity, storage="minimal", codebook="0" * 64))


def test_a_model_without_codebook_gets_sign_bits(tmp_path: Path) -> None:
    index = open_for_writing(tmp_path / "a", FakeEmbedder(), None)
    assert index.manifest.storage == "minimal"
    index.close()
    with pytest.raises(IndexingError, match="needs a codebook"):
        open_for_writing(tmp_path / "b", FakeEmbedder(), "compact")


def test_an_index_coded_with_another_codebook_must_be_rebuilt() -> None:
    sha = shipped_model().sha256
    model = ModelIdentity("MiniLM", sha, 384, "mean")
    with pytest.raises(StoreError, match="rebuild"):
        make_coder(Manifest(model=model, storage="compact", codebook="0" * 64))


@pytest.mark.model
def test_codebook_estimates_real_cosines(real_embedder: LlamaEmbedder) -> None:
    texts = [
        p.read_text(encoding="utf-8", errors="replace")[:1500]
        for p in sorted(EXAMPLES.rglob("*"))
        if p.is_file() and p.suffix != ".pdf"
    ]
    queries = ["how do I reset a forgotten password", "sourdough starter", "retry with backoff"]
    vectors = real_embedder.embed(texts)
    book = codebook.shipped(shipped_model().sha256)
    assert book is not None
    coder = CodebookCoder(book)
    codes = coder.encode(vectors)
    for query in real_embedder.embed(queries):
        estimate = coder.score(query, codes)
        exact = vectors @ query
        # Axes without bits carry part of every cosine, so the estimate is compressed, not
        # equal; the recomputation fits that line. What must hold is the order.
        assert np.corrcoef(estimate, exact)[0, 1] > 0.95
        assert int(np.argmax(estimate)) == int(np.argmax(exact))


def test_product_codes_score_the_query_against_their_centroids(tmp_path: Path) -> None:
    vectors = _sample(1500)
    book = pq.fit(vectors[:1200], 16, "m" * 64)
    assert book.size == 16 and book.width == 4
    coder = ProductCoder(book)
    codes = coder.encode(vectors[1200:])
    assert codes.shape == (300, 16) and codes.dtype == np.uint8
    decoded = book.centroids[np.arange(16), codes.astype(np.int64)].reshape(300, -1)
    rebuilt = book.mean + decoded @ book.basis.T
    query = vectors[0]
    assert np.allclose(coder.score(query, codes), rebuilt @ query, atol=1e-4)
    # Nearest centroids: closer to the vectors than the same codes shuffled.
    shuffled = book.centroids[np.arange(16), np.roll(codes, 1, axis=0).astype(np.int64)]
    wrong = book.mean + shuffled.reshape(300, -1) @ book.basis.T
    assert np.linalg.norm(rebuilt - vectors[1200:]) < 0.5 * np.linalg.norm(wrong - vectors[1200:])
    # Estimates rank like the exact cosines.
    exact = vectors[1200:] @ query
    assert np.corrcoef(coder.score(query, codes), exact)[0, 1] > 0.95
    path = tmp_path / "pq.npz"
    codebook.save(replace(book, error=codebook.ErrorModel(1.1, 0.0, 0.03)), path)
    again = codebook.load(path.read_bytes())
    assert isinstance(again, pq.ProductCodebook) and again.error is not None
    assert again.error.sigma == pytest.approx(0.03)
    assert np.array_equal(ProductCoder(again).encode(vectors[1200:]), codes)
    with pytest.raises(ValueError, match="equal parts"):
        pq.fit(vectors, 10, "m" * 64)


def test_product_codes_give_the_graph_the_signs_of_their_centroids() -> None:
    vectors = _sample(1000)
    book = pq.fit(vectors, 16, "m" * 64)
    coder = ProductCoder(book)
    codes = coder.encode(vectors[:50])
    bits = np.unpackbits(coder.graph_vectors(codes), axis=1)[:, : coder.graph_dims]
    probe = np.unpackbits(coder.graph_probe(vectors[0]))[: coder.graph_dims]
    assert bits.shape == (50, 64)
    # A vector's own code lies nearest its probe in Hamming distance, or nearly so.
    distance = (bits != probe).sum(axis=1)
    assert distance[0] <= np.sort(distance)[2]
