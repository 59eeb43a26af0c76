"""Dense side of the index: per-chunk codes, scored flat or through a usearch graph.

Every chunk's code lives in the catalog row (one transaction keeps it consistent with the
rest): ``compact`` and ``fast`` store codebook codes (``sleuth.store.codebook``), ``minimal``
48 bytes: product codes (``sleuth.store.pq``) where the model ships them, else 1 bit per
dimension (the sign), ``full`` the f16 vector. A query scores codes
*asymmetrically* (the float query against the decoded code), never code against code.

Small collections are scanned flat: exact over the codes, and faster than a graph walk. Past
``graph_min_chunks`` a usearch HNSW graph (Hamming over sign bits, or cosine over f16) proposes
a candidate pool that is then scored the same way. The graph file is named by generation
(``vectors.<n>.usearch``) so a writer can save the next one beside the live one and let the
catalog's commit switch between them.
"""

from __future__ import annotations

import abc
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sleuth.store.codebook import Codebook, ErrorModel
from sleuth.store.errors import StoreError
from sleuth.store.manifest import StorageMode
from sleuth.store.paths import private_fd
from sleuth.store.pq import ProductCodebook

FloatArray = npt.NDArray[np.float32]
KeyArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.uint8]


def vectors_file(directory: Path, generation: int) -> Path:
    return directory / f"vectors.{generation}.usearch"


class Coder(abc.ABC):
    """How one storage mode turns vectors into code bytes and scores a query against them.

    Every score is a sum of per-byte table look-ups (``_byte_tables``): a code bit adds a
    fixed weight, so a query's tables replace unpacking every code.
    """

    storage: StorageMode
    size: int  # bytes per code
    graph_dims: int  # dimensions of the usearch graph's vectors
    graph_dtype: str
    graph_metric: str

    @abc.abstractmethod
    def encode(self, vectors: FloatArray) -> CodeArray: ...

    @abc.abstractmethod
    def score(self, query: FloatArray, codes: CodeArray) -> FloatArray:
        """Estimated cosine of ``query`` to each code row (higher is better)."""

    def as_cosine(self, score: float) -> float:
        """A code score on the cosine's scale, on average over many chunks: the same for
        every query, so a neighbourhood's mean (``indexer.nearby``) never depends on the
        candidates a search happened to re-embed. Codebook estimates are cosines already
        (on pyfaq-quick, exact = 1.031 x compact estimate - 0.009)."""
        return score

    @property
    def error(self) -> ErrorModel | None:
        """The error of the code's estimates, shipped with codes precise enough to rank on
        their own (see ``indexer.recompute.settle``); None for codes that are re-scored."""
        return None

    def graph_vectors(self, codes: CodeArray) -> npt.NDArray[Any]:
        return codes

    def graph_probe(self, query: FloatArray) -> npt.NDArray[Any]:
        probe: CodeArray = self.encode(query[None, :])[0]
        return probe


class SignCoder(Coder):
    """``minimal``: 1 bit per dimension, the sign (48 bytes at 384 dims), scored as
    query · sign(v), which ranks far better than Hamming distance between bit codes."""

    storage: StorageMode = "minimal"
    graph_dtype = "b1"
    graph_metric = "hamming"

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self.size = (dims + 7) // 8
        self.graph_dims = dims

    def encode(self, vectors: FloatArray) -> CodeArray:
        return np.packbits(np.asarray(vectors) > 0, axis=1)

    def score(self, query: FloatArray, codes: CodeArray) -> FloatArray:
        # A set bit adds +q, a clear one -q: weight 2q per set bit, offset -sum(q).
        q = np.asarray(query, np.float32)
        return _table_score(2.0 * q, codes) - float(q.sum())

    def as_cosine(self, score: float) -> float:
        # q . sign(v) is sqrt(2 d / pi) times the cosine for isotropic vectors; on pyfaq-quick
        # the least-squares line is exact = 0.058 x score + 0.021 (this scale: 0.064, 384 dims).
        return score * math.sqrt(math.pi / (2 * self.dims))


class _BookCoder(Coder):
    """Codes of one of the model's shipped codebooks: what the two kinds below share. Their
    graph is a Hamming graph over one sign bit per rotated coordinate."""

    graph_dtype = "b1"
    graph_metric = "hamming"

    def __init__(self, book: Codebook | ProductCodebook, storage: StorageMode) -> None:
        self.storage = storage
        self.size = book.size
        self._book = book

    def encode(self, vectors: FloatArray) -> CodeArray:
        return self._book.encode(vectors)

    def as_cosine(self, score: float) -> float:
        error = self._book.error
        return score if error is None else error.cosine(score)

    @property
    def error(self) -> ErrorModel | None:
        return self._book.error

    def graph_probe(self, query: FloatArray) -> npt.NDArray[Any]:
        return np.packbits(self._book.query_signs(query))


class CodebookCoder(_BookCoder):
    """``compact`` and ``fast``: one of the model's codebooks (see ``sleuth.store.codebook``)."""

    def __init__(self, book: Codebook, storage: StorageMode = "compact") -> None:
        super().__init__(book, storage)
        self.book = book
        self._signs = book.sign_positions()
        self.graph_dims = len(self._signs)

    def score(self, query: FloatArray, codes: CodeArray) -> FloatArray:
        return _table_score(self.book.bit_weights(query), codes) + self.book.offset(query)

    def graph_vectors(self, codes: CodeArray) -> npt.NDArray[Any]:
        signs = np.unpackbits(codes, axis=1)[:, self._signs]
        return np.packbits(signs, axis=1)


