"""Exact f32 embeddings, computed once per text with the real model and kept as .npy files.

``RecordingEmbedder`` stands in for the model when the benchmark builds its cached indexes
and when it searches them for quality and recall figures: every text it is asked to embed is
looked up by its BLAKE2b digest in a ``VectorStore`` and embedded by the real GGUF model only
when missing. So one pass of the model over a corpus gives the compact index, the full index,
the brute-force baseline and every recomputation at search time, all from the same vectors.
Timing figures never come from here: they come from the real CLI or a plain LlamaEmbedder.
"""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.common import DATA_DIR, log
from bench.corpora import Corpus
from sleuth.extractors.base import ExtractionError
from sleuth.extractors.registry import extract
from sleuth.indexer.chunking import Chunker
from sleuth.indexer.embedder import LlamaEmbedder
from sleuth.store.manifest import ModelIdentity

FloatArray = npt.NDArray[np.float32]
DIGEST = 16
FLUSH_EVERY = 512  # new vectors between saves, so an interrupted build loses little


def digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=DIGEST).digest()


class VectorStore:
    """text digest -> f32 vector, persisted as ``<name>.keys.npy`` + ``<name>.vectors.npy``.

    Saving merges with what is on disk under an exclusive lock, so two benchmark processes
    filling the same store never lose each other's vectors.
    """

    def __init__(self, directory: Path, name: str, dims: int) -> None:
        self.directory = directory
        self.name = name
        self.dims = dims
        self._row: dict[bytes, int] = {}
        self._vectors: list[FloatArray] = []
        self._unsaved = 0
        directory.mkdir(parents=True, exist_ok=True)
        with self._locked():
            self._merge_from_disk()

    @property
    def keys_path(self) -> Path:
        return self.directory / f"{self.name}.keys.npy"

    @property
    def vectors_path(self) -> Path:
        return self.directory / f"{self.name}.vectors.npy"

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, key: bytes) -> bool:
        return key in self._row

    def get(self, key: bytes) -> FloatArray:
        return self._vectors[self._row[key]]

    def add(self, key: bytes, vector: FloatArray) -> None:
        if key in self._row:
            return
        self._row[key] = len(self._vectors)
        self._vectors.append(np.asarray(vector, dtype=np.float32))
        self._unsaved += 1
        if self._unsaved >= FLUSH_EVERY:
            self.save()

    def save(self) -> None:
        if not self._unsaved:
            return
        with self._locked():
            self._merge_from_disk()
            keys = np.array(list(self._row), dtype=f"S{DIGEST}")
            vectors = (
                np.stack(self._vectors)
                if self._vectors
                else np.zeros((0, self.dims), dtype=np.float32)
            )
            for path, data in ((self.keys_path, keys), (self.vectors_path, vectors)):
                tmp = path.with_name(path.name + ".tmp.npy")
                np.save(tmp, data)
                tmp.replace(path)
        self._unsaved = 0

    def _merge_from_disk(self) -> None:
        try:
            keys = np.load(self.keys_path)
            vectors = np.load(self.vectors_path)
        except (OSError, ValueError):
            return
        if len(keys) != len(vectors):
            return  # torn by a crash between the two renames: rebuilt on the next save
        for key, vector in zip(keys, vectors, strict=True):
            raw = bytes(key).ljust(DIGEST, b"\0")
            if raw not in self._row:
                self._row[raw] = len(self._vectors)
                self._vectors.append(np.asarray(vector, dtype=np.float32))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with (self.directory / f"{self.name}.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


_LIVE: list[RecordingEmbedder] = []


def save_all() -> None:
    """Persist what every recording embedder of this process has embedded (queries too)."""
    for embedder in _LIVE:
        embedder.save()


class RecordingEmbedder:
    """An ``Embedder`` that serves vectors from a ``VectorStore`` and fills it with the model."""

    def __init__(self, family: str, threads: int | None = None, batch_size: int = 512) -> None:
        _LIVE.append(self)
        self.model = LlamaEmbedder(threads=threads, batch_size=batch_size)
        sha = self.model.identity.sha256[:12]
        self.store = VectorStore(DATA_DIR / "embeddings" / sha, family, self.model.identity.dims)
        self.embedded = 0
        self.served = 0
        self.embed_seconds = 0.0
        self._last_note = time.monotonic()

    @property
    def identity(self) -> ModelIdentity:
        return self.model.identity

    @property
    def max_tokens(self) -> int:
        return self.model.max_tokens

    def tokenize(self, text: str) -> list[int]:
        return self.model.tokenize(text)

    def embed(self, texts: Sequence[str]) -> FloatArray:
        keys = [digest(t) for t in texts]
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self.store and key not in missing:
                missing[key] = text
        if missing:
            started = time.perf_counter()
            fresh = self.model.embed(list(missing.values()))
            self.embed_seconds += time.perf_counter() - started
            for key, vector in zip(missing, fresh, strict=True):
                self.store.add(key, vector)
            self.embedded += len(missing)
            self._note()
        self.served += len(texts)
        return np.stack([self.store.get(k) for k in keys]).astype(np.float32, copy=False)

    def _note(self) -> None:
        now = time.monotonic()
        if now - self._last_note >= 60:
            rate = self.embedded / max(self.embed_seconds, 1e-9)
            log(f"  embedded {self.embedded} new texts so far ({rate:.1f}/s)")
            self._last_note = now

    def save(self) -> None:
        self.store.save()


def warm_store(corpus: Corpus, embedder: RecordingEmbedder) -> int:
    """Embed every chunk text of ``corpus`` into the store, chunked as the pipeline does.

    Only the extractors, the chunker and the model are involved, so the expensive part of a
    cache build survives changes to sleuth's index format. Returns the number of chunks.
    """
    chunker = Chunker(embedder.tokenize, embedder.max_tokens)
    pending: list[str] = []
    total = 0
    for rel in corpus.files:
        path = corpus.root / rel
        try:
            doc = extract(path)
        except (ExtractionError, OSError):
            continue
        chunks = chunker.split(doc, label=path.name)
        total += len(chunks)
        pending += [c.embed_text for c in chunks if digest(c.embed_text) not in embedder.store]
        if len(pending) >= 64:
            embedder.embed(pending)
            pending = []
    if pending:
        embedder.embed(pending)
    embedder.save()
    return total
