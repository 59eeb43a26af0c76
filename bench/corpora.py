"""The benchmark corpora, selected reproducibly and copied under ``bench/_data/corpus/``.

Corpus S (speed, footprint, recall)
    The standard library of the *running* Python 3.11 (``sysconfig.get_paths()["stdlib"]``;
    here a pyenv install): every regular file matching ``<stdlib>/*.py``, sorted by name, then
    every regular file under ``<stdlib>/pydoc_data/`` outside ``__pycache__``, sorted by
    relative path. Files are copied with their mtimes to ``_data/corpus/s/`` (same relative
    names), so indexes of the copy stay valid between runs and edits never touch the stdlib.
    ``--quick``: of those ``*.py`` files, the ones of at most 20,000 bytes, every third.

Corpus F (pyfaq, quality)
    ``../shared/bench/pyfaq.py``: 178 FAQ questions over 4,441 passages of the Python 3.11
    docs (``apt-get install -y python3.11-doc``). sleuth indexes files, so each passage is
    written to its own file, in pyfaq's own ``--files`` format (``# title`` line when the
    passage has a title, then the text). Files are named ``pNNNNN.md`` by the passage's
    position in pyfaq's corpus, and ``files.json`` maps names back to passage ids. The
    passage id is *not* used as the file name: FAQ ids end in a slug of the question, and
    sleuth embeds and indexes the file name as chunk context, so that would leak the query
    into its answer. ``--quick``: 50 questions (``random.Random(0)``), their relevant
    passages, and random distractor passages up to 250 passages in all.

Stdlib docstring queries (recall on corpus S, which has no labelled queries)
    Every module, class and function docstring of the corpus's ``*.py`` files (files in
    order, nodes in ``ast.walk`` order), first non-empty line, stripped; kept if it has 5-25
    words and starts with a letter; duplicates (case-insensitive) dropped; then
    ``random.Random(0).sample`` of 200 (50 with ``--quick``).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
import random
import shutil
import sysconfig
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType

from bench.common import DATA_DIR, REPO, Config, log

CORPUS_DIR = DATA_DIR / "corpus"
PYFAQ_PATH = Path(os.environ.get("SLEUTH_BENCH_PYFAQ", REPO.parent / "shared/bench/pyfaq.py"))
QUICK_S_MAX_BYTES = 20_000
QUICK_S_STEP = 3
QUICK_QUERIES = 50
QUICK_PASSAGES = 250
DOCSTRING_QUERIES = 200


@dataclass(frozen=True, slots=True)
class Corpus:
    name: str  # also the index name prefix, e.g. "s-quick"
    family: str  # corpora of one family share cached embeddings ("s", "pyfaq")
    root: Path
    files: tuple[str, ...]  # relative paths under root, in selection order
    raw_bytes: int
    source: str


@dataclass(frozen=True, slots=True)
class Labelled:
    """A corpus with queries and relevance judgements (documents are files)."""

    corpus: Corpus
    queries: dict[str, str]  # query id -> text
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: relevance}
    doc_of_file: dict[str, str] = field(default_factory=dict)  # file name -> doc id
    passages: dict[str, dict[str, str]] = field(default_factory=dict)  # pyfaq corpus entries


# -- corpus S ----------------------------------------------------------------------------
def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def select_s(quick: bool) -> list[Path]:
    """The sorted file selection of corpus S (absolute paths in the stdlib)."""
    lib = stdlib_dir()
    modules = sorted(p for p in lib.glob("*.py") if p.is_file() and not p.is_symlink())
    if quick:
        small = [p for p in modules if p.stat().st_size <= QUICK_S_MAX_BYTES]
        return small[::QUICK_S_STEP]
    pydoc = sorted(
        (
            p
            for p in (lib / "pydoc_data").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        ),
        key=lambda p: p.relative_to(lib).as_posix(),
    )
    return modules + pydoc


def corpus_s(config: Config) -> Corpus:
    lib = stdlib_dir()
    chosen = select_s(config.quick)
    name = "s" + config.suffix
    root = CORPUS_DIR / name
    entries = [(p.relative_to(lib).as_posix(), p) for p in chosen]
    wanted = {rel: _digest(p.read_bytes()) for rel, p in entries}
    if not _in_place(root, wanted):
        log(f"copying corpus {name}: {len(entries)} files from {lib}")
        shutil.rmtree(root, ignore_errors=True)
        for rel, src in entries:
            dst = root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    raw = sum((root / rel).stat().st_size for rel, _ in entries)
    return Corpus(name, "s", root, tuple(rel for rel, _ in entries), raw, str(lib))


def docstring_queries(corpus: Corpus, count: int) -> list[str]:
    """Reproducible natural-language queries from the corpus's docstrings (module doc)."""
    lines: list[str] = []
    seen: set[str] = set()
    for rel in corpus.files:
        if not rel.endswith(".py"):
            continue
        try:
            tree = ast.parse((corpus.root / rel).read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(
                node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
            ):
                continue
            doc = ast.get_docstring(node)
            if not doc:
                continue
            first = next((ln.strip() for ln in doc.splitlines() if ln.strip()), "")
            key = first.lower()
            if 5 <= len(first.split()) <= 25 and first[:1].isalpha() and key not in seen:
                seen.add(key)
                lines.append(first)
    return random.Random(0).sample(lines, min(count, len(lines)))


# -- corpus F (pyfaq) --------------------------------------------------------------------
@cache
def pyfaq_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pyfaq", PYFAQ_PATH)
    if spec is None or spec.loader is None or not PYFAQ_PATH.exists():
        raise SystemExit(f"pyfaq benchmark not found at {PYFAQ_PATH} (set SLEUTH_BENCH_PYFAQ)")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def corpus_pyfaq(config: Config) -> Labelled:
    pyfaq = pyfaq_module()
    src = next((s for s in pyfaq.DEFAULT_SRCS if Path(s).is_dir()), None)
    if src is None:
        raise SystemExit(
            "python3.11-doc sources not found: apt-get update && apt-get install -y python3.11-doc"
        )
    passages, queries, qrels, _n_faq = pyfaq.build(src)
    number = {did: i for i, did in enumerate(passages)}
    if config.quick:
        rng = random.Random(0)
        qids = sorted(rng.sample(sorted(queries), QUICK_QUERIES))
        queries = {q: queries[q] for q in qids}
        qrels = {q: qrels[q] for q in qids}
        relevant = sorted({d for q in qids for d in qrels[q]}, key=number.__getitem__)
        rest = sorted(set(passages) - set(relevant), key=number.__getitem__)
        extra = rng.sample(rest, max(0, QUICK_PASSAGES - len(relevant)))
        keep = sorted([*relevant, *extra], key=number.__getitem__)
        passages = {d: passages[d] for d in keep}
    name = "pyfaq" + config.suffix
    root = CORPUS_DIR / name
    texts = {
        f"p{number[did]:05d}.md": (f"# {d['title']}\n\n" if d["title"] else "") + d["text"] + "\n"
        for did, d in passages.items()
    }
    wanted = {rel: _digest(text.encode("utf-8")) for rel, text in texts.items()}
    if not _in_place(root, wanted):
        log(f"writing corpus {name}: {len(texts)} passage files")
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        for rel, text in texts.items():
            (root / rel).write_text(text, encoding="utf-8")
    doc_of_file = {f"p{number[did]:05d}.md": did for did in passages}
    (root.parent / f"{name}.files.json").write_text(
        json.dumps(doc_of_file, indent=1, sort_keys=True), encoding="utf-8"
    )
    raw = sum((root / rel).stat().st_size for rel in texts)
    corpus = Corpus(name, "pyfaq", root, tuple(texts), raw, src)
    return Labelled(corpus, dict(queries), dict(qrels), doc_of_file, dict(passages))


# -- helpers -----------------------------------------------------------------------------
def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _in_place(root: Path, wanted: dict[str, str]) -> bool:
    """Whether ``root`` holds exactly the wanted files with the wanted contents."""
    if not root.is_dir():
        return False
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    if present != set(wanted):
        return False
    return all(_digest((root / rel).read_bytes()) == digest for rel, digest in wanted.items())