class ProductCoder(_BookCoder):
    """``minimal`` for a model that ships product codes (``sleuth.store.pq``): one byte per
    part, scored by one table of 256 dot products per part."""

    def __init__(self, book: ProductCodebook, storage: StorageMode = "minimal") -> None:
        super().__init__(book, storage)
        self.book = book
        self.graph_dims = book.dims

    def score(self, query: FloatArray, codes: CodeArray) -> FloatArray:
        return _lookup(self.book.tables(query), codes) + self.book.offset(query)

    def graph_vectors(self, codes: CodeArray) -> npt.NDArray[Any]:
        return np.packbits(self.book.signs(codes), axis=1)


class HalfCoder(Coder):
    """``full``: the f16 vector itself; scores are exact cosines."""

    storage: StorageMode = "full"
    graph_dtype = "f16"
    graph_metric = "cos"

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self.size = dims * 2
        self.graph_dims = dims

    def encode(self, vectors: FloatArray) -> CodeArray:
        return np.ascontiguousarray(np.asarray(vectors, dtype=np.float16)).view(np.uint8)

    def score(self, query: FloatArray, codes: CodeArray) -> FloatArray:
        if len(codes) == 0:
            return np.empty(0, np.float32)
        vectors = codes.view(np.float16).reshape(len(codes), self.dims).astype(np.float32)
        exact: FloatArray = vectors @ np.asarray(query, np.float32)
        return exact

    def graph_vectors(self, codes: CodeArray) -> npt.NDArray[Any]:
        return codes.view(np.float16).reshape(len(codes), self.dims)

    def graph_probe(self, query: FloatArray) -> npt.NDArray[Any]:
        return np.asarray(query, np.float16)


def coder_for(
    storage: StorageMode, dims: int, book: Codebook | ProductCodebook | None = None
) -> Coder:
    if storage == "full":
        return HalfCoder(dims)
    if storage == "minimal" and book is None:
        return SignCoder(dims)
    if book is None:
        raise StoreError(f"{storage} storage needs the model's codebook")
    if isinstance(book, ProductCodebook):
        return ProductCoder(book, storage)
    return CodebookCoder(book, storage)


def _table_score(weights: FloatArray, codes: CodeArray) -> FloatArray:
    if len(codes) == 0:
        return np.empty(0, np.float32)
    return _lookup(_byte_tables(weights, codes.shape[1]), codes)


def _lookup(tables: FloatArray, codes: CodeArray) -> FloatArray:
    """Each code's sum over its bytes of ``tables[byte position, byte value]``."""
    if len(codes) == 0:
        return np.empty(0, np.float32)
    columns = np.arange(codes.shape[1])
    estimate: FloatArray = tables[columns, codes].sum(axis=1, dtype=np.float32)
    return estimate


def _byte_tables(weights: FloatArray, nbytes: int) -> FloatArray:
    """table[j, b] = sum of the weights of the bits set in byte value b at code byte j
    (MSB first, as np.packbits), so a code's score is one look-up per byte."""
    padded = np.zeros(nbytes * 8, np.float32)
    padded[: len(weights)] = weights[: nbytes * 8]
    groups = padded.reshape(-1, 8)
    bits = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).astype(np.float32)
    tables: FloatArray = groups @ bits.T  # (bytes, 256)
    return tables


class Graph:
    """A usearch HNSW graph over the codes, for collections too large to scan flat."""

    def __init__(self, coder: Coder, raw: Any) -> None:
        self.coder = coder
        self._index = raw

    @classmethod
    def create(cls, coder: Coder, connectivity: int) -> Graph:
        from usearch.index import Index

        raw = Index(
            ndim=coder.graph_dims,
            metric=coder.graph_metric,
            dtype=coder.graph_dtype,
            connectivity=connectivity,
        )
        return cls(coder, raw)

    @classmethod
    def load(cls, path: Path, coder: Coder, *, view: bool) -> Graph:
        from usearch.index import Index

        if not path.exists():
            raise StoreError(f"graph file {path.name} is missing; run 'sleuth index' to rebuild")
        try:
            raw = Index.restore(str(path), view=view)
        except (RuntimeError, ValueError) as exc:
            raise StoreError(f"graph file {path.name} is unreadable: {exc}") from exc
        if raw is None or raw.ndim != coder.graph_dims:
            raise StoreError(f"graph file {path.name} does not match the manifest")
        return cls(coder, raw)

    def __len__(self) -> int:
        return len(self._index)

    def stored_keys(self) -> KeyArray:
        return np.asarray(self._index.keys, dtype=np.int64)

    def add(self, keys: list[int], codes: CodeArray) -> None:
        if not keys:
            return
        data = np.ascontiguousarray(self.coder.graph_vectors(codes))
        self._index.add(np.asarray(keys, dtype=np.uint64), data)

    def remove(self, keys: list[int]) -> None:
        if keys:
            self._index.remove(np.asarray(keys, dtype=np.uint64))

    def save(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        self._index.save(str(tmp))
        with tmp.open("rb+") as handle:
            private_fd(handle.fileno())  # usearch creates it with the umask's mode
            os.fsync(handle.fileno())
        tmp.replace(path)

    def propose(self, query: FloatArray, count: int) -> KeyArray:
        """Up to ``count`` candidate keys near ``query`` (to be scored by :func:`score`)."""
        size = len(self._index)
        if size == 0 or count <= 0:
            return np.empty(0, np.int64)
        probe = np.ascontiguousarray(self.coder.graph_probe(query))
        found = self._index.search(probe, min(count, size))
        return np.asarray(found.keys, dtype=np.int64)
