"""Synthetic corpora for the ``scale`` section: Markdown files with a Zipfian vocabulary, and
an embedder whose vectors are shaped like MiniLM's, for volume without the model's cost.

Everything is a function of a seed, so a corpus of N chunks is the same bytes on every run
(files, names, mtimes) and an index built from it can be reused while sleuth's code is the
same. The vectors need realistic structure only where it changes costs: the codebook codes use
their whole range (so scoring and the graph see the spread the real model gives), texts that
share words are near each other (so the graph has neighbourhoods to find), and a file's
chunks share a topic. Quality is measured elsewhere, on real vectors.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sleuth.store import codebook
from sleuth.store.manifest import ModelIdentity

FloatArray = npt.NDArray[np.float32]

VOCABULARY = 40_000
TOPICS = 400
TOPIC_WORDS = 300
TOPIC_SHARE = 0.3  # of a chunk's words drawn from its file's topic
ZIPF_S = 1.05
WORDS_PER_LINE = 11
CHUNK_WORDS = (70, 150)  # uniform range of a section's words: each section becomes one chunk
SECTIONS_PER_FILE = (4, 16)
MTIME_NS = 1_700_000_000 * 10**9  # fixed, so a regenerated corpus looks unchanged
HASH_BUCKETS = 4096  # vectors for words outside the vocabulary (file names, numbers)
_WORD = re.compile(r"\w+", re.UNICODE)
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["th", "st", "qu"]


def vocabulary(seed: int = 0) -> list[str]:
    """VOCABULARY distinct pronounceable words, most frequent first."""
    rng = np.random.default_rng(seed)
    words: dict[str, None] = {}
    while len(words) < VOCABULARY:
        length = int(rng.integers(1, 5))
        parts = rng.integers(0, len(_SYLLABLES), size=length)
        words.setdefault("".join(_SYLLABLES[p] for p in parts), None)
    return list(words)


def zipf_weights(count: int) -> npt.NDArray[np.float64]:
    ranks = np.arange(1, count + 1, dtype=np.float64)
    weights = 1.0 / (ranks + 2.7) ** ZIPF_S  # Mandelbrot's shift: English-like head
    normalised: npt.NDArray[np.float64] = weights / weights.sum()
    return normalised


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a corpus of ``chunks`` chunks puts its files: ``dNN/dNN/fNNNNNN.md``."""

    chunks: int
    seed: int = 0

    @property
    def name(self) -> str:
        return f"zipf-{self.chunks}-s{self.seed}"


def generate(root: Path, layout: Layout) -> tuple[int, int]:
    """Write the corpus under ``root`` (skipped if a complete one is there); (files, chunks).

    Sections are sized so that each is one chunk under a 256-token budget, and files spread
    over 100 top-level folders, so one folder is a 1% filter.
    """
    done = root / ".complete"
    if done.exists():
        files, chunks = done.read_text(encoding="utf-8").split()
        return int(files), int(chunks)
    rng = np.random.default_rng(layout.seed + 1)
    words = np.array(vocabulary(layout.seed), dtype=object)
    global_cdf = np.cumsum(zipf_weights(VOCABULARY))
    topic_cdf = np.cumsum(zipf_weights(TOPIC_WORDS))
    # Topic words come from below the head, where real topical words live.
    topics = rng.integers(200, VOCABULARY, size=(TOPICS, TOPIC_WORDS))
    files = chunks = 0
    while chunks < layout.chunks:
        sections = min(int(rng.integers(*SECTIONS_PER_FILE)), layout.chunks - chunks)
        topic = topics[int(rng.integers(0, TOPICS))]
        parts: list[str] = [f"# {' '.join(words[topic[:3]])}\n"]
        for _ in range(sections):
            count = int(rng.integers(*CHUNK_WORDS))
            local = rng.random(count) < TOPIC_SHARE
            picks = np.searchsorted(global_cdf, rng.random(count) * global_cdf[-1])
            picks = np.minimum(picks, VOCABULARY - 1)
            own = topic[np.minimum(np.searchsorted(topic_cdf, rng.random(count)), TOPIC_WORDS - 1)]
            picks[local] = own[local]
            head = topic[np.minimum(np.searchsorted(topic_cdf, rng.random(2)), TOPIC_WORDS - 1)]
            body = words[picks]
            lines = [
                " ".join(body[i : i + WORDS_PER_LINE]) for i in range(0, count, WORDS_PER_LINE)
            ]
            parts.append(f"\n## {' '.join(words[head])}\n\n" + "\n".join(lines) + "\n")
        path = root / f"d{files % 100:02d}" / f"d{(files // 100) % 100:02d}" / f"f{files:07d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(parts), encoding="utf-8")
        os.utime(path, ns=(MTIME_NS, MTIME_NS + files))
        files += 1
        chunks += sections
    done.write_text(f"{files} {chunks}", encoding="utf-8")
    return files, chunks


