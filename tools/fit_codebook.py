"""Fit the shipped codebook of a model from a sample of its embeddings (run by hand, not at run
time).  Usage: python tools/fit_codebook.py INDEX_DIR [INDEX_DIR ...] --bytes 80

Each INDEX_DIR is a ``--storage full`` index built with the model (its catalog holds every
chunk's f16 vector). The sample should be broad and must not include a corpus the codebook is
then benchmarked on. The shipped codebook of the default model was fitted on 2 MB of text
from this machine: third-party Python sources (rich, typer, pypdf, pip, setuptools, numpy,
hypothesis, mypy, pygments, jinja2, watchdog, usearch) and Debian/package documentation
(README, release notes, HTML docs under /usr/share/doc), but not the stdlib (corpus S) nor
the Python docs (pyfaq), which the benchmarks use.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

import numpy as np

from sleuth.store import codebook


def vectors_of(directory: Path) -> tuple[np.ndarray, str]:
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    if manifest["storage"] != "full":
        sys.exit(f"{directory} is not a --storage full index")
    dims = int(manifest["model"]["dims"])
    db = sqlite3.connect(f"file:{directory / 'catalog.sqlite3'}?mode=ro", uri=True)
    blobs = [bytes(r[0]) for r in db.execute("SELECT code FROM chunks ORDER BY id")]
    matrix = np.frombuffer(b"".join(blobs), np.float16).reshape(len(blobs), dims)
    return matrix.astype(np.float32), str(manifest["model"]["sha256"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("indexes", nargs="+", type=Path)
    parser.add_argument("--bytes", type=int, default=80)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    parts = [vectors_of(d) for d in args.indexes]
    shas = {sha for _, sha in parts}
    if len(shas) != 1:
        sys.exit("the indexes were built with different models")
    sha = shas.pop()
    vectors = np.concatenate([v for v, _ in parts])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    book = codebook.fit(vectors, args.bytes, sha)
    shipped = Path(__file__).resolve().parents[1] / "store" / "codebooks"
    out = args.out or shipped / f"{sha[:16]}.npz"
    codebook.save(book, out)
    print(f"{out}: {len(vectors)} vectors, {book.size} bytes per code, {len(book.bits)} axes")


if __name__ == "__main__":
    main()
