"""Fit and check sleuth's calibrated relevance score and its default floor.

    .venv/bin/python bench/calibrate.py            # collect evidence, report the shipped fit
    .venv/bin/python bench/calibrate.py --write    # refit and write indexer/models/calibration.json

Evidence comes from ``bench.calibdata`` (pyfaq, examples/, sleuth's code; labelled and
off-topic queries). Each mode's curve is a logistic regression fitted on the ``fit`` split
only (Newton's method, a small ridge, weights kept non-negative by dropping a feature that
would get a negative one); hybrid's is a logistic over a blend chosen for ranking first
(``fit_hybrid``). The floor is the lowest score at which the fit split's off-topic queries
exit 1 ``OFFTOPIC_FIT`` of the time, or else the highest at which it loses at most
``MAX_DROP_FIT`` of the labelled fit queries whose answer was in the top 10. Everything
reported as held out (the 50 pyfaq-quick questions, odd positions of the hand-written sets
and of the identifier sets, the issue's demo queries) never took part in the fit. As a
bench section (``calibration``) it only reports the shipped calibration.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import DATA_DIR, Config, Json, emit, log, table  # noqa: E402
from sleuth.indexer.calibration import NO_LITERAL  # noqa: E402

ROWS = DATA_DIR / "calibration-rows.jsonl"
MODES = ("hybrid", "semantic", "lexical")
FEATURES = {
    "semantic": ["similarity"],
    "lexical": ["coverage", "literal"],
}
# The labelled sets whose order hybrid's blend is chosen for.
RANKED_SETS = ("pyfaq", "code", "identifiers")
RANKING_TOLERANCE = 0.002  # nDCG@10 on the fit questions: about two of them moving one rank
MAX_DROP_FIT = 0.02
OFFTOPIC_FIT = 0.93  # the 90% target plus a margin for queries the fit never saw
TOP = 10
FALLBACK_SHIFT = 0.13
ABOUT = (
    "Written by bench/calibrate.py --write. Logistic curves (balanced classes) from a hit's "
    "cosine ('similarity'), idf-weighted query-term coverage, the mean cosine over its "
    "neighbourhood ('nearby_similarity') and the share of the query's identifiers and quoted "
    "phrases it holds ('literal'; NO_LITERAL for a query naming none) to a relevance score; "
    "'models' is keyed by the GGUF file's sha256, 'fallback' serves any other model."
)


def gather(config: Config) -> list[object]:
    from bench import calibdata as cd
    from bench import queries as qs
    from bench.corpora import corpus_pyfaq

    quick = corpus_pyfaq(Config(quick=True, threads=config.threads))
    whole = corpus_pyfaq(Config(threads=config.threads))
    labelled, held = whole, cd.pyfaq_held_out(whole, quick)
    general = cd.offtopic_sets("offtopic-general", qs.OFFTOPIC_GENERAL)
    python = [
        *cd.offtopic_sets("offtopic-python", qs.OFFTOPIC_PYTHON),
        *cd.offtopic_identifier_sets(),
    ]
    modes: tuple[cd.Mode, ...] = ("hybrid", "semantic", "lexical")
    rows: list[object] = []
    rows += cd.collect(
        labelled.corpus, [*cd.pyfaq_sets(labelled, held), *general, *python], config, modes
    )
    demo = [
        cd.QuerySet("demo-real", "held", {q: {f} for q, f in qs.DEMO_REAL.items()}),
        cd.QuerySet("demo-nonsense", "held", {q: set() for q in qs.DEMO_NONSENSE}),
    ]
    rows += cd.collect(
        cd.examples_corpus(),
        [*cd.labelled_sets("examples", qs.EXAMPLES_REAL, split_it=False), *general, *python, *demo],
        config,
        modes,
    )
    from bench.derived_corpora import corpus_pdf

    rows += cd.collect(
        corpus_pdf(), [*cd.labelled_sets("pdf", qs.PDF_REAL), *general, *python], config, modes
    )
    code = cd.code_corpus()
    rows += cd.collect(
        code,
        [*cd.labelled_sets("code", qs.CODE_REAL), *cd.identifier_sets(code), *general, *python],
        config,
        modes,
    )
    cd.save_rows(ROWS, rows)  # type: ignore[arg-type]
    return rows


# -- fitting -------------------------------------------------------------------------------
def logistic_fit(x: np.ndarray, y: np.ndarray, ridge: float = 1e-3) -> np.ndarray:
    """Weights (bias first) maximising the penalised log-likelihood, by Newton's method.

    Relevant and non-relevant hits weigh the same in total (balanced classes): with one
    judged answer per pyfaq question among 30 hits the plain prior would squash every score
    below 0.1. So 0.5 means "as likely from a relevant hit as from an irrelevant one".
    """
    balance = np.where(y > 0, (len(y) - y.sum()) / max(y.sum(), 1.0), 1.0)
    a = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(a.shape[1])
    penalty = np.full(a.shape[1], ridge)
    penalty[0] = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(a @ w)))
        grad = a.T @ (balance * (p - y)) + penalty * w
        hess = (a * (balance * p * (1 - p))[:, None]).T @ a + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def fit_mode(rows: Sequence[object], mode: str) -> Json:
    chosen = [r for r in rows if r.mode == mode and r.split == "fit"]  # type: ignore[attr-defined]
    names = list(FEATURES[mode])
    y = np.array([r.relevant for r in chosen], dtype=float)  # type: ignore[attr-defined]
    while True:
        x = np.array([[_feature(r, n) for n in names] for r in chosen], dtype=float)
        w = logistic_fit(x, y)
        negative = [n for n, v in zip(names, w[1:], strict=True) if v < 0]
        if not negative:
            break
        names.remove(negative[0])
    log(f"fit {mode}: {len(chosen)} hits, {int(y.sum())} relevant, weights {w.round(3)}")
    return {
        "bias": round(float(w[0]), 4),
        "weights": {n: round(float(v), 4) for n, v in zip(names, w[1:], strict=True)},
    }


def ranking_ndcg(rows: Sequence[object], mode: str, blend: Blend) -> float:
    """nDCG@10 (files, one judged answer each) of the fit split's pyfaq, code and identifier
    questions in ``mode`` when their hits are ordered by the ``blend`` of their evidence."""
    queries: dict[tuple[str, str], list[object]] = defaultdict(list)
    for r in rows:
        if r.mode == mode and r.qset in RANKED_SETS and r.split == "fit":  # type: ignore[attr-defined]
            queries[(r.qset, r.query)].append(r)  # type: ignore[attr-defined]
    per_set: dict[str, list[float]] = defaultdict(list)
    for (qset, _query), hits in queries.items():
        ordered = sorted(hits, key=lambda h: -blend.value(h))
        names: list[str] = []
        relevant: dict[str, bool] = {}
        for h in ordered:
            if h.name not in relevant:  # type: ignore[attr-defined]
                names.append(h.name)  # type: ignore[attr-defined]
                relevant[h.name] = h.relevant  # type: ignore[attr-defined]
        gain = sum(1 / math.log2(i + 2) for i, n in enumerate(names[:TOP]) if relevant[n])
        per_set[qset].append(gain)
    # Each set weighs the same: pyfaq's 128 questions would drown the code ones otherwise.
    return sum(sum(v) / len(v) for v in per_set.values()) / max(len(per_set), 1)


@dataclass(frozen=True, slots=True)
class Blend:
    """A ranking direction: ``(1 - file) * similarity + file * nearby_similarity
    + coverage * coverage + literal * literal`` (``file``: the neighbourhood's weight)."""

    file: float
    coverage: float
    literal: float = 0.0

    def value(self, row: object) -> float:
        sim = _feature(row, "similarity")
        return (
            (1 - self.file) * sim
            + self.file * _feature(row, "nearby_similarity")
            + self.coverage * _feature(row, "coverage")
            + self.literal * _feature(row, "literal")
        )


def fit_hybrid(rows: Sequence[object]) -> Json:
    """Hybrid's curve ranks too, so its direction is chosen for ranking first: the weights of
    the neighbourhood signal, coverage and literals against the cosine that order the fit questions
    best (nDCG@10); then a one-feature logistic over that blend. The score and the order then
    never disagree. (Semantic mode stays the cosine alone: dense search, as its name says.)"""
    files = [step / 20 for step in range(0, 13)]
    covers = [step / 40 for step in range(0, 25)]
    literals = [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8]
    grid = [Blend(f, c, x) for f in files for c in covers for x in literals]
    ndcg = {b: ranking_ndcg(rows, "hybrid", b) for b in grid}
    # Near its top the grid is flat (neighbourhood weights 0.25-0.6 within 0.003 on pyfaq).
    # Of the blends within RANKING_TOLERANCE of the best, the one whose score (and floor)
    # turns away the most off-topic fit queries: equal rankings, better separation.
    top = max(ndcg.values())
    near = [b for b in grid if ndcg[b] >= top - RANKING_TOLERANCE]
    specs = {b: _blend_curve(rows, b) for b in near}
    separation = {b: _separation(rows, spec) for b, spec in specs.items()}
    best = max(near, key=lambda b: (separation[b], ndcg[b], -b.file, -b.coverage, -b.literal))
    log(
        f"hybrid ranking: nearby weight {best.file}, coverage weight {best.coverage}, "
        f"literal weight {best.literal} (nDCG@10 {ndcg[best]:.4f}, best {top:.4f}, cosine "
        f"alone {ranking_ndcg(rows, 'hybrid', Blend(0.0, 0.0)):.4f}; {len(near)} blends near "
        f"the best, off-topic fit queries turned away {separation[best]:.3f})"
    )
    return specs[best]


def _blend_curve(rows: Sequence[object], blend: Blend) -> Json:
    """The one-feature logistic over ``blend``, as per-feature weights."""
    chosen = [r for r in rows if r.mode == "hybrid" and r.split == "fit"]  # type: ignore[attr-defined]
    x = np.array([[blend.value(r)] for r in chosen])
    y = np.array([r.relevant for r in chosen], dtype=float)  # type: ignore[attr-defined]
    w = logistic_fit(x, y)
    slope = float(w[1])
    weights = {
        "similarity": round(slope * (1 - blend.file), 4),
        "nearby_similarity": round(slope * blend.file, 4),
        "coverage": round(slope * blend.coverage, 4),
        "literal": round(slope * blend.literal, 4),
    }
    return {"bias": round(float(w[0]), 4), "weights": {k: v for k, v in weights.items() if v}}


def _separation(rows: Sequence[object], spec: Json) -> float:
    """Share of the fit split's off-topic queries turned away at the floor ``spec`` gets."""
    fit_queries = per_query(rows, "hybrid", curve(spec), "fit")
    return offtopic_share(tradeoff(fit_queries, choose_floor(fit_queries)))


def _feature(row: object, name: str, no_literal: float = 0.0) -> float:
    """A row's feature as the fit reads it (``no_literal`` 0: a query naming no literal gets no
    bonus) or, with ``no_literal=NO_LITERAL``, as sleuth scores it."""
    value = getattr(row, name)
    if value is None and name == "nearby_similarity":  # no neighbourhood: the hit stands for it
        value = row.similarity  # type: ignore[attr-defined]
    if value is None and name == "literal":
        value = no_literal
    return max(0.0, float(value)) if value is not None else 0.0


def curve(spec: Json, no_literal: float = 0.0) -> Callable[[object], float]:
    def score(row: object) -> float:
        z = spec["bias"] + sum(w * _feature(row, n, no_literal) for n, w in spec["weights"].items())
        return 1.0 / (1.0 + math.exp(-z))

    return score


def shipped_curve(spec: Json) -> Callable[[object], float]:
    """A curve of the data file, scored as sleuth scores (``NO_LITERAL`` for no literal)."""
    return curve(spec, NO_LITERAL)


def neutral_literal(spec: Json) -> Json:
    """The fitted curve, re-read so that a query naming no literal scores ``NO_LITERAL``.

    The fit reads "names no literal" as 0, the same as "names one and the hit lacks it": a
    literal could only add. Shipped, a query naming none and a hit holding every name asked
    score exactly as fitted (w' = w / (1 - n), bias' = bias - w' n), and a hit lacking the
    names asked loses w' n. That is what turns away ``where is FooManager defined`` asked of
    code that has no such name, which the cosine of look-alike code let through."""
    weight = spec["weights"].get("literal")
    if not weight:
        return spec
    scaled = weight / (1.0 - NO_LITERAL)
    return {
        "bias": round(spec["bias"] - scaled * NO_LITERAL, 4),
        "weights": {**spec["weights"], "literal": round(scaled, 4)},
    }


# -- the floor's trade-off -----------------------------------------------------------------
def per_query(
    rows: Sequence[object], mode: str, score: Callable[[object], float], split: str | None
) -> dict[tuple[str, str, str], list[tuple[float, bool, str]]]:
    """(corpus, set, query) -> [(score, relevant, file)] in the order sleuth shows."""
    out: dict[tuple[str, str, str], list[tuple[float, bool, str]]] = defaultdict(list)
    for r in rows:
        if r.mode == mode and (split is None or r.split == split):  # type: ignore[attr-defined]
            key = (r.corpus, r.qset, r.query)  # type: ignore[attr-defined]
            out[key].append((score(r), r.relevant, r.name))  # type: ignore[attr-defined]
    for hits in out.values():
        hits.sort(key=lambda h: -h[0])  # sleuth's order: by calibrated score
    return out


def tradeoff(
    queries: dict[tuple[str, str, str], list[tuple[float, bool, str]]], floor: float
) -> dict[str, list[float]]:
    """Per (corpus/set): [queries, share exiting 1, share of answered-in-top-10 dropped,
    queries answered in the top 10]."""
    acc: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0])
    for (corpus, qset, _q), hits in queries.items():
        a = acc[f"{corpus}/{qset}"]
        a[0] += 1
        a[1] += not hits or hits[0][0] < floor
        found = [s for s, rel, _ in hits[:TOP] if rel]
        if found:
            a[2] += 1
            a[3] += max(found) < floor
    return {
        k: [v[0], v[1] / v[0], v[3] / v[2] if v[2] else float("nan"), v[2]]
        for k, v in sorted(acc.items())
    }


