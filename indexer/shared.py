"""Identical chunks share one code: a licence header, a vendored copy, embedded only once.

A chunk's code depends only on what the model sees (the file name and section context above
the chunk's text, see :func:`sleuth.indexer.chunking.embed_text`), so a chunk whose model input
equals one already in the index, or one embedded earlier in this run, copies that code instead
of being embedded again. The same text under another file name is a different input (the
model sees the name) and is embedded.

Lookups cost nothing on disk: this run's inputs sit in a bounded dict; the index's chunks are
found through a sorted array of their 8-byte text hashes (16 bytes per chunk in memory), read
with one scan the first time a batch has chunks to embed, and then only the few candidate rows
are read by id. An index on ``chunks(text_hash)`` would have cost ~30 bytes per chunk on disk
for a lookup that one run needs once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sleuth.indexer.chunking import Chunk, full_context
from sleuth.store.catalog import Catalog
from sleuth.store.vectors import Coder

RUN_LIMIT = 200_000  # inputs remembered from this run (~200 bytes each), then no more

Key = tuple[bytes, str]  # (text hash, what the model sees above the text)


def input_key(chunk: Chunk) -> Key:
    return chunk.text_hash, full_context(chunk.label, chunk.context)


class SharedCodes:
    """Codes of model inputs already embedded, in the index or earlier in this run."""

    def __init__(self, catalog: Catalog, coder: Coder, limit: int = RUN_LIMIT) -> None:
        self.catalog = catalog
        self.coder = coder
        self.limit = limit
        self._run: dict[Key, bytes] = {}
        self._hashes: npt.NDArray[np.uint64] | None = None
        self._ids: npt.NDArray[np.int64] = np.empty(0, np.int64)

    def _load(self) -> npt.NDArray[np.uint64]:
        if self._hashes is None:
            ids, hashes = self.catalog.text_hashes()
            keys = np.frombuffer(b"".join(hashes), dtype=np.uint64) if hashes else None
            if keys is None or len(keys) != len(ids):  # not 8-byte hashes: share nothing
                self._hashes = np.empty(0, np.uint64)
            else:
                order = np.argsort(keys, kind="stable")
                self._hashes = keys[order]
                self._ids = np.asarray(ids, np.int64)[order]
        return self._hashes

    def find(self, chunks: Sequence[Chunk]) -> dict[int, bytes]:
        """Codes for the chunks (by position) whose model input is already embedded."""
        keys = [input_key(c) for c in chunks]
        found: dict[int, bytes] = {}
        missing: list[int] = []
        for n, key in enumerate(keys):
            code = self._run.get(key)
            if code is None:
                missing.append(n)
            else:
                found[n] = code
        hashes = self._load() if missing else np.empty(0, np.uint64)
        if not len(hashes):
            return found
        wanted = np.frombuffer(b"".join(chunks[n].text_hash for n in missing), dtype=np.uint64)
        lo = np.searchsorted(hashes, wanted, side="left")
        hi = np.searchsorted(hashes, wanted, side="right")
        candidates = [int(i) for a, b in zip(lo, hi, strict=True) for i in self._ids[a:b]]
        if not candidates:
            return found
        stored: dict[Key, bytes] = {}
        for _, path, context, digest, code in self.catalog.chunk_codes(candidates):
            stored[(digest, full_context(Path(path).name, context))] = code
        for n in missing:
            code = stored.get(keys[n])
            if code is not None:
                found[n] = code
        return found

    def remember(self, chunks: Sequence[Chunk], codes: Sequence[bytes]) -> None:
        """Note the codes this run gave ``chunks``, for the chunks still to come."""
        for chunk, code in zip(chunks, codes, strict=True):
            if len(self._run) >= self.limit:
                return
            self._run[input_key(chunk)] = code
