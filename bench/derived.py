"""Section ``derived`` (issue 10): PDFs and other derived formats, next to corpus S.

For corpus PDF and corpus mixed (bench.derived_corpora), with the real model:

- ``sleuth index ROOT --index NAME --json`` (the CLI; incremental, so only the first run
  embeds: its wall time is reported with the number of files it indexed);
- the footprint by part, the stored text (``text``) as its own part, against the raw bytes;
- ``sleuth search QUERY --json`` wall time, cold (recompute cache deleted) and warm (same
  query again), p50/p95, as in bench.latency; the same for corpus S with as many queries;
- the in-process split by ``SearchResult.timings`` (bench.latency.in_process), with the mean
  number of chunks re-embedded: the cold cost per recomputed chunk is what compares a PDF
  corpus with plain text fairly.

Queries are fixed, natural-language questions answered by the corpora (listed below), 6 per
corpus (3 with ``--quick``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench.cachesize import cache_bytes_at_bound
from bench.common import (
    HOME_DIR,
    Config,
    Json,
    emit,
    log,
    p50_p95,
    run_measured,
    sleuth_cmd,
    sleuth_env,
    table,
)
from bench.corpora import Corpus, docstring_queries
from bench.derived_corpora import corpus_mixed, corpus_pdf
from bench.embeddings import RecordingEmbedder
from bench.indexes import BUILD_STAMP, ensure_index, exact_vectors
from bench.latency import cli_search, drop_cache, in_process
from bench.latency import indexes as s_indexes
from bench.snapshot import fingerprint as code_fingerprint
from sleuth.store.index import Index
from sleuth.store.manifest import StorageMode

#: Storage modes whose footprint is reported for corpus PDF (the timed index is the default).
MODES: tuple[StorageMode, ...] = ("fast", "compact", "minimal", "full")

QUERIES = {
    "pdf": [
        "Why does a test of equality between two decimal results return FALSE",
        "what is the difference between the stable, testing and unstable distributions",
        "how to register native routines in a package's shared object",
        "install a package from source into a private library",
        "lazy evaluation of function arguments and promises",
        "how to read a CSV file into a data frame",
    ],
    "mixed": [
        "how do I sort a list of dictionaries by a key",
        "exception handling with try except finally",
        "what does the ipaddress module do with networks",
        "what changed in Python 3.3 about namespace packages",
        "list comprehensions with nested loops",
        "import data from a spreadsheet into R",
    ],
}


def build(corpus: Corpus, env: dict[str, str]) -> tuple[Path, Json]:
    directory = HOME_DIR / "indexes" / corpus.name
    stamp = directory / BUILD_STAMP
    status = run_measured(sleuth_cmd("status", "--index", corpus.name), env)
    if directory.exists() and status.returncode != 0:
        log(f"derived: index {corpus.name} unusable ({status.stderr.strip()}); rebuilding")
        shutil.rmtree(directory)
    elif directory.exists() and (
        not stamp.exists() or stamp.read_text(encoding="utf-8") != code_fingerprint()
    ):
        # Extraction and storage change with the code, and unchanged files are not re-read.
        log(f"derived: index {corpus.name} built by other sleuth code; rebuilding")
        shutil.rmtree(directory)
    log(f"derived: sleuth index {corpus.root} --index {corpus.name}")
    done = run_measured(
        sleuth_cmd("index", str(corpus.root), "--index", corpus.name, "--json"), env
    )
    if done.returncode != 0:
        raise RuntimeError(f"sleuth index failed: {done.stderr[-2000:]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    stamp.write_text(code_fingerprint(), encoding="utf-8")
    return directory, {
        "seconds": round(done.seconds, 2),
        "max_rss_bytes": done.max_rss_bytes,
        "files_indexed": summary["files_indexed"],
        "chunks_added": summary["chunks_added"],
        "embed_seconds": summary["embed_seconds"],
        "pdf_engine_crashes": summary.get("pdf_engine_crashes"),
    }


def footprint(directory: Path, raw: int) -> Json:
    with Index.open(directory) as index:
        files, chunks = index.catalog.counts()
        parts = index.footprint().as_dict()
    return {
        "files": files,
        "chunks": chunks,
        "raw_bytes": raw,
        "parts": parts,
        "ratio": round(parts["total"] / raw, 4),
        "ratio_without_cache": round((parts["total"] - parts["cache"]) / raw, 4),
        "text_ratio": round(parts["text"] / raw, 4),
    }


def modes(corpus: Corpus, config: Config) -> Json:
    """Footprint of ``corpus`` in each storage mode, the recompute cache filled to its bound.

    Built in process from the benchmark's embedding store (the CLI-built index above paid for
    the embeddings), so each mode costs seconds, not a re-embedding.
    """
    embedder = RecordingEmbedder(corpus.family, threads=config.threads)
    out: Json = {}
    vectors = None  # every mode holds the same chunks: their vectors are read once
    for storage in MODES:
        directory = ensure_index(corpus, storage, embedder)
        entry = footprint(directory, corpus.raw_bytes)
        cache = 0
        if storage != "full":
            if vectors is None:
                vectors = exact_vectors(directory, embedder).vectors
            cache = cache_bytes_at_bound(384, vectors, storage)
        total = entry["parts"]["total"] - entry["parts"]["cache"] + cache
        out[storage] = {
            **entry,
            "cache_at_bound_bytes": cache,
            "ratio_with_cache_at_bound": round(total / corpus.raw_bytes, 4),
        }
    return out


def latency(config: Config, env: dict[str, str], directory: Path, queries: list[str]) -> Json:
    cold, warm = [], []
    for query in queries:
        drop_cache(directory)
        cold.append(cli_search(env, directory.name, query)[0])
        warm.append(cli_search(env, directory.name, query)[0])
    return {
        "cli_cold": p50_p95(cold),
        "cli_warm": p50_p95(warm),
        "in_process": in_process(config, directory, queries),
    }


def run(config: Config) -> Json:
    count = 3 if config.quick else 6
    env = sleuth_env(HOME_DIR, config.threads)
    out: Json = {}
    for corpus in (corpus_pdf(), corpus_mixed()):
        directory, indexing = build(corpus, env)
        queries = QUERIES[corpus.name][:count]
        log(f"derived: {corpus.name}: {len(queries)} queries")
        out[corpus.name] = {
            "indexing": indexing,
            "footprint": footprint(directory, corpus.raw_bytes),
            "queries": queries,
            **latency(config, env, directory, queries),
        }
    out["pdf"]["modes"] = modes(corpus_pdf(), config)
    s_corpus, s_compact, _full = s_indexes(config)
    s_queries = docstring_queries(s_corpus, count)
    log(f"derived: corpus S ({s_compact.name}): {len(s_queries)} queries")
    out["s"] = {
        "footprint": footprint(s_compact, s_corpus.raw_bytes),
        "queries": s_queries,
        **latency(config, env, s_compact, s_queries),
    }
    _print(out)
    return out


def _print(out: Json) -> None:
    names = list(out)
    rows: list[list[object]] = []
    for part in ("catalog", "lexical", "text", "vectors", "cache", "other", "total"):
        rows.append(
            [
                part,
                *(
                    out[n]["footprint"]["parts"][part] / out[n]["footprint"]["raw_bytes"]
                    for n in names
                ),
            ]
        )
    rows.append(["raw MB", *(out[n]["footprint"]["raw_bytes"] / 1e6 for n in names)])
    rows.append(["chunks", *(out[n]["footprint"]["chunks"] for n in names)])
    emit(table("Footprint by part, bytes per raw byte", ["part", *names], rows))
    emit("(target: corpus PDF total <= 0.25x of the PDF bytes, stored text included)")
    if "modes" in out.get("pdf", {}):
        by_mode = out["pdf"]["modes"]
        parts = ("catalog", "lexical", "text", "vectors")
        emit(
            table(
                "Corpus PDF by storage mode, bytes per PDF byte (cache filled to its bound)",
                ["mode", *parts, "cache", "total"],
                [
                    [
                        mode,
                        *(f["parts"][p] / f["raw_bytes"] for p in parts),
                        f["cache_at_bound_bytes"] / f["raw_bytes"],
                        f["ratio_with_cache_at_bound"],
                    ]
                    for mode, f in by_mode.items()
                ],
            )
        )
    rows = []
    for label, key in (("CLI cold", "cli_cold"), ("CLI warm", "cli_warm")):
        for stat in ("p50", "p95"):
            rows.append([f"{label} {stat} ms", *(out[n][key][stat] * 1000 for n in names)])
    for state in ("cold", "warm"):
        for part in ("embed_query", "ann", "recompute", "lexical", "fuse", "total"):
            rows.append(
                [
                    f"in-process {state} {part} p50 ms",
                    *(out[n]["in_process"][state][part]["p50"] * 1000 for n in names),
                ]
            )
        rows.append(
            [
                f"in-process {state} re-embedded (mean)",
                *(out[n]["in_process"][state]["recomputed_mean"] for n in names),
            ]
        )
    rows.append(
        [
            "cold recompute ms per re-embedded chunk",
            *(
                out[n]["in_process"]["cold"]["recompute"]["mean"]
                * 1000
                / max(1.0, out[n]["in_process"]["cold"]["recomputed_mean"])
                for n in names
            ),
        ]
    )
    emit(table("sleuth search latency (hybrid, default C)", ["what", *names], rows))
    emit("(target: corpus PDF warm CLI p50 <= 500 ms; cold no worse than S per recomputed chunk)")
    for n in names:
        if "indexing" in out[n]:
            i = out[n]["indexing"]
            emit(
                f"{n}: sleuth index {i['seconds']} s ({i['files_indexed']} files indexed this run, "
                f"{i['chunks_added']} chunks, embed {i['embed_seconds']} s, "
                f"PDF engine crashes {i['pdf_engine_crashes']})"
            )
