"""A deterministic stand-in for the GGUF embedder, for fast unit tests only."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from sleuth.store.manifest import ModelIdentity
from sleuth.store.vectors import FloatArray

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class FakeEmbedder:
    """Bag of hashed words: texts sharing words get similar vectors, like a (very dumb) model."""

    def __init__(self, dims: int = 384, max_tokens: int = 256) -> None:
        self.dims = dims
        self._max_tokens = max_tokens
        self._identity = ModelIdentity("fake", "0" * 64, dims, "mean")
        self.calls = 0
        self.embedded = 0

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def tokenize(self, text: str) -> list[int]:
        words = _TOKEN.findall(text)
        return [101, *(_bucket(w.lower(), 30000) for w in words), 102]

    def embed(self, texts: Sequence[str]) -> FloatArray:
        self.calls += 1
        self.embedded += len(texts)
        out = np.zeros((len(texts), self.dims), np.float32)
        for row, text in enumerate(texts):
            for word in _TOKEN.findall(text.lower())[: self._max_tokens - 2]:
                out[row, _bucket(word, self.dims)] += 1.0
            out[row, 0] += 0.01  # never the zero vector
        normalised: FloatArray = out / np.linalg.norm(out, axis=1, keepdims=True)
        return normalised


def _bucket(word: str, size: int) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big") % size
