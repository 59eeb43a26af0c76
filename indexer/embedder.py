"""Text → normalised embedding vectors with a GGUF model run by llama.cpp on the CPU.

Every input is capped by *model tokens* here, before llama.cpp sees it: an input longer than
the context aborts the whole process inside llama.cpp instead of raising. Inputs are sorted by
length; short ones share a forward pass (PACK_TOKENS), long ones get one each.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sleuth.indexer.errors import ModelError
from sleuth.indexer.model import ModelFile, identity, resolve_model
from sleuth.store.manifest import ModelIdentity
from sleuth.store.vectors import FloatArray

# Measured safe sizes only: other values (e.g. 320) abort inside llama.cpp's pooling.
SAFE_BATCH_SIZES = (256, 512)
DEFAULT_BATCH = 512
# Inputs decoded together share one attention pass over all their tokens, so packing long
# inputs wastes work: on 2 cores one ~200-token chunk per decode runs 1.4x faster than two.
# Short inputs still go together up to this many tokens, where the per-decode cost dominates.
PACK_TOKENS = 128
DEFAULT_MAX_TOKENS = 256


class Embedder(Protocol):
    """What the indexer and search need from an embedding model."""

    @property
    def identity(self) -> ModelIdentity: ...

    @property
    def max_tokens(self) -> int: ...

    def tokenize(self, text: str) -> list[int]:
        """Token ids with the model's special tokens, uncapped."""
        ...

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """One L2-normalised float32 row per text, each capped to ``max_tokens``."""
        ...


def default_threads() -> int:
    env = os.environ.get("SLEUTH_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """llama.cpp writes load chatter straight to fd 2; keep stderr for sleuth's own words."""
    saved = os.dup(2)
    try:
        with Path(os.devnull).open("wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class LlamaEmbedder:
    """llama-cpp-python behind the :class:`Embedder` protocol."""

    def __init__(
        self,
        model: ModelFile | None = None,
        *,
        threads: int | None = None,
        batch_size: int = DEFAULT_BATCH,
        max_tokens: int = DEFAULT_MAX_TOKENS,
    ) -> None:
        if batch_size not in SAFE_BATCH_SIZES:
            raise ModelError(f"batch size {batch_size} is not one of {SAFE_BATCH_SIZES}")
        self._model = model or resolve_model()
        self._threads = threads or default_threads()
        self._batch_size = batch_size
        try:
            import llama_cpp
        except ImportError as exc:  # pragma: no cover - install problem
            raise ModelError(f"llama-cpp-python is not installed: {exc}") from exc
        self._llama_cpp = llama_cpp
        try:
            with _quiet_stderr():
                self._llm: Any = llama_cpp.Llama(
                    model_path=str(self._model.path),
                    embedding=True,
                    n_ctx=512,
                    n_batch=batch_size,
                    n_ubatch=batch_size,
                    n_threads=self._threads,
                    n_threads_batch=self._threads,
                    verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"cannot load model {self._model.path}: {exc}") from exc
        self._dims = int(self._llm.n_embd())
        self._max_tokens = min(max_tokens, batch_size, int(self._llm.n_ctx()))
        name = str(self._llm.metadata.get("general.name") or self._model.path.stem)
        self._identity = identity(self._model, name, self._dims, int(self._llm.pooling_type()))
        self._sep = self._llm.token_eos()

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    @property
    def threads(self) -> int:
        return self._threads

    def tokenize(self, text: str) -> list[int]:
        tokens: list[int] = self._llm.tokenize(
            text.encode("utf-8", "replace"), add_bos=True, special=False
        )
        return tokens

    def cap(self, tokens: list[int]) -> list[int]:
        if len(tokens) <= self._max_tokens:
            return tokens
        # Keep the closing separator: the model was trained with it at the end.
        return [*tokens[: self._max_tokens - 1], tokens[-1]]

    def embed(self, texts: Sequence[str]) -> FloatArray:
        return self.embed_tokens([self.cap(self.tokenize(t)) for t in texts])

    def embed_tokens(self, token_lists: Sequence[list[int]]) -> FloatArray:
        out = np.zeros((len(token_lists), self._dims), dtype=np.float32)
        order = sorted(range(len(token_lists)), key=lambda i: -len(token_lists[i]))
        group: list[int] = []
        used = 0
        for i in order:
            size = len(token_lists[i])
            if group and used + size > PACK_TOKENS:
                self._decode(group, token_lists, out)
                group, used = [], 0
            group.append(i)
            used += size
        if group:
            self._decode(group, token_lists, out)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        normalised: FloatArray = out / np.maximum(norms, 1e-12)
        return normalised

    def _decode(self, group: list[int], token_lists: Sequence[list[int]], out: FloatArray) -> None:
        llm, lib = self._llm, self._llama_cpp
        batch = llm._batch
        batch.reset()
        for seq, i in enumerate(group):
            tokens = token_lists[i]
            if not tokens or len(tokens) > self._max_tokens:
                raise ModelError(f"internal: input of {len(tokens)} tokens reached the model")
            batch.add_sequence(tokens, seq, True)
        llm._ctx.kv_cache_clear()
        try:
            llm._ctx.decode(batch)
        except RuntimeError as exc:
            raise ModelError(f"embedding failed: {exc}") from exc
        for seq, i in enumerate(group):
            ptr = lib.llama_get_embeddings_seq(llm._ctx.ctx, seq)
            out[i] = np.ctypeslib.as_array(ptr, shape=(self._dims,))
        batch.reset()