def offtopic_share(t: dict[str, list[float]]) -> float:
    off = [v for k, v in t.items() if "offtopic" in k or "nonsense" in k]
    return sum(v[0] * v[1] for v in off) / max(sum(v[0] for v in off), 1)


def _offtopic_count(t: dict[str, list[float]]) -> float:
    return sum(v[0] for k, v in t.items() if "offtopic" in k or "nonsense" in k)


def answers_lost(t: dict[str, list[float]]) -> float:
    """Share of the labelled queries answered in the top 10 (every set) that the floor drops."""
    labelled = [v for v in t.values() if v[3]]
    return sum(v[2] * v[3] for v in labelled) / max(sum(v[3] for v in labelled), 1)


def choose_floor(fit_queries: dict[tuple[str, str, str], list[tuple[float, bool, str]]]) -> float:
    """The lowest floor at which the fit split's off-topic queries exit 1 at least
    ``OFFTOPIC_FIT`` of the time while losing at most ``MAX_DROP_FIT`` of the answers of every
    labelled set together (pyfaq, code, identifiers, examples), else the highest floor within
    that loss."""
    within = 0.0
    for step in range(1, 200):
        floor = step / 200
        t = tradeoff(fit_queries, floor)
        if answers_lost(t) > MAX_DROP_FIT:
            continue
        within = floor
        if offtopic_share(t) >= OFFTOPIC_FIT:
            return floor
    return within