def generate_small_files(root: Path, count: int, seed: int = 0) -> int:
    """``count`` one-line files (one chunk each), for reconciling many files cheaply."""
    done = root / ".complete"
    if done.exists():
        return int(done.read_text(encoding="utf-8"))
    words = vocabulary(seed)
    rng = np.random.default_rng(seed + 2)
    picks = rng.integers(0, 2000, size=(count, 8))
    for n in range(count):
        path = root / f"d{n % 100:02d}" / f"d{(n // 100) % 100:02d}" / f"n{n:07d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(" ".join(words[p] for p in picks[n]) + "\n", encoding="utf-8")
        os.utime(path, ns=(MTIME_NS, MTIME_NS + n))
    done.write_text(str(count), encoding="utf-8")
    return count


def shipped_identity() -> ModelIdentity:
    """The default model's identity, so a synthetic index gets the compact codebook codes."""
    book_dir = Path(codebook.__file__).parent / "codebooks"
    name = sorted(book_dir.glob("*.npz"))[0].name
    book = codebook.load((book_dir / name).read_bytes())
    return ModelIdentity("synthetic-minilm-shape", book.model_sha256, book.dims, "mean")


class SyntheticEmbedder:
    """Deterministic vectors with the model's anisotropy: each word gets a fixed Gaussian
    vector spread along the codebook's principal axes by their measured deviations; a text is
    the shared mean plus the normalised sum of its words' vectors, then unit length."""

    def __init__(self, max_tokens: int = 256, seed: int = 0) -> None:
        self.identity = shipped_identity()
        book = codebook.shipped(self.identity.sha256)
        assert book is not None
        self.max_tokens = max_tokens
        self.dims = book.dims
        words = vocabulary(seed)
        self._ids = {w: i for i, w in enumerate(words)}
        sigma = book.step / np.array([codebook.LLOYD_MAX_STEP[int(b)] for b in book.bits])
        rng = np.random.default_rng(seed + 3)
        latent = rng.standard_normal((VOCABULARY + HASH_BUCKETS, len(sigma))).astype(np.float32)
        self._table: FloatArray = (latent * sigma.astype(np.float32)) @ book.basis.T
        # The commonest words say least about a text, as idf would weigh them.
        ranks = np.arange(VOCABULARY + HASH_BUCKETS, dtype=np.float32)
        self._weight = np.minimum(1.0, (ranks + 1.0) / 50.0) ** 0.5
        self._weight[VOCABULARY:] = 0.5
        self._mean = book.mean.astype(np.float32)
        self.embedded = 0
        self.seconds = 0.0

    def tokenize(self, text: str) -> list[int]:
        # One token per word plus two specials: the chunker only counts them.
        return [0] * (len(_WORD.findall(text)) + 2)

    def _row(self, word: str) -> int:
        found = self._ids.get(word)
        if found is not None:
            return found
        digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
        return VOCABULARY + int.from_bytes(digest, "big") % HASH_BUCKETS

    def embed(self, texts: Sequence[str]) -> FloatArray:
        started = time.process_time()  # CPU: the machine may be shared
        out = np.empty((len(texts), self.dims), np.float32)
        for n, text in enumerate(texts):
            rows = [self._row(w) for w in _WORD.findall(text.lower())[: self.max_tokens - 2]]
            if not rows:
                rows = [VOCABULARY]
            weights = self._weight[rows]
            spread = weights @ self._table[rows] / np.sqrt(float((weights**2).sum()))
            out[n] = self._mean + spread
        self.embedded += len(texts)
        normalised: FloatArray = out / np.linalg.norm(out, axis=1, keepdims=True)
        self.seconds += time.process_time() - started
        return normalised
