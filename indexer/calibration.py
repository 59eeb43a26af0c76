"""The reported score: an estimate of the probability that a hit is relevant, 0..1.

Rank fusion orders candidates well but says nothing about relevance: rescaled RRF gave a
nonsense query's top hit 0.83. So the score a person sees is a logistic function of the
hit's evidence, fitted once per embedding model (``bench/calibrate.py``) and shipped in
``models/calibration.json`` keyed by the model file's sha256:

* ``similarity``: the exact cosine between query and chunk (dense evidence);
* ``coverage``: the idf-weighted share of the query's terms the chunk contains (lexical
  evidence; independent of the query's length and of the index's size, unlike raw BM25);
* ``nearby_similarity``: the mean cosine between the query and the hit's chunk with its
  neighbours in the file (:mod:`sleuth.indexer.nearby`): whether the passage around the hit is
  about the query, so that one lucky chunk among unrelated ones does not outrank a passage
  that is all on topic;
* ``literal``: the share of the query's identifiers and quoted phrases the chunk contains
  verbatim (:mod:`sleuth.indexer.evidence`), ``NO_LITERAL`` for a query that names none: a
  name found raises a score, a name asked for and missing lowers it. As 0 for a query naming
  none it made ``where is FooManager defined`` (no such name anywhere) score like any query
  without a name, and such queries passed the floor on the cosine of look-alike code.

Each mode has its own curve over the evidence it has (semantic: the cosine; lexical:
coverage and literals; hybrid: all four), so the three modes report one scale. Every weight is
non-negative, so more evidence never lowers a score. A model without a fitted calibration gets
``fallback``: a deliberately conservative curve over the cosine (see the README).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

Mode = Literal["hybrid", "semantic", "lexical"]
FEATURES = ("similarity", "coverage", "nearby_similarity", "literal")
DATA_FILE = Path(__file__).with_name("models") / "calibration.json"
# The literal feature of a query that names no literal: between a name found (1) and a name
# missing (0), so a hit is helped by the names it holds and hurt by those it lacks, by half as
# much (bench/calibrate.py's neutral_literal). A penalty as large as the help (1/2) turned away
# 91.1% of the held-out off-topic queries against 90.8%, but lost 4 of the 142 pyfaq answers
# in the top 10 against 3: questions whose answers do not repeat the names they ask about.
NO_LITERAL = 1 / 3


class CalibrationError(ValueError):
    """The shipped calibration file is malformed (a packaging bug, not a user error)."""


@dataclass(frozen=True, slots=True)
class Logistic:
    """``1 / (1 + exp(-(bias + sum(weight * feature))))`` with non-negative weights."""

    bias: float
    weights: tuple[tuple[str, float], ...]

    def __call__(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights)
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)  # the same value, without overflow for very negative z
        return e / (1.0 + e)

    @classmethod
    def parse(cls, raw: Any, where: str) -> Logistic:
        try:
            bias = float(raw["bias"])
            weights = tuple((str(k), float(v)) for k, v in dict(raw["weights"]).items())
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"{where}: {exc}") from exc
        for name, weight in weights:
            if name not in FEATURES or weight < 0 or not math.isfinite(weight):
                raise CalibrationError(f"{where}: bad weight {name}={weight}")
        return cls(bias, weights)


@dataclass(frozen=True, slots=True)
class Calibration:
    name: str  # the model's name in the data file, or "fallback"
    fitted: bool  # False: the fallback curve for a model nobody calibrated
    semantic: Logistic
    hybrid: Logistic
    lexical: Logistic

    def score(
        self,
        mode: Mode,
        similarity: float | None,
        coverage: float | None,
        nearby_similarity: float | None = None,
        literal: float | None = None,
    ) -> float:
        """Probability of relevance of one hit, from what ``mode`` knows about it.

        Without a neighbourhood signal the hit stands for its neighbourhood (as a lone chunk does).
        ``literal`` is None when the query names no literal: it then counts as ``NO_LITERAL``.
        """
        cosine = max(similarity or 0.0, 0.0)
        near = cosine if nearby_similarity is None else max(nearby_similarity, 0.0)
        features = {
            "similarity": cosine,
            "coverage": coverage or 0.0,
            "nearby_similarity": near,
            "literal": NO_LITERAL if literal is None else literal,
        }
        curve = self.semantic if mode == "semantic" else self.lexical
        if mode == "hybrid":
            curve = self.hybrid
        return curve(features)


def _curves(raw: Any, where: str, lexical: Logistic) -> tuple[Logistic, Logistic, Logistic]:
    try:
        return (
            Logistic.parse(raw["semantic"], f"{where}.semantic"),
            Logistic.parse(raw["hybrid"], f"{where}.hybrid"),
            Logistic.parse(raw["lexical"], f"{where}.lexical") if "lexical" in raw else lexical,
        )
    except (KeyError, TypeError) as exc:
        raise CalibrationError(f"{where}: missing {exc}") from exc


@cache
def _load(path: Path) -> tuple[float, dict[str, Calibration], Calibration]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        lexical = Logistic.parse(raw["lexical"], "lexical")
        floor = float(raw["min_score"])
        fallback = Calibration("fallback", False, *_curves(raw["fallback"], "fallback", lexical))
        models = {
            str(sha): Calibration(
                str(entry["name"]), True, *_curves(entry, f"models.{sha[:12]}", lexical)
            )
            for sha, entry in dict(raw["models"]).items()
        }
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise CalibrationError(f"calibration data {path} is unusable: {exc}") from exc
    return floor, models, fallback


def calibration_for(model_sha256: str, path: Path = DATA_FILE) -> Calibration:
    """The model's fitted calibration, or the fallback for a model without one."""
    _floor, models, fallback = _load(path)
    return models.get(model_sha256, fallback)


def default_min_score(path: Path = DATA_FILE) -> float:
    """The relevance floor hits must reach to be shown unless ``--min-score`` moves it."""
    return _load(path)[0]
