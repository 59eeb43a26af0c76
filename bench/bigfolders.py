"""Section ``bigfolders`` (issue 14): what junk costs, and the footprint of many small files.

Junk: a small corpus (corpus S's ``--quick`` selection, cut to ``SMALL_CORPUS_BYTES``) is
indexed by the real CLI from scratch, alone and with a realistic junk set added to a copy
(alone, with junk, alone, with junk; the faster of each kept: the machine is shared). The
junk set is made deterministically here, each file >= 200 KB:

- ``package-lock.json``: npm lockfile v3 shape (name, version, resolved URL, sha512
  integrity, dependencies) for made-up packages, ``random.Random(14)``;
- ``dist/bundle.js``: every readable ``*.js`` under /usr/share/javascript (Debian's
  libjs-jquery and friends: ``apt-get install libjs-jquery``), sorted by path, concatenated
  until 200 KB, then minified (comments, indentation and spaces around punctuation removed,
  lines joined) and not named ``.min.js``, so its shape must give it away;
- ``dist/bundle.js.map``: a v3 source map of it (VLQ-like mappings, sources, sourcesContent);
- ``data/measurements.csv``: a numeric sensor dump, ``random.Random(14)``.

What the junk would have cost is the number of chunks sleuth makes of it (the real tokenizer
and chunker, as ``--all-text`` would index them) at the chunks/s of the corpus run.

Footprint: the one-function-per-file corpus (every top-level ``def`` of the stdlib's top-level
modules in its own file, sorted) is indexed in-process with the real tokenizer and chunker and
deterministic pseudo-random vectors in place of the model: the bytes on disk (catalog, FTS5,
1-bit codes) do not depend on the vectors' values, and a model pass over ~3,000 chunks would
take minutes here.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import random
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.common import DATA_DIR, Config, Json, emit, run_measured, sleuth_cmd, sleuth_env, table
from bench.corpora import corpus_s, stdlib_dir

KB = 1000
JUNK_BYTES = 200 * KB
SMALL_CORPUS_BYTES = 120 * KB
JS_DIR = Path("/usr/share/javascript")


# -- the junk set ----------------------------------------------------------------------------
def package_lock(rng: random.Random) -> str:
    words = ["core", "util", "parse", "stream", "color", "path", "glob", "fs", "http", "cli"]
    packages: dict[str, Json] = {"": {"name": "shop-frontend", "version": "2.3.0"}}
    n = 0
    while len(json.dumps(packages, indent=2)) < JUNK_BYTES:
        name = f"{rng.choice(words)}-{rng.choice(words)}-{n}"
        version = f"{rng.randint(0, 12)}.{rng.randint(0, 40)}.{rng.randint(0, 20)}"
        digest = hashlib.sha512(name.encode()).digest()
        packages[f"node_modules/{name}"] = {
            "version": version,
            "resolved": f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz",
            "integrity": "sha512-" + base64.b64encode(digest).decode(),
            "dev": rng.random() < 0.3,
            "dependencies": {f"{rng.choice(words)}-{rng.choice(words)}": f"^{version}"},
            "engines": {"node": ">=14"},
        }
        n += 1
    lock = {"name": "shop-frontend", "version": "2.3.0", "lockfileVersion": 3, "packages": packages}
    return json.dumps(lock, indent=2) + "\n"


def real_js() -> list[tuple[str, str]]:
    sources = []
    for path in sorted(JS_DIR.rglob("*.js")):
        if ".min." in path.name or not path.is_file():
            continue
        try:
            sources.append((path.relative_to(JS_DIR).as_posix(), path.read_text("utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
    if sum(len(t) for _, t in sources) < JUNK_BYTES:
        raise RuntimeError(
            f"need {JUNK_BYTES} bytes of JS in {JS_DIR}: apt-get install libjs-jquery"
        )
    return sources


def minify(js: str) -> str:
    js = re.sub(r"/\*.*?\*/", "", js, flags=re.S)
    js = re.sub(r"(?m)^\s*//.*$", "", js)
    js = re.sub(r"[ \t]*([{}();,=+\-*/<>!&|?:])[ \t]*", r"\1", js)
    return re.sub(r"\s*\n\s*", ";", js)


def bundle(sources: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    used: list[tuple[str, str]] = []
    text = ""
    for name, js in sources:
        used.append((name, js))
        text += minify(js) + ";"
        if len(text) >= JUNK_BYTES:
            break
    while len(text) < JUNK_BYTES:  # never reached with jquery.js installed
        text += text
    return text + "\n", used


def source_map(used: list[tuple[str, str]], rng: random.Random) -> str:
    vlq = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    mappings = []
    while sum(len(m) + 1 for m in mappings) < JUNK_BYTES:
        mappings.append(",".join("".join(rng.choices(vlq, k=rng.randint(4, 6))) for _ in range(40)))
    return json.dumps(
        {"version": 3, "file": "bundle.js", "sources": [n for n, _ in used],
         "names": [], "mappings": ";".join(mappings), "sourcesContent": [j for _, j in used]}
    )  # fmt: skip


def measurements(rng: random.Random) -> str:
    lines = ["timestamp,sensor,temperature,humidity,pressure"]
    t = 1_700_000_000
    while sum(len(x) + 1 for x in lines) < JUNK_BYTES:
        t += rng.randint(1, 60)
        lines.append(
            f"{t},{rng.randint(1, 64)},{rng.uniform(-10, 35):.3f},"
            f"{rng.uniform(10, 99):.2f},{rng.uniform(980, 1040):.1f}"
        )
    return "\n".join(lines) + "\n"


def make_junk(root: Path) -> dict[str, int]:
    rng = random.Random(14)
    text, used = bundle(real_js())
    files = {
        "package-lock.json": package_lock(rng),
        "dist/bundle.js": text,
        "dist/bundle.js.map": source_map(used, rng),
        "data/measurements.csv": measurements(rng),
    }
    sizes = {}
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        sizes[rel] = path.stat().st_size
    return sizes


# -- runs ------------------------------------------------------------------------------------
def _index_once(tree: Path, home: Path, config: Config) -> Json:
    shutil.rmtree(home, ignore_errors=True)
    done = run_measured(
        sleuth_cmd("index", str(tree), "--json", "--quiet"), sleuth_env(home, config.threads)
    )
    if done.returncode != 0:
        raise RuntimeError(f"sleuth index exited {done.returncode}: {done.stderr[-2000:]}")
    summary: Json = json.loads(done.stdout.strip().splitlines()[-1])
    summary["wall_s"] = round(done.seconds, 3)
    return summary


def _index_pair(alone: Path, mixed: Path, work: Path, config: Config) -> tuple[Json, Json]:
    """Best of 2 for each, interleaved, so that a burst of load elsewhere hits both alike."""
    best: dict[str, Json] = {}
    for _ in range(2):
        for name, tree in (("alone", alone), ("mixed", mixed)):
            summary = _index_once(tree, work / f"home-{name}", config)
            if name not in best or summary["seconds"] < best[name]["seconds"]:
                best[name] = summary
    return best["alone"], best["mixed"]


def junk_chunks(root: Path, rels: Sequence[str]) -> int:
    from sleuth.extractors.registry import extract
    from sleuth.indexer.chunking import Chunker
    from sleuth.indexer.embedder import LlamaEmbedder

    model = LlamaEmbedder()
    chunker = Chunker(model.tokenize, model.max_tokens)
    return sum(len(chunker.split(extract(root / rel), label=Path(rel).name)) for rel in rels)


def junk_section(config: Config) -> Json:
    corpus = corpus_s(Config(quick=True, threads=config.threads))
    work = DATA_DIR / "bigfolders"
    shutil.rmtree(work, ignore_errors=True)
    alone, mixed = work / "alone", work / "mixed"
    total = 0
    for rel in corpus.files:
        size = (corpus.root / rel).stat().st_size
        if total + size > SMALL_CORPUS_BYTES:
            break
        total += size
        for tree in (alone, mixed):
            (tree / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(corpus.root / rel, tree / rel)
    sizes = make_junk(mixed / "junk")
    listed = ", ".join(f"{k} {v:,}" for k, v in sizes.items())
    emit(f"\n(bigfolders: corpus {total:,} bytes; junk {listed})")
    base, with_junk = _index_pair(alone, mixed, work, config)
    would = junk_chunks(mixed / "junk", list(sizes))
    rate = base["chunks_added"] / base["seconds"]
    figures: Json = {
        "corpus_bytes": total,
        "junk_bytes": sizes,
        "alone": base,
        "with_junk": with_junk,
        "time_ratio": round(with_junk["seconds"] / base["seconds"], 4),
        "wall_ratio": round(with_junk["wall_s"] / base["wall_s"], 4),
        "junk_chunks_if_indexed": would,
        "junk_seconds_if_indexed": round(would / rate, 1),
    }
    emit(
        table(
            "Corpus alone vs corpus + junk (sleuth index from scratch, best of 2)",
            ["run", "sleuth s", "wall s", "chunks", "files", "skipped"],
            [
                [
                    "corpus alone",
                    base["seconds"],
                    base["wall_s"],
                    base["chunks_added"],
                    base["files_indexed"],
                    json.dumps(base["skipped"]),
                ],
                [
                    "corpus + junk",
                    with_junk["seconds"],
                    with_junk["wall_s"],
                    with_junk["chunks_added"],
                    with_junk["files_indexed"],
                    json.dumps(with_junk["skipped"]),
                ],
            ],
        )
    )
    emit(
        f"time ratio (junk/alone): {figures['time_ratio']:.3f} (target <= 1.05); wall "
        f"{figures['wall_ratio']:.3f}. With --all-text the junk would be {would:,} chunks, "
        f"~{figures['junk_seconds_if_indexed']:.0f} s at this run's {rate:.1f} chunks/s."
    )
    return figures


# -- one function per file -------------------------------------------------------------------
def functions_corpus(root: Path) -> tuple[int, int]:
    files = raw = 0
    for module in sorted(stdlib_dir().glob("*.py")):
        try:
            source = module.read_text("utf-8")
            tree = ast.parse(source)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                segment = ast.get_source_segment(source, node)
                if not segment:
                    continue
                path = root / f"{module.stem}__{node.name}.py"
                if path.exists():
                    continue
                path.write_text(segment + "\n", encoding="utf-8")
                files += 1
                raw += path.stat().st_size
    return files, raw


class _Vectors:
    """The real model's tokenizer and identity; pseudo-random unit vectors (bytes only)."""

    def __init__(self) -> None:
        from sleuth.indexer.embedder import LlamaEmbedder

        self.model = LlamaEmbedder()
        self.identity = self.model.identity
        self.max_tokens = self.model.max_tokens
        self.tokenize = self.model.tokenize

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.identity.dims), np.float32)
        for n, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            out[n] = np.random.default_rng(seed).standard_normal(self.identity.dims)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def footprint_section() -> Json:
    from sleuth.indexer.pipeline import run_index
    from sleuth.store.index import Index

    work = DATA_DIR / "bigfolders-functions"
    shutil.rmtree(work, ignore_errors=True)
    tree = work / "corpus"
    tree.mkdir(parents=True)
    files, raw = functions_corpus(tree)
    directory = work / "home" / "indexes" / "functions"
    summary = run_index(directory, [tree], _Vectors())  # type: ignore[arg-type]
    with Index.open(directory) as index:
        parts = index.footprint().as_dict()
    ratio = (parts["total"] - parts["cache"]) / raw
    # The catalog part depends on path length: each file row holds its absolute path and
    # root (here ~90 bytes each) until paths are stored relative to a roots table.
    emit(
        f"\none function per file (stdlib): {files:,} files, {raw:,} bytes, "
        f"{summary.chunks_added:,} chunks; footprint {ratio:.3f}x (target 0.35x; issue: 0.645x) "
        + ", ".join(f"{k} {v / raw:.3f}" for k, v in parts.items() if k not in ("total", "cache"))
    )
    return {
        "files": files,
        "bytes": raw,
        "chunks": summary.chunks_added,
        "footprint": parts,
        "ratio": round(ratio, 4),
    }


def run(config: Config) -> Json:
    return {"junk": junk_section(config), "functions": footprint_section()}
