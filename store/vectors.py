"""The vector index: a usearch proximity graph over compact codes (or f16 vectors).

``compact`` keeps 1 bit per dimension (the sign) and a Hamming-metric HNSW graph; the exact
order is restored later by re-embedding the few best candidates (see indexer.recompute).
``full`` keeps f16 vectors and cosine distances, the no-recompute baseline.

Files are named by generation (``vectors.<n>.usearch``): a writer saves the next generation
beside the current one and the catalog's commit decides which is live, so a crash at any point
leaves a complete file that the catalog points at.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sleuth.store.errors import StoreError
from sleuth.store.manifest import StorageMode

FloatArray = npt.NDArray[np.float32]
KeyArray = npt.NDArray[np.uint64]

# Below this many vectors a brute-force scan of the codes is faster than the graph and exact.
EXACT_SCAN_LIMIT = 50_000


def vectors_file(directory: Path, generation: int) -> Path:
    return directory / f"vectors.{generation}.usearch"


def encode_bits(vectors: FloatArray) -> npt.NDArray[np.uint8]:
    """Sign bits, packed: the 1-bit code of each vector."""
    return np.packbits(np.asarray(vectors) > 0, axis=1)


def asymmetric_scores(query: FloatArray, codes: npt.NDArray[np.uint8]) -> FloatArray:
    """Float query · ±1 code: ranks codes far better than Hamming distance between bit codes."""
    signs = np.unpackbits(codes, axis=1)[:, : query.shape[0]].astype(np.float32) * 2.0 - 1.0
    scores: FloatArray = signs @ query.astype(np.float32)
    return scores


class VectorIndex:
    """One generation of the vector index, loaded for writing or memory-mapped for reading."""

    def __init__(self, storage: StorageMode, dims: int, connectivity: int, raw: Any) -> None:
        self.storage = storage
        self.dims = dims
        self.connectivity = connectivity
        self._index = raw

    @classmethod
    def create(cls, storage: StorageMode, dims: int, connectivity: int) -> VectorIndex:
        from usearch.index import Index

        if storage == "compact":
            raw = Index(ndim=dims, metric="hamming", dtype="b1", connectivity=connectivity)
        else:
            raw = Index(ndim=dims, metric="cos", dtype="f16", connectivity=connectivity)
        return cls(storage, dims, connectivity, raw)

    @classmethod
    def load(
        cls, path: Path, storage: StorageMode, dims: int, connectivity: int, *, view: bool
    ) -> VectorIndex:
        from usearch.index import Index

        if not path.exists():
            raise StoreError(f"vector index {path.name} is missing; run 'sleuth index' to rebuild")
        try:
            raw = Index.restore(str(path), view=view)
        except (RuntimeError, ValueError) as exc:
            raise StoreError(f"vector index {path.name} is unreadable: {exc}") from exc
        if raw is None or raw.ndim != dims:
            raise StoreError(f"vector index {path.name} does not match the manifest")
        return cls(storage, dims, connectivity, raw)

    def __len__(self) -> int:
        return len(self._index)

    def stored_keys(self) -> KeyArray:
        return np.asarray(self._index.keys, dtype=np.uint64)

    def add(self, keys: list[int], vectors: FloatArray) -> None:
        if not keys:
            return
        data = encode_bits(vectors) if self.storage == "compact" else vectors.astype(np.float16)
        self._index.add(np.asarray(keys, dtype=np.uint64), data)

    def remove(self, keys: list[int]) -> None:
        if keys:
            self._index.remove(np.asarray(keys, dtype=np.uint64))

    def save(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        self._index.save(str(tmp))
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        tmp.replace(path)

    def search(self, query: FloatArray, count: int) -> tuple[KeyArray, FloatArray]:
        """Up to ``count`` nearest keys with scores (higher is better).

        Compact scores are the asymmetric float·sign estimate; full scores are cosines.
        """
        size = len(self._index)
        if size == 0 or count <= 0:
            return np.empty(0, np.uint64), np.empty(0, np.float32)
        exact = size <= EXACT_SCAN_LIMIT
        if self.storage == "full":
            found = self._index.search(query.astype(np.float16), min(count, size), exact=exact)
            keys = np.asarray(found.keys, dtype=np.uint64)
            return keys, (1.0 - np.asarray(found.distances, dtype=np.float32))
        # Hamming proposes a wide pool cheaply; the asymmetric score picks the best of it.
        pool = min(size, max(count * 4, 256))
        found = self._index.search(encode_bits(query[None, :])[0], pool, exact=exact)
        keys = np.asarray(found.keys, dtype=np.uint64)
        codes = np.asarray(self._index.get(keys, dtype=np.uint8)).reshape(len(keys), -1)
        scores = asymmetric_scores(query, codes)
        order = np.argsort(-scores, kind="stable")[:count]
        return keys[order], scores[order]