def report(rows: Sequence[object], spec: Json) -> Json:
    figures: Json = {"min_score": spec["min_score"], "modes": {}}
    floor = float(spec["min_score"])
    for mode in MODES:
        sha = next(iter(spec["models"]))
        fitted = (
            spec["models"][sha].get(mode, spec["lexical"]) if mode != "lexical" else spec["lexical"]
        )
        score = shipped_curve(fitted)
        held = tradeoff(per_query(rows, mode, score, "held"), floor)
        fit = tradeoff(per_query(rows, mode, score, "fit"), floor)
        figures["modes"][mode] = {"held": held, "fit": fit}
        body: list[list[object]] = [
            [f"all off-topic ({split})", int(_offtopic_count(t)), offtopic_share(t), "-"]
            for split, t in (("held out", held), ("fit", fit))
        ]
        body += [
            [f"all labelled ({split})", int(sum(v[3] for v in t.values())), "-", answers_lost(t)]
            for split, t in (("held out", held), ("fit", fit))
        ]
        for name, (n, exit1, lost, _answered) in held.items():
            body.append([f"{name} (held out)", int(n), exit1, lost])
        for name, (n, exit1, lost, _answered) in fit.items():
            body.append([f"{name} (fit)", int(n), exit1, lost])
        emit(
            table(
                f"Floor {floor} in {mode} mode: share of queries exiting 1, share of "
                "answers in the top 10 lost",
                ["set", "queries (labelled: answered in the top 10)", "exit 1", "answers lost"],
                body,
            )
        )
    demo = per_query(
        rows, "hybrid", shipped_curve(spec["models"][next(iter(spec["models"]))]["hybrid"]), "held"
    )
    lines = [
        [q, h[0][2] if h else "-", h[0][0] if h else 0.0, bool(h and h[0][0] >= floor)]
        for (c, s, q), h in demo.items()
        if c == "examples" and s.startswith("demo")
    ]
    emit(
        table(
            "The issue's demo queries on examples/ (hybrid)",
            ["query", "first file", "best score", "shown"],
            lines,
        )
    )
    figures["demo"] = lines
    return figures


