"""What a query knows about its candidates besides their cosine: lexical coverage, the
neighbourhood signal, and the literals (identifiers, quoted phrases) a chunk contains verbatim.

A query such as ``where is plan_missed defined`` or ``"connection reset by peer"`` names
text that must appear as written. The lexical index cannot say so: it splits identifiers
into words (``plan``, ``missed``) and keeps no positions for phrases (``detail=none``). So the
candidates' own text, already read for the snippet, is searched for each literal, and the
share found is one more feature of the calibrated score (``literal``). On sleuth's own code
(bench/calibrate.py's identifier questions held out of the fit: 30 function and class names,
asked bare and as "where is X defined") hybrid nDCG@10 for the defining file went from 0.868
to 0.946 with the neighbourhood signal and literals in the score.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sleuth.indexer.calibration import Calibration, Mode

# Quoted phrases: "double", `backticks`, and 'single' quotes that are not apostrophes.
_QUOTED = re.compile(r"\"([^\"]{2,})\"|`([^`]{2,})`|(?<!\w)'([^']{2,})'(?!\w)")
# A dotted or ``::`` path of identifier parts.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|::)[A-Za-z_][A-Za-z0-9_]*)*")
_CAMEL = re.compile(r"[a-z0-9][A-Z]|[A-Z]{2}[a-z]")


def query_literals(query: str) -> tuple[str, ...]:
    """The quoted phrases and identifier-like words of a query, case-folded.

    A word is identifier-like when a person would not type it in prose: it holds an inner
    underscore (``plan_missed``, ``__init__``), a case change inside (``DenseIndex``,
    ``getElementById``), or a dot or ``::`` between names of two letters or more
    (``os.path.join``, not ``e.g``). Plain words, even rare ones, are left to BM25 and the
    embedding.
    """
    found: list[str] = []
    rest = query
    for match in _QUOTED.finditer(query):
        phrase = next(g for g in match.groups() if g is not None).strip()
        if len(phrase) >= 2:
            found.append(phrase)
        rest = rest.replace(match.group(0), " ")
    for word in _NAME.findall(rest):
        parts = re.split(r"\.|::", word)
        if len(parts) > 1 and all(len(p) >= 2 for p in parts):
            found.append(word)  # a path; its parts count on their own where they qualify
        found += [p for p in parts if _identifier(p)]
    return tuple(dict.fromkeys(w.casefold() for w in found))


def _identifier(word: str) -> bool:
    if len(word) < 3:
        return False
    return "_" in word.strip("_") or word.startswith("__") or _CAMEL.search(word) is not None


def literal_shares(literals: tuple[str, ...], texts: Iterable[tuple[int, str]]) -> dict[int, float]:
    """chunk id -> the share of ``literals`` its text contains (case-folded, verbatim but for
    white space: a quoted phrase wrapped across lines is still found)."""
    if not literals:
        return {}
    wanted = [" ".join(lit.split()) for lit in literals]
    shares: dict[int, float] = {}
    for chunk_id, text in texts:
        folded = " ".join(text.casefold().split())
        shares[chunk_id] = sum(lit in folded for lit in wanted) / len(wanted)
    return shares


@dataclass(frozen=True, slots=True)
class Evidence:
    """Per query, by chunk id: lexical coverage, the neighbourhood signal and the literals' share
    (``literal`` is None when the query names no literal)."""

    coverage: dict[int, float] = field(default_factory=dict)
    nearby: dict[int, float] = field(default_factory=dict)
    literal: dict[int, float] | None = None

    def score(
        self, calibration: Calibration, mode: Mode, chunk_id: int, similarity: float | None
    ) -> float:
        return calibration.score(mode, similarity, *self.of(mode, chunk_id))

    def of(self, mode: Mode, chunk_id: int) -> tuple[float | None, float | None, float | None]:
        """(coverage, nearby similarity, literal share) of one chunk as ``mode`` sees them."""
        coverage = None if mode == "semantic" else self.coverage.get(chunk_id, 0.0)
        near = None if mode == "lexical" else self.nearby.get(chunk_id)  # semantic: reported
        literal = (
            None if self.literal is None or mode == "semantic" else self.literal.get(chunk_id, 0.0)
        )
        return coverage, near, literal
