"""Evidence for the relevance calibration: hits of labelled and off-topic queries, per mode.

Corpora (under ``_data/corpus/``, indexed ``fast`` with the real model through the shared
embedding store):

* ``pyfaq``: the whole of pyfaq (4,441 passages, the quality benchmark's corpus and index).
  A smaller sample (the FAQ answers and 250 distractors, used before the neighbourhood signal)
  held too few long files for it to be weighed right;
* ``pdf``: the 8-PDF corpus of ``bench.derived_corpora`` (R manuals, Debian FAQ), with the
  questions of ``bench.queries.PDF_REAL``;
* ``examples``: the repository's ``examples/`` (the README's demo);
* ``code``: sleuth's own ``.py`` sources (``cli/ indexer/ store/ extractors/``), a code corpus.

Splits: the 50 questions of ``pyfaq-quick`` are always held out (so the quality benchmark's
questions never train the score that ranks them); the other 128 pyfaq questions fit. Every
hand-written set splits by position (``bench.queries.split``).
"""

from __future__ import annotations

import ast
import json
import random
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import REPO, Config, log
from bench.corpora import CORPUS_DIR, QUICK_QUERIES, Corpus, Labelled, _digest, _in_place
from bench.embeddings import RecordingEmbedder
from bench.indexes import ensure_index, open_searcher
from sleuth.indexer.search import Mode, SearchOptions

DEPTH = 30  # hits kept per query: what -l and the quality protocol look at


@dataclass(frozen=True, slots=True)
class Row:
    corpus: str
    qset: str  # e.g. "pyfaq", "offtopic-python", "examples"
    query: str
    split: str  # "fit" or "held"
    mode: str
    rank: int  # 1-based, in the order sleuth showed
    similarity: float | None
    coverage: float | None
    relevant: bool
    name: str  # file name of the hit
    nearby_similarity: float | None = None  # rows of older runs have none
    literal: float | None = None


@dataclass(frozen=True, slots=True)
class QuerySet:
    name: str
    split: str
    queries: dict[str, set[str]]  # query text -> relevant file names (empty: off-topic)


def pyfaq_held_out(whole: Labelled, quick: Labelled) -> set[str]:
    """The question texts of the whole pyfaq held out of the fit: those of pyfaq-quick."""
    held = set(quick.queries.values())
    assert len(held) == QUICK_QUERIES and held <= set(whole.queries.values())
    return held


def examples_corpus() -> Corpus:
    src = REPO / "examples"
    files = {p.relative_to(src).as_posix(): p.read_bytes() for p in src.rglob("*") if p.is_file()}
    root = CORPUS_DIR / "examples"
    _write(root, files)
    return Corpus("examples", "examples", root, tuple(sorted(files)), _size(root, files), "")


def code_corpus() -> Corpus:
    files: dict[str, bytes] = {}
    for package in ("cli", "indexer", "store", "extractors"):
        for path in sorted((REPO / package).rglob("*.py")):
            files[path.relative_to(REPO).as_posix()] = path.read_bytes()
    root = CORPUS_DIR / "code"
    _write(root, files)
    return Corpus("code", "code", root, tuple(sorted(files)), _size(root, files), "")


def _write(root: Path, files: dict[str, str] | dict[str, bytes]) -> None:
    blobs = {k: v.encode("utf-8") if isinstance(v, str) else v for k, v in files.items()}
    if _in_place(root, {k: _digest(v) for k, v in blobs.items()}):
        return
    log(f"writing corpus {root.name}: {len(blobs)} files")
    shutil.rmtree(root, ignore_errors=True)
    for rel, data in blobs.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def _size(root: Path, files: dict[str, str] | dict[str, bytes]) -> int:
    return sum((root / rel).stat().st_size for rel in files)