def _cosine_weight(curve: Json) -> float:
    weights = curve["weights"]
    return float(weights["similarity"]) + float(weights.get("nearby_similarity", 0.0))


def fit_all(rows: Sequence[object]) -> Json:
    from sleuth.indexer.calibration import DATA_FILE

    spec = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    sha = next(iter(spec["models"]))
    model = spec["models"][sha]
    model["semantic"] = fit_mode(rows, "semantic")
    model["hybrid"] = fit_hybrid(rows)
    spec["lexical"] = fit_mode(rows, "lexical")
    # The floor trades answers for off-topic queries on the evidence as fitted; the penalty
    # for missing names (neutral_literal) then only lowers hits that lack a name asked for.
    fit_queries = per_query(rows, "hybrid", curve(model["hybrid"]), "fit")
    spec["min_score"] = choose_floor(fit_queries)
    # A model nobody calibrated: the same curves, demanding FALLBACK_SHIFT more cosine.
    # Both cosines shift with the model's scale, so the cosine weight is theirs together.
    spec["fallback"] = {
        mode: neutral_literal(
            {
                "bias": round(
                    model[mode]["bias"] - _cosine_weight(model[mode]) * FALLBACK_SHIFT, 4
                ),
                "weights": model[mode]["weights"],
            }
        )
        for mode in ("semantic", "hybrid")
    }
    for mode in ("semantic", "hybrid"):
        model[mode] = neutral_literal(model[mode])
    spec["lexical"] = neutral_literal(spec["lexical"])
    spec["about"] = ABOUT
    log(f"floor: {spec['min_score']}")
    return dict(spec)


def run(config: Config) -> Json:
    from sleuth.indexer.calibration import DATA_FILE

    rows = gather(config)
    return report(rows, json.loads(DATA_FILE.read_text(encoding="utf-8")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="refit and write the data file")
    parser.add_argument("--reuse", action="store_true", help="reuse the rows of the last run")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    from bench.snapshot import pin

    pin()
    from bench.calibdata import load_rows
    from sleuth.indexer.calibration import DATA_FILE

    config = Config(quick=True, threads=args.threads)
    rows: list[object] = list(load_rows(ROWS)) if args.reuse and ROWS.exists() else gather(config)
    spec = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    if args.write:
        spec = fit_all(rows)
        DATA_FILE.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
        log(f"wrote {DATA_FILE}")
    report(rows, spec)
    return 0


if __name__ == "__main__":
    sys.exit(main())
