"""What a search is asked for: the options every caller (CLI, server, MCP, bench) passes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sleuth.indexer.hits import Mode
from sleuth.store.manifest import StorageMode
from sleuth.store.records import StoredChunk
from sleuth.store.scope import FileScope

Order = Literal["score", "rrf"]
ChunkFilter = Callable[[StoredChunk], bool]
# At most this many chunks are re-embedded per query (usually fewer: see indexer.recompute);
# each costs ~0.06-0.1 s on 2 cores. Chosen by recall@10 against exact search on corpus S
# (200 queries): codebook codes keep 0.99 at 20, sign bits need 60 for 0.97. ``fast`` settles
# (indexer.recompute.settle) on far fewer; 20 only bounds its worst case. ``minimal``'s entry is
# for its 48-byte product codes (sleuth.store.pq), which settle too but leave most of the best
# 25 in doubt: 0.95 of the exact top 10 for ~22 re-embeddings (0.97 at 40 for ~35, a cold query
# 1.5 s slower). Sign bits, its codes for a model without product codes, take
# SIGN_BIT_CANDIDATES.
DEFAULT_CANDIDATES: dict[StorageMode, int] = {"compact": 20, "fast": 20, "minimal": 25, "full": 0}
SIGN_BIT_CANDIDATES = 60


def default_candidates(storage: StorageMode, sign_bits: bool) -> int:
    """The re-embedding budget of a query on codes of ``storage`` (sign bits or not)."""
    return SIGN_BIT_CANDIDATES if sign_bits else DEFAULT_CANDIDATES[storage]


@dataclass(frozen=True, slots=True)
class SearchOptions:
    limit: int = 10
    mode: Mode = "hybrid"
    candidates: int | None = None  # None: default_candidates of the index's codes
    lexical_depth: int = 40
    # Tuned on pyfaq (see the README): plain RRF (k=60, equal weights) scored below dense.
    rrf_k: int = 10
    lexical_weight: float = 0.2  # RRF weight of the BM25 list (the dense list weighs 1)
    # "score": by the calibrated score; "rrf": Reciprocal Rank Fusion order in hybrid, BM25
    # order in lexical mode, scores then clipped to never rise down the list (bench/quality).
    order: Order = "score"
    chunk_filter: ChunkFilter | None = None
    # A filter on files, applied in the catalog before ranking (see sleuth.store.scope).
    scope: FileScope | None = None
