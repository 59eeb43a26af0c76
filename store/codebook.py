"""Codebook codes: a vector's coordinates along the model's principal axes, a few bits each.

A sentence embedding's variance is concentrated in a few directions, so the codebook rotates
every vector onto the principal axes of a broad sample of the model's embeddings, then spends
its bits where the variance is: up to 8 bits on the first axes, none on the last (greedy
reverse water-filling, the MSE-optimal allocation for Gaussian coordinates). Each coordinate
is quantised uniformly with a Lloyd-Max step for its bit count.

Scoring stays a sum of per-byte table look-ups, as for sign bits: a coordinate's value is
linear in its bits, so ``query · decoded(code)`` splits into one table per code byte.
Measured on corpus S (MiniLM, 200 queries, exact top-10 kept after re-scoring the C best by
code): 80-byte codebook codes keep 0.99 at C=20, where 48-byte sign bits keep 0.82.

The codebook belongs to the model: it ships in ``store/codebooks/`` keyed by the model's
sha256 (``tools/fit_codebook.py`` makes it), and an index records the codebook's own sha256.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sleuth.store.errors import StoreError

if TYPE_CHECKING:
    from sleuth.store.pq import ProductCodebook

FloatArray = npt.NDArray[np.float32]
CodeArray = npt.NDArray[np.uint8]
BitArray = npt.NDArray[np.uint8]

# Uniform quantiser step, in standard deviations, that minimises the MSE of a Gaussian
# coordinate at each bit count (Max 1960, Table 1).
LLOYD_MAX_STEP = {1: 1.596, 2: 0.996, 3: 0.586, 4: 0.335, 5: 0.188, 6: 0.104, 7: 0.057, 8: 0.031}
MAX_BITS = 8


@dataclass(frozen=True, slots=True)
class ErrorModel:
    """How a code score relates to the exact cosine near the top of a query's list: a line,
    and the standard deviation of the cosines around it (``tools/fit_codebook.py``)."""

    slope: float
    intercept: float
    sigma: float

    def cosine(self, estimate: float) -> float:
        return self.slope * estimate + self.intercept

    def as_array(self) -> npt.NDArray[np.float64]:
        """How a codebook file holds it (``load`` reads it back)."""
        return np.array([self.slope, self.intercept, self.sigma])


@dataclass(frozen=True)
class Codebook:
    mean: FloatArray  # (dims,)
    basis: FloatArray  # (dims, axes): orthonormal columns, the principal axes
    bits: BitArray  # (axes,): 1..8 bits per axis
    step: FloatArray  # (axes,)
    model_sha256: str
    sha256: str  # of the file it came from: an index records which codebook coded it
    error: ErrorModel | None = None  # shipped with codes precise enough to rank on their own

    @property
    def size(self) -> int:
        """Bytes per code."""
        return (int(self.bits.sum()) + 7) // 8

    @property
    def dims(self) -> int:
        return int(self.basis.shape[0])

    def _project(self, vectors: FloatArray) -> FloatArray:
        projected = (np.asarray(vectors, np.float32) - self.mean) @ self.basis
        return projected.astype(np.float32, copy=False)

    @cached_property
    def _bit_layout(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], FloatArray]:
        """For each code bit in order: its axis, its shift within the axis's level index
        (most significant first), and its place value ``2**shift``. Per-axis loops over ~300
        axes cost more than the arithmetic at every encode and every query."""
        axis = np.repeat(np.arange(len(self.bits), dtype=np.int64), self.bits.astype(np.int64))
        starts = np.concatenate([[0], np.cumsum(self.bits.astype(np.int64))[:-1]])
        within = np.arange(len(axis), dtype=np.int64) - starts[axis]
        shift = (self.bits.astype(np.int64)[axis] - 1 - within).astype(np.uint8)
        return axis, shift, (2.0**shift).astype(np.float32)

    def encode(self, vectors: FloatArray) -> CodeArray:
        y = self._project(vectors)
        levels = (1 << self.bits.astype(np.int64)).astype(np.float32)
        index = np.clip(np.floor(y / self.step + levels / 2), 0, levels - 1).astype(np.uint8)
        # Each axis's bits, most significant first, axes in order; then bytes MSB first.
        axis, shift, _ = self._bit_layout
        bits = (index[:, axis] >> shift) & 1
        packed: CodeArray = np.packbits(bits, axis=1)
        return packed

    def bit_weights(self, query: FloatArray) -> FloatArray:
        """What each code bit adds to ``query · decoded(code)`` when it is set."""
        q = np.asarray(query, np.float32) @ self.basis
        axis, _, value = self._bit_layout
        weights: FloatArray = ((q * self.step)[axis] * value).astype(np.float32)
        return weights

    def offset(self, query: FloatArray) -> float:
        """What every code adds to ``query · decoded(code)`` whatever its bits: the mean's part
        and the quantiser's mid-rise shift. With it a code's score tracks the cosine (axes
        without bits still carry part of it, so high cosines come out lower)."""
        q = np.asarray(query, np.float32) @ self.basis
        levels = (1 << self.bits.astype(np.int64)).astype(np.float32)
        shift = float(np.dot(q, self.step * (0.5 - levels / 2)))
        return float(np.dot(np.asarray(query, np.float32), self.mean)) + shift

    def arrays(self) -> dict[str, Any]:
        """What its file holds (``save``)."""
        arrays: dict[str, Any] = {
            "mean": self.mean,
            "basis": self.basis.astype(np.float16),  # half the bytes; codes use it as stored
            "bits": self.bits,
            "step": self.step,
            "model_sha256": np.array(self.model_sha256),
        }
        if self.error is not None:
            arrays["error"] = self.error.as_array()
        return arrays

    def sign_positions(self) -> npt.NDArray[np.int64]:
        """The bit of each axis that says its coordinate is >= 0 (its most significant one)."""
        starts = np.concatenate([[0], np.cumsum(self.bits.astype(np.int64))[:-1]])
        return starts.astype(np.int64)

    def query_signs(self, query: FloatArray) -> BitArray:
        """The same sign bits for a query, so a Hamming graph over codes can be walked."""
        signs: BitArray = (self._project(query[None, :])[0] >= 0).astype(np.uint8)
        return signs


def fit(vectors: FloatArray, size: int, model_sha256: str, step_scale: float = 1.0) -> Codebook:
    """A codebook of ``size`` bytes per code, fitted on a sample of the model's embeddings.

    ``step_scale`` widens every axis's quantiser step beyond the Gaussian optimum. Embedding
    coordinates have heavier tails than a Gaussian's, and a chunk that matches a query well
    has its largest coordinates on the query's axes: clipped at the quantiser's range, they
    make the best cosines come out low. A wider step clips less at the cost of a coarser grid
    (``tools/fit_codebook.py`` picks the scale by the error it measures out of sample)."""
    x = np.asarray(vectors, np.float64)
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    sigma = ((x - mean) @ vt.T).std(axis=0)
    bits = np.zeros(len(sigma), np.int64)
    gain = sigma**2
    for _ in range(size * 8):
        axis = int(np.argmax(gain))
        bits[axis] += 1
        gain[axis] = sigma[axis] ** 2 / 4.0 ** bits[axis] if bits[axis] < MAX_BITS else -1.0
    used = bits > 0
    step = np.array([LLOYD_MAX_STEP[int(b)] for b in bits[used]]) * sigma[used] * step_scale
    return Codebook(
        mean.astype(np.float32),
        vt.T[:, used].astype(np.float32),
        bits[used].astype(np.uint8),
        step.astype(np.float32),
        model_sha256,
        "",
    )


def save(book: Codebook | ProductCodebook, path: Path) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **book.arrays())
    path.write_bytes(buffer.getvalue())


def load(data: bytes) -> Codebook | ProductCodebook:
    """A codebook file: scalar codes, or product codes (``sleuth.store.pq``) if it holds
    centroids."""
    from sleuth.store import pq  # it builds on this module

    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            error = None
            if "error" in npz:
                slope, intercept, sigma = (float(v) for v in npz["error"])
                error = ErrorModel(slope, intercept, sigma)
            if "centroids" in npz:
                return pq.from_arrays(npz, hashlib.sha256(data).hexdigest(), error)
            return Codebook(
                np.asarray(npz["mean"], np.float32),
                np.asarray(npz["basis"], np.float32),
                np.asarray(npz["bits"], np.uint8),
                np.asarray(npz["step"], np.float32),
                str(npz["model_sha256"]),
                hashlib.sha256(data).hexdigest(),
                error,
            )
    except (ValueError, KeyError, OSError) as exc:
        raise StoreError(f"codebook is unreadable: {exc}") from exc


def file_name(model_sha256: str, storage: str = "compact") -> str:
    """The shipped file of a model's codebook: ``SHA.npz`` for compact, ``SHA-fast.npz``..."""
    suffix = "" if storage == "compact" else f"-{storage}"
    return f"{model_sha256[:16]}{suffix}.npz"


def shipped(model_sha256: str, storage: str = "compact") -> Codebook | ProductCodebook | None:
    """The codebook of a storage mode that ships for this model, if any (custom models have
    none)."""
    name = file_name(model_sha256, storage)
    entry = Path(__file__).with_name("codebooks") / name  # as in indexer.model: no resources
    try:
        data = entry.read_bytes()
    except (FileNotFoundError, OSError):
        return None
    book = load(data)
    if book.model_sha256 != model_sha256:
        raise StoreError(f"codebook {name} is for another model")
    return book
