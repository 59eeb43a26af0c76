"""What a search returns (hits, timings) and the pure steps that order them: the query's
lexical terms, Reciprocal Rank Fusion, and scores clipped to a kept order."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from sleuth.store.records import StoredChunk

Mode = Literal["hybrid", "semantic", "lexical"]
MODES: tuple[Mode, ...] = ("hybrid", "semantic", "lexical")
# What FTS5's unicode61 tokenizer treats as one token (underscore separates, as there).
_TERM = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Hit:
    chunk: StoredChunk
    text: str
    score: float  # calibrated probability of relevance, 0..1
    similarity: float | None  # exact cosine; None for lexical mode
    mode: Mode
    coverage: float | None = None  # idf-weighted share of the query's terms; None: not looked up
    nearby_similarity: float | None = None  # mean cosine around the chunk; None: no signal
    literal: float | None = None  # share of the query's literals in the chunk; None: none asked

    @property
    def path(self) -> str:
        return self.chunk.file.path


@dataclass(slots=True)
class Timings:
    embed_query: float = 0.0
    ann: float = 0.0
    recompute: float = 0.0
    lexical: float = 0.0
    catalog: float = 0.0  # chunk rows looked up for the dense and lexical candidates
    nearby: float = 0.0  # the neighbourhood signal (indexer.nearby)
    fuse: float = 0.0
    recomputed: int = 0
    cached: int = 0


@dataclass(slots=True)
class SearchResult:
    hits: list[Hit]
    stale: int = 0
    timings: Timings = field(default_factory=Timings)
    # Chunks still waiting for their embedding (a first index in progress), out of ``chunks``:
    # the dense side sees only the others; lexical search sees all.
    waiting: int = 0
    chunks: int = 0


@dataclass(slots=True)
class Scored:
    chunk: StoredChunk
    text: str
    score: float  # cosine (dense) or BM25 (lexical)


def lexical_terms(query: str) -> list[str]:
    """The query's words, deduplicated ignoring case, as single-token lexical lookups.

    The words keep their case: FTS5 folds case with its own Unicode tables, which can
    disagree with Python's ``str.lower`` on rarer scripts.
    """
    seen: dict[str, str] = {}
    for word in _TERM.findall(query):
        seen.setdefault(word.casefold(), word)
    return list(seen.values())


def non_increasing(hits: list[Hit]) -> list[Hit]:
    """Scores clipped to never rise down the list, so a kept order still reads consistently."""
    out: list[Hit] = []
    ceiling = 1.0
    for hit in hits:
        ceiling = min(ceiling, hit.score)
        out.append(replace(hit, score=ceiling))
    return out


def fuse(dense: Iterable[Scored], lexical: Iterable[Scored], k: int, weight: float) -> list[int]:
    """Chunk ids by weighted Reciprocal Rank Fusion, best first."""
    fused: dict[int, float] = {}
    for rank, item in enumerate(dense, 1):
        fused[item.chunk.id] = fused.get(item.chunk.id, 0.0) + 1.0 / (k + rank)
    for rank, item in enumerate(lexical, 1):
        fused[item.chunk.id] = fused.get(item.chunk.id, 0.0) + weight / (k + rank)
    return sorted(fused, key=lambda i: -fused[i])
