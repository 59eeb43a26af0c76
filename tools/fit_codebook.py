"""Fit the shipped codebook of a model from a sample of its embeddings (run by hand, not at run
time).  Usage: python tools/fit_codebook.py INDEX_DIR [INDEX_DIR ...] --bytes 80
        python tools/fit_codebook.py INDEX_DIR [...] --bytes 192 --storage fast --error
        python tools/fit_codebook.py INDEX_DIR [...] --bytes 48 --product --storage minimal --error

Each INDEX_DIR is a ``--storage full`` index built with the model (its catalog holds every
chunk's f16 vector). The sample should be broad and must not include a corpus the codebook is
then benchmarked on. The shipped compact codebook of the default model was fitted on 2 MB of
text from this machine: third-party Python sources (rich, typer, pypdf, pip, setuptools,
numpy, hypothesis, mypy, pygments, jinja2, watchdog, usearch) and Debian/package
documentation (README, release notes, HTML docs under /usr/share/doc), but not the stdlib
(corpus S) nor the Python docs (pyfaq), which the benchmarks use. The fast one was fitted on
that sample plus a second, disjoint one of 4 MB (the other packages in sleuth's venv, more
of numpy, more of /usr/share/doc), which is also the last index, the one that measures the
error.

The minimal one (``--product``: 48-byte product codes, ``sleuth.store.pq``) was fitted on
two more such samples, 2.2 MB (IPython, attrs, click, cryptography; git, nodejs and libxslt
documentation under /usr/share/doc) and 1.4 MB (pytest, botocore, cfn-lint; valgrind and other
/usr/share/doc pages), the second again measuring the error.

``--error`` also ships the codes' error model (``codebook.ErrorModel``), which ``fast``
storage settles its queries with. It is measured out of sample, across corpora: a codebook
fitted on every index but the last codes the last one's vectors, natural-language queries
(the first lines of its docstrings, embedded with the default model) are scored against them
by code, and over each query's 20 best by code a line is fitted from code score to exact
cosine; the error is the spread of the cosines around it. That is done for each quantiser
step scale in ``STEP_SCALES`` and the scale with the smallest spread is kept. Within one
corpus the error comes out 2-4x too small and the widest steps look useless: a user's files
are never the sample, and their coordinates run past the sample's range.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import sqlite3
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from sleuth.indexer.embedder import LlamaEmbedder
from sleuth.store import codebook, pq


def vectors_of(directory: Path) -> tuple[np.ndarray, str]:
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    if manifest["storage"] != "full":
        sys.exit(f"{directory} is not a --storage full index")
    dims = int(manifest["model"]["dims"])
    db = sqlite3.connect(f"file:{directory / 'catalog.sqlite3'}?mode=ro", uri=True)
    blobs = [bytes(r[0]) for r in db.execute("SELECT code FROM chunks ORDER BY id")]
    matrix = np.frombuffer(b"".join(blobs), np.float16).reshape(len(blobs), dims)
    return matrix.astype(np.float32), str(manifest["model"]["sha256"])


STEP_SCALES = (1.0, 1.25, 1.5, 1.75, 2.0)


def docstring_queries(directory: Path, count: int) -> list[str]:
    """First lines of docstrings of the indexed Python files: query-like sentences."""
    from sleuth.store.index import Index

    with Index.open(directory) as index:
        roots = index.catalog.roots()
    lines: list[str] = []
    for root in roots:
        for path in sorted(Path(root).rglob("*.py")):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
                    doc = ast.get_docstring(node) or ""
                    first = next((ln.strip() for ln in doc.splitlines() if ln.strip()), "")
                    if 5 <= len(first.split()) <= 25:
                        lines.append(first)
    return random.Random(0).sample(lines, min(count, len(lines)))


AnyBook = codebook.Codebook | pq.ProductCodebook


def as_stored(book: AnyBook) -> AnyBook:
    """The codebook as an index will use it: saved and loaded (its basis is kept in f16)."""
    with tempfile.TemporaryDirectory() as scratch:
        codebook.save(book, Path(scratch) / "book.npz")
        return codebook.load((Path(scratch) / "book.npz").read_bytes())


def error_model(book: AnyBook, vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    from sleuth.store.vectors import coder_for

    coder = coder_for("minimal" if isinstance(book, pq.ProductCodebook) else "compact", 384, book)
    codes = coder.encode(vectors)
    estimates, exact = [], []
    for query in queries:
        scores = coder.score(query, codes)
        best = np.argsort(-scores)[:20]
        estimates.append(scores[best])
        exact.append(vectors[best] @ query)
    x, y = np.concatenate(estimates), np.concatenate(exact)
    slope, intercept = np.polyfit(x, y, 1)
    sigma = float((y - slope * x - intercept).std())
    return np.array([slope, intercept, sigma])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("indexes", nargs="+", type=Path)
    parser.add_argument("--bytes", type=int, default=80)
    parser.add_argument(
        "--product", action="store_true", help="product codes of --bytes parts (sleuth.store.pq)"
    )
    parser.add_argument("--storage", default="compact")
    parser.add_argument("--error", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    parts = [vectors_of(d) for d in args.indexes]
    shas = {sha for _, sha in parts}
    if len(shas) != 1:
        sys.exit("the indexes were built with different models")
    sha = shas.pop()
    vectors = np.concatenate([v for v, _ in parts])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    if args.error and len(parts) < 2:
        sys.exit("--error needs two or more indexes: the last one measures the error")
    cut = len(vectors) - len(parts[-1][0])
    queries = None
    if args.error:
        queries = LlamaEmbedder().embed(docstring_queries(args.indexes[-1], 600))
    book: AnyBook
    if args.product:
        book = pq.fit(vectors, args.bytes, sha)
        if queries is not None:
            trial = as_stored(pq.fit(vectors[:cut], args.bytes, sha))
            slope, intercept, sigma = error_model(trial, vectors[cut:], queries)
            print(f"product codes: {slope:.4f} x + {intercept:+.4f}, spread {sigma:.4f}")
            book = replace(book, error=codebook.ErrorModel(slope, intercept, sigma))
        shape = f"{book.size} parts of {book.width} dimensions"
    else:
        book = codebook.fit(vectors, args.bytes, sha)
        if queries is not None:
            trials = {}
            for scale in STEP_SCALES:
                trial = as_stored(codebook.fit(vectors[:cut], args.bytes, sha, scale))
                trials[scale] = error_model(trial, vectors[cut:], queries)
                slope, intercept, sigma = trials[scale]
                print(f"step x{scale}: {slope:.4f} x + {intercept:+.4f}, spread {sigma:.4f}")
            scale = min(trials, key=lambda s: trials[s][2])
            slope, intercept, sigma = trials[scale]
            book = codebook.fit(vectors, args.bytes, sha, scale)
            book = replace(book, error=codebook.ErrorModel(slope, intercept, sigma))
            print(f"chose step x{scale}; {len(queries)} queries")
        shape = f"{len(book.bits)} axes"
    shipped = Path(__file__).resolve().parents[1] / "store" / "codebooks"
    out = args.out or shipped / codebook.file_name(sha, args.storage)
    codebook.save(book, out)
    print(f"{out}: {len(vectors)} vectors, {book.size} bytes per code, {shape}")


if __name__ == "__main__":
    main()
