"""BM25 over the catalog's FTS5 table (see ``sleuth.store.catalog`` for why ``detail=none``).

A mixin of :class:`~sleuth.store.catalog.Catalog`, kept apart because ranking is its own job.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sleuth.store import chunk_totals


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
        self,
        terms: Sequence[str],
        limit: int,
        also: Iterable[int] = (),
        within: Container[int] | None = None,
    ) -> LexicalMatch:
        """BM25's best ``limit`` chunks, and how much of the query each of them (and each
        chunk of ``also``) contains.

        ``terms`` are single words; each is looked up on its own (the table has no positions
        for phrase queries) and the scores are summed here. ``coverage`` is the idf-weighted
        share of the query's terms found in a chunk: 1.0 when it holds them all, whatever the
        query's length or the index's size. A term found nowhere counts with the idf of a
        term in no chunk, so a query about words the index lacks covers little. ``within``
        (a filter's scope) limits the hits, not the statistics.

        A term in more than ``COMMON_POSTINGS`` chunks is not read in full (at a million
        chunks, half of them: 0.5 s of Python): it is looked up only in the chunks the rarer
        terms found and in ``also``, where it can change the order; and, when those chunks
        cannot fill ``limit`` or a chunk holding only common terms could outscore the last of
        them, among the shortest chunks holding the rarest common term (which is exact for
        one common term, since BM25 then depends on length alone).
        """
        total, tokens = chunk_totals.totals(self.db)
        average = tokens / total if total else 1.0
        if total == 0:
            return LexicalMatch([], {})
        bm25 = _Bm25(total, average)
        rare: list[tuple[str, float]] = []
        common: list[tuple[str, float, int]] = []
        query_idf = 0.0
        for term in dict.fromkeys(terms):
            try:
                df = int(self.db.execute(_COUNT, (term,)).fetchone()[0])
            except sqlite3.OperationalError:
                continue  # a term the FTS5 grammar rejects matches nothing
            idf = bm25.idf(df)
            query_idf += idf
            if df > COMMON_POSTINGS:
                common.append((term, idf, df))
            elif df:
                rare.append((term, idf))
        tally = _Tally()
        for term, idf in rare:
            rows = self.db.execute(_POSTINGS, (term,)).fetchall()
            tally.add(rows, idf, bm25)
        tally.found_by_rare = set(tally.scores)
        wanted = set(also)
        if common:
            common.sort(key=lambda c: c[2])
            self._add_common(tally, rare, common, bm25, limit, wanted, within is not None)
        hits = tally.best(limit, within)
        wanted.update(i for i, _ in hits)
        coverage = {
            i: min(1.0, tally.matched.get(i, 0.0) / query_idf) if query_idf > 0 else 0.0
            for i in wanted
        }
        return LexicalMatch(hits, coverage)

    def _add_common(
        self,
        tally: _Tally,
        rare: list[tuple[str, float]],
        common: list[tuple[str, float, int]],
        bm25: _Bm25,
        limit: int,
        also: set[int],
        scoped: bool,
    ) -> None:
        """Score the common terms where they can matter (see ``lexical_match``)."""
        # Best possible weight of the common terms in a chunk that holds none of the rare ones.
        ceiling = sum(idf for _, idf, _ in common) * bm25.weight(0)
        if scoped or len(tally.scores) < limit or tally.kth(limit) < ceiling:
            # Within a filter's scope few of the shortest chunks may be in it: look further.
            fill = (SCOPED_FILL if scoped else 4) * limit
            term, _, df = common[0]
            tally.lengths.update(self._shortest_holding(term, fill, df, bm25.total))
        for term, idf, _ in common:
            holders: set[int] = set()
            for other, _ in rare:  # FTS5 intersects the two lists in C, skipping ahead
                pair = f'"{other}" AND "{term}"'
                holders.update(int(r[0]) for r in self.db.execute(_ROWIDS, (pair,)))
            # Chunks no rare term found (the shortest ones above, and ``also``): ask by rowid.
            outside = [i for i in (*tally.lengths, *also) if i not in tally.found_by_rare]
            holders.update(self._holding(term, outside))
            tally.add([(i, tally.lengths[i]) for i in holders if i in tally.lengths], idf, bm25)
            # A chunk of ``also`` that holds only common terms is not ranked, but covered.
            tally.matched_only([i for i in holders if i not in tally.lengths], idf)

    def _shortest_holding(
        self, term: str, count: int, df: int, total: int
    ) -> list[tuple[int, int]]:
        """(id, tokens) of the ``count`` shortest chunks holding ``term`` (in ``df`` of the
        ``total`` chunks), by (tokens, id).

        The join reads every posting of the term with its chunk and sorts them (33 ms for a
        term in half of 100k chunks, 930 ms at a million). With the length index, chunks are
        walked shortest first and asked for the term a few hundred at a time, about
        count * total / df look-ups, each dearer than a posting read: the walk is taken when it
        is clearly the smaller (a filter's scope asks for 1,000 chunks, which for a term in
        2% of them would be a walk of 50,000)."""
        walk = count * total <= WALK_SHARE * df * df
        if not walk or not self._has_length_index():
            rows = self.db.execute(_SHORTEST, (term, count)).fetchall()
            return [(int(i), int(n)) for i, n in rows]
        found: list[tuple[int, int]] = []
        after = (-1, -1)
        while len(found) < count:
            page = self.db.execute(_BY_LENGTH, (*after, LENGTH_PAGE)).fetchall()
            if not page:
                break
            holders = self._holding(term, [int(i) for i, _ in page])
            found += [(int(i), int(n)) for i, n in page if int(i) in holders]
            after = (int(page[-1][1]), int(page[-1][0]))
        return found[:count]

    def _has_length_index(self) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='index' AND name='chunk_lengths'"
        ).fetchone()
        return row is not None

    def index_lengths(self) -> bool:
        """Create the index of chunks by length once the catalog is big enough to need it
        (``LENGTH_INDEX_FROM``); returns whether it exists. About 12 bytes a chunk, so small
        catalogs, where the join costs a few milliseconds, go without."""
        if self._has_length_index():
            return True
        if chunk_totals.totals(self.db)[0] < LENGTH_INDEX_FROM:
            return False
        self.db.execute(LENGTH_INDEX)
        return True

    def _holding(self, term: str, ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        for start in range(0, len(ids), 200):
            part = list(dict.fromkeys(ids[start : start + 200]))
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT rowid FROM lexical WHERE lexical MATCH ? AND rowid IN ({marks})",
                (f'"{term}"', *part),
            )
            found.update(int(r[0]) for r in rows)
        return found

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


# A term in more chunks than this is not read in full (see ``lexical_match``). Reading a
# posting list costs ~1 us a chunk in Python; this bounds one term's cost near 20-30 ms.
COMMON_POSTINGS = 20_000
SCOPED_FILL = 100  # x limit: the shortest chunks of a common term read when a filter is on
_COUNT = "SELECT count(*) FROM lexical WHERE lexical MATCH ?"
_ROWIDS = "SELECT rowid FROM lexical WHERE lexical MATCH ?"
_POSTINGS = (
    "SELECT l.rowid, c.tokens FROM lexical l JOIN chunks c ON c.id = l.rowid WHERE lexical MATCH ?"
)
_SHORTEST = _POSTINGS + " ORDER BY c.tokens, l.rowid LIMIT ?"
LENGTH_INDEX = "CREATE INDEX IF NOT EXISTS chunk_lengths ON chunks(tokens)"
LENGTH_INDEX_FROM = 200_000  # chunks: at 100k the join costs ~33 ms for a term in half of them
LENGTH_PAGE = 400  # chunks asked for a common term at a time
WALK_SHARE = 0.125  # a walk of chunks by length costs ~8 posting reads a chunk
_BY_LENGTH = (
    "SELECT id, tokens FROM chunks INDEXED BY chunk_lengths WHERE (tokens, id) > (?, ?) "
    "ORDER BY tokens, id LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class _Bm25:
    """BM25 with binary term frequency (the table keeps no frequencies)."""

    total: int
    average: float
    k1: float = 1.2
    b: float = 0.75

    def idf(self, df: int) -> float:
        return math.log(1.0 + (self.total - df + 0.5) / (df + 0.5))

    def weight(self, tokens: int) -> float:
        """A term's weight in a chunk of ``tokens``, per unit of idf."""
        k1, b = self.k1, self.b
        return (k1 + 1.0) / (1.0 + k1 * (1.0 - b + b * tokens / self.average))


class _Tally:
    """Scores and matched idf per chunk as terms are added."""

    def __init__(self) -> None:
        self.scores: dict[int, float] = {}
        self.matched: dict[int, float] = {}
        self.lengths: dict[int, int] = {}
        self.found_by_rare: set[int] = set()

    def add(self, rows: Iterable[tuple[int, int]], idf: float, bm25: _Bm25) -> None:
        for chunk_id, tokens in rows:
            self.scores[chunk_id] = self.scores.get(chunk_id, 0.0) + idf * bm25.weight(tokens)
            self.matched[chunk_id] = self.matched.get(chunk_id, 0.0) + idf
            self.lengths[chunk_id] = tokens

    def matched_only(self, ids: Iterable[int], idf: float) -> None:
        for chunk_id in ids:
            self.matched[chunk_id] = self.matched.get(chunk_id, 0.0) + idf

    def kth(self, k: int) -> float:
        ordered = sorted(self.scores.values(), reverse=True)
        return ordered[k - 1] if len(ordered) >= k else 0.0

    def best(self, limit: int, within: Container[int] | None) -> list[tuple[int, float]]:
        # Ties by chunk id, so the order does not depend on which terms were read first.
        items = self.scores.items()
        if within is not None:
            items = {i: v for i, v in items if i in within}.items()
        ranked = sorted(items, key=lambda item: (-item[1], item[0]))[:limit]
        return [(int(i), float(v)) for i, v in ranked]
