"""BM25 over the catalog's FTS5 table (see ``sleuth.store.catalog`` for why ``detail=none``).

A mixin of :class:`~sleuth.store.catalog.Catalog`, kept apart because ranking is its own job.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING


@dataclass(frozen=True, slots=True)
class LexicalMatch:
    hits: list[tuple[int, float]]  # (chunk id, BM25), best first
    coverage: dict[int, float]  # chunk id -> idf-weighted share of the query's terms, 0..1


class LexicalMixin:
    db: sqlite3.Connection

    if TYPE_CHECKING:  # provided by Catalog

        def get_meta(self, key: str, default: str = "") -> str: ...

        def set_meta(self, key: str, value: str) -> None: ...

    def lexical_search(self, terms: Sequence[str], limit: int) -> list[tuple[int, float]]:
        """Best chunks for the terms by BM25 with binary term frequency, higher = better."""
        return self.lexical_match(terms, limit).hits

    def lexical_match(
        self, terms: Sequence[str], limit: int, also: Iterable[int] = ()
    ) -> LexicalMatch:
        """BM25's best ``limit`` chunks, and how much of the query each of them (and each
        chunk of ``also``) contains.

        ``terms`` are single words; each is looked up on its own (the table has no positions
        for phrase queries) and the scores are summed here. ``coverage`` is the idf-weighted
        share of the query's terms found in a chunk: 1.0 when it holds them all, whatever the
        query's length or the index's size. A term found nowhere counts with the idf of a
        term in no chunk, so a query about words the index lacks covers little.
        """
        live = self.db.execute("SELECT count(*), avg(tokens) FROM chunks").fetchone()
        total, average = int(live[0]), float(live[1] or 1.0)
        if total == 0:
            return LexicalMatch([], {})
        k1, b = 1.2, 0.75
        scores: dict[int, float] = {}
        matched: dict[int, float] = {}
        query_idf = 0.0
        for term in dict.fromkeys(terms):
            try:
                rows = self.db.execute(
                    "SELECT l.rowid, c.tokens FROM lexical l JOIN chunks c ON c.id = l.rowid "
                    "WHERE lexical MATCH ?",
                    (term,),
                ).fetchall()
            except sqlite3.OperationalError:
                continue  # a term the FTS5 grammar rejects matches nothing
            df = len(rows)
            idf = math.log(1.0 + (total - df + 0.5) / (df + 0.5))
            query_idf += idf
            for chunk_id, tokens in rows:
                weight = idf * (k1 + 1.0) / (1.0 + k1 * (1.0 - b + b * tokens / average))
                scores[chunk_id] = scores.get(chunk_id, 0.0) + weight
                matched[chunk_id] = matched.get(chunk_id, 0.0) + idf
        best = sorted(scores.items(), key=lambda item: -item[1])[:limit]
        hits = [(int(i), float(v)) for i, v in best]
        wanted = {i for i, _ in hits}.union(also)
        coverage = {
            i: min(1.0, matched.get(i, 0.0) / query_idf) if query_idf > 0 else 0.0 for i in wanted
        }
        return LexicalMatch(hits, coverage)

    def reset_lexical(self) -> None:
        # A contentless table accepts no DELETE; 'delete-all' is its way to start over.
        self.db.execute("INSERT INTO lexical(lexical) VALUES('delete-all')")
        self.set_meta("dead_lexical", "0")

    def add_lexical(self, chunk_id: int, text: str) -> None:
        self.db.execute("INSERT INTO lexical(rowid, body) VALUES(?, ?)", (chunk_id, text))

    def _bury(self, count: int) -> None:
        if count:
            dead = int(self.get_meta("dead_lexical", "0")) + count
            self.set_meta("dead_lexical", str(dead))
