"""Text → normalised embedding vectors with a GGUF model run by llama.cpp on the CPU.

Every input is capped by *model tokens* here, before llama.cpp sees it: an input longer than
the context aborts the whole process inside llama.cpp instead of raising. Inputs are sorted by
length; short ones share a forward pass (PACK_TOKENS), long ones get one each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from sleuth.indexer.errors import ModelError
from sleuth.indexer.model import ModelFile, identity, resolve_model
from sleuth.indexer.native_model import (
    DEFAULT_BATCH,
    NativeModel,
    default_threads,
)
from sleuth.store.manifest import ModelIdentity
from sleuth.store.vectors import FloatArray

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


class LlamaEmbedder:
    """llama.cpp (through its ctypes binding, :mod:`sleuth.indexer.llama_lib`) behind the
    :class:`Embedder` protocol. The C API is used directly: llama-cpp-python's ``Llama`` class
    adds nothing an embedder needs, and importing it cost 85 ms of every cold query."""

    def __init__(
        self,
        model: ModelFile | None = None,
        *,
        threads: int | None = None,
        batch_size: int = DEFAULT_BATCH,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        loaded: NativeModel | None = None,
    ) -> None:
        """``loaded``: the same model already loaded (:mod:`sleuth.cli.preload`) with the same
        threads and batch size, which this embedder then owns."""
        self._model = model or resolve_model()
        self._threads = threads or default_threads()
        self._batch_size = batch_size
        if loaded is not None and not loaded.serves(self._model.path, batch_size, self._threads):
            loaded.close()
            loaded = None
        self._native = loaded or NativeModel(self._model.path, batch_size, self._threads)
        lib, native = self._native.lib, self._native
        self._dims = int(lib.llama_model_n_embd(native.model))
        self._max_tokens = min(max_tokens, batch_size, int(lib.llama_n_ctx(native.ctx)))
        name = native.meta("general.name") or self._model.path.stem
        pooling = int(lib.llama_pooling_type(native.ctx))
        self._identity = identity(self._model, name, self._dims, pooling)
        self._n_ctx_train = int(lib.llama_model_n_ctx_train(native.model))

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    @property
    def threads(self) -> int:
        return self._threads

    def close(self) -> None:
        self._native.close()

    def tokenize(self, text: str) -> list[int]:
        raw = text.encode("utf-8", "replace")
        lib, vocab = self._native.lib, self._native.vocab
        room = max(self._n_ctx_train, 1)
        for _ in range(2):
            buffer = (lib.llama_token * room)()
            count = int(lib.llama_tokenize(vocab, raw, len(raw), buffer, room, True, False))
            if count >= 0:
                return list(buffer[:count])
            room = -count  # too small: llama.cpp says how many it needs
        raise ModelError(f"cannot tokenize an input of {len(raw)} bytes")

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
        lib, native = self._native.lib, self._native
        batch = native.batch
        filled = 0
        for seq, i in enumerate(group):
            tokens = token_lists[i]
            if not tokens or len(tokens) > self._max_tokens:
                raise ModelError(f"internal: input of {len(tokens)} tokens reached the model")
            for pos, token in enumerate(tokens):
                j = filled + pos
                batch.token[j] = token
                batch.pos[j] = pos
                batch.seq_id[j][0] = seq
                batch.n_seq_id[j] = 1
                batch.logits[j] = True
            filled += len(tokens)
        batch.n_tokens = filled
        memory = lib.llama_get_memory(native.ctx)
        if memory:  # non-causal embedding models may have none
            lib.llama_memory_clear(memory, True)
        code = int(lib.llama_decode(native.ctx, batch))
        batch.n_tokens = 0
        if code != 0:
            raise ModelError(f"embedding failed: llama_decode returned {code}")
        for seq, i in enumerate(group):
            ptr = lib.llama_get_embeddings_seq(native.ctx, seq)
            if not ptr:
                raise ModelError("embedding failed: the model gave no pooled embedding")
            out[i] = np.ctypeslib.as_array(ptr, shape=(self._dims,))
