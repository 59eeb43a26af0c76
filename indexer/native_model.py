"""The GGUF model loaded by llama.cpp for embedding: model, context and batch, nothing else.

Kept out of :mod:`sleuth.indexer.embedder` (which imports numpy) so that a thread can load
the model while the rest of a command is still importing (:mod:`sleuth.cli.preload`).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

from sleuth.indexer.errors import ModelError
from sleuth.indexer.llama_lib import binding

# Measured safe sizes only: other values (e.g. 320) abort inside llama.cpp's pooling.
SAFE_BATCH_SIZES = (256, 512)
DEFAULT_BATCH = 512


def default_threads() -> int:
    env = os.environ.get("SLEUTH_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, os.cpu_count() or 1)


class NativeModel:
    """The model, context and batch llama.cpp allocated for embedding, freed once, in reverse
    order."""

    model: Any = None  # class defaults: close() works on a half-built instance
    ctx: Any = None
    batch: Any = None

    def __init__(self, path: Path, batch_size: int, threads: int) -> None:
        if batch_size not in SAFE_BATCH_SIZES:
            raise ModelError(f"batch size {batch_size} is not one of {SAFE_BATCH_SIZES}")
        try:
            self.lib: Any = binding()
        except ImportError as exc:  # pragma: no cover - install problem
            raise ModelError(f"llama-cpp-python is not installed: {exc}") from exc
        self.path, self.batch_size, self.threads = path, batch_size, threads
        lib = self.lib
        lib.llama_backend_init()
        params = lib.llama_model_default_params()
        self.model = lib.llama_model_load_from_file(str(path).encode("utf-8"), params)
        if not self.model:
            raise ModelError(f"cannot load model {path}: llama.cpp could not read it")
        self.vocab = lib.llama_model_get_vocab(self.model)
        context = lib.llama_context_default_params()
        context.n_ctx = 512
        context.n_batch = batch_size
        context.n_ubatch = batch_size
        context.n_threads = threads
        context.n_threads_batch = threads
        context.embeddings = True
        # llama.cpp's default (auto) turns flash attention on for the CPU, where a packed
        # batch then embeds an input differently from the same input alone (cosine 0.99988).
        context.flash_attn_type = lib.LLAMA_FLASH_ATTN_TYPE_DISABLED
        # One sequence per packed input, as many as fit in a batch.
        context.n_seq_max = min(batch_size, int(lib.llama_max_parallel_sequences()))
        context.kv_unified = True
        self.ctx = lib.llama_init_from_model(self.model, context)
        if not self.ctx:
            self.close()
            raise ModelError(f"cannot load model {path}: llama.cpp could not create a context")
        self.batch = lib.llama_batch_init(batch_size, 0, int(context.n_seq_max))

    def meta(self, key: str) -> str:
        buffer = ctypes.create_string_buffer(256)
        size = int(self.lib.llama_model_meta_val_str(self.model, key.encode(), buffer, 256))
        return buffer.value.decode("utf-8", "replace") if size >= 0 else ""

    def __del__(self) -> None:
        self.close()

    def serves(self, path: Path, batch_size: int, threads: int) -> bool:
        return (self.path, self.batch_size, self.threads) == (path, batch_size, threads)

    def close(self) -> None:
        batch, ctx, model = self.batch, self.ctx, self.model
        self.batch = self.ctx = self.model = None
        if batch is not None:
            self.lib.llama_batch_free(batch)
        if ctx:
            self.lib.llama_free(ctx)
        if model:
            self.lib.llama_model_free(model)