def collect(
    corpus: Corpus, sets: list[QuerySet], config: Config, modes: tuple[Mode, ...]
) -> Iterator[Row]:
    """Every hit (to ``DEPTH``) of every query of ``sets`` on ``corpus``, in each mode."""
    embedder = RecordingEmbedder(corpus.family, threads=config.threads)
    directory = ensure_index(corpus, "fast", embedder)  # the default storage
    index, searcher = open_searcher(directory, embedder)
    try:
        for qset in sets:
            log(f"calibration: {corpus.name} x {qset.name}/{qset.split}: {len(qset.queries)}")
            for query, relevant in qset.queries.items():
                for mode in modes:
                    result = searcher.search(query, SearchOptions(limit=DEPTH, mode=mode))
                    for rank, hit in enumerate(result.hits, 1):
                        name = Path(hit.path).name
                        yield Row(
                            corpus.name,
                            qset.name,
                            query,
                            qset.split,
                            mode,
                            rank,
                            hit.similarity,
                            hit.coverage,
                            name in relevant,
                            name,
                            hit.nearby_similarity,
                            hit.literal,
                        )
    finally:
        searcher.close()
        index.close()
        embedder.save()


def pyfaq_sets(labelled: Labelled, held: set[str]) -> list[QuerySet]:
    files_of: dict[str, set[str]] = {}
    for name, doc in labelled.doc_of_file.items():
        files_of.setdefault(doc, set()).add(name)
    sets: dict[str, dict[str, set[str]]] = {"fit": {}, "held": {}}
    for qid, text in labelled.queries.items():
        relevant = {f for d in labelled.qrels[qid] for f in files_of.get(d, set())}
        sets["held" if text in held else "fit"][text] = relevant
    return [QuerySet("pyfaq", split, queries) for split, queries in sets.items()]


def offtopic_sets(name: str, queries: list[str]) -> list[QuerySet]:
    from bench.queries import split

    fit, held = split(queries)
    return [
        QuerySet(name, "fit", {q: set() for q in fit}),
        QuerySet(name, "held", {q: set() for q in held}),
    ]


def labelled_sets(name: str, answers: dict[str, str], split_it: bool = True) -> list[QuerySet]:
    from bench.queries import split

    texts = list(answers)
    fit, held = split(texts) if split_it else (texts, [])
    out = [QuerySet(name, "fit", {q: {answers[q]} for q in fit})]
    if held:
        out.append(QuerySet(name, "held", {q: {answers[q]} for q in held}))
    return out


def identifier_sets(corpus: Corpus, count: int = 60) -> list[QuerySet]:
    """Queries naming an identifier of the code corpus, asked bare and as "where is X
    defined"; the file that defines it is the relevant one. Names are functions and classes
    whose shape marks them as identifiers (``indexer.evidence.query_literals``), each defined
    in one file with a name of its own; ``count`` of them, drawn reproducibly."""
    from bench.queries import IDENTIFIER_TEMPLATES, split
    from sleuth.indexer.evidence import query_literals

    where: dict[str, set[str]] = {}
    names = [Path(rel).name for rel in corpus.files]
    for rel in corpus.files:
        tree = ast.parse((corpus.root / rel).read_text(encoding="utf-8"))
        defined = (
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        )
        for name in defined:
            if query_literals(name) == (name.casefold(),):  # an identifier by its shape
                where.setdefault(name, set()).add(Path(rel).name)
    unique = sorted(n for n, files in where.items() if len(files) == 1)
    unique = [n for n in unique if names.count(next(iter(where[n]))) == 1]
    chosen = random.Random(0).sample(unique, min(count, len(unique)))
    fit, held = split(chosen)
    return [
        QuerySet(
            "identifiers",
            split_name,
            {t.format(n): where[n] for n in part for t in IDENTIFIER_TEMPLATES},
        )
        for split_name, part in (("fit", fit), ("held", held))
    ]


def offtopic_identifier_sets() -> list[QuerySet]:
    from bench.queries import IDENTIFIER_TEMPLATES, OFFTOPIC_IDENTIFIERS, split

    fit, held = split(OFFTOPIC_IDENTIFIERS)
    return [
        QuerySet(
            "offtopic-identifiers",
            name,
            {t.format(n): set() for n in part for t in IDENTIFIER_TEMPLATES},
        )
        for name, part in (("fit", fit), ("held", held))
    ]


def save_rows(path: Path, rows: list[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(asdict(r)) for r in rows) + "\n", encoding="utf-8")


def load_rows(path: Path) -> list[Row]:
    return [Row(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]


def shuffled(items: list[str], seed: int = 0) -> list[str]:
    out = list(items)
    random.Random(seed).shuffle(out)
    return out
