"""Section ``scale`` (issue 15): how each cost grows from 10k to 100k to 1M chunks.

Indexes are built by the real pipeline (``run_index``: discovery, Markdown extraction,
chunking, catalog, FTS5, codebook codes, the usearch graph past ``graph_min_chunks``) over
synthetic Markdown corpora (``bench.synthetic``: Zipfian words, one chunk per section, files
in 100 top-level folders) with ``SyntheticEmbedder`` standing in for the model, whose cost is
linear and measured by ``throughput``. Data lives outside the repository, in
``$SLEUTH_BENCH_DATA/scale`` (default ``~/.cache/sleuth/bench/scale``); an index is rebuilt
when sleuth's code changes (its build figures are kept beside it).

Per size: index time outside the embedder; footprint per chunk; warm search (hybrid, default
candidates) excluding recompute and query embedding, split into ANN, catalog, lexical and
fuse, without and with a 1% path filter; lexical search for the word in closest to half the
chunks; peak RSS of a child process that opened the index and searched; the dense step alone
by flat scan and by graph walk; adding and removing 1,000 chunks through the watcher's
``Syncer``; ``sleuth status --json`` (CLI process); a watcher's start-up reconcile with
nothing changed. Sizes: ``--scale-sizes 10k,100k,1m`` (default 10k,100k; ``--quick`` 10k).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    REPO,
    Config,
    Json,
    emit,
    log,
    percentile,
    run_measured,
    sleuth_cmd,
    sleuth_env,
    table,
)
from bench.snapshot import fingerprint
from bench.synthetic import Layout, SyntheticEmbedder, generate, generate_small_files, vocabulary
from sleuth.indexer.pipeline import IndexSettings, Reporter, run_index
from sleuth.indexer.sync import Changes, Syncer
from sleuth.store.index import Index

DEFAULT_SIZES = (10_000, 100_000)
QUERIES = 30
CHANGE_FILES = 100  # x 10 sections = 1,000 chunks added, then removed
RECONCILE_FILES = 100_000
EXCLUDED = ("recompute", "embed_query")
REUSE = "SLEUTH_BENCH_SCALE_REUSE"  # the model's share: not what this section measures


def data_dir() -> Path:
    base = os.environ.get("SLEUTH_BENCH_DATA", "")
    root = Path(base) if base else Path.home() / ".cache" / "sleuth" / "bench"
    return root / "scale"


def parse_sizes(text: str) -> tuple[int, ...]:
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        if part:
            scale = {"k": 1_000, "m": 1_000_000}.get(part[-1], 1)
            sizes.append(int(float(part.rstrip("km")) * scale))
    return tuple(sizes)


def _queries(count: int) -> list[str]:
    """Three to six words of the vocabulary's middle: what a person might type."""
    words = vocabulary()
    rng = np.random.default_rng(7)
    return [
        " ".join(words[int(i)] for i in rng.integers(100, 5000, size=int(rng.integers(3, 7))))
        for _ in range(count)
    ]


def build(root: Path, home: Path, name: str) -> Json:
    """The index of ``root`` under ``home``: reused if this code built it, else rebuilt."""
    directory = home / "indexes" / name
    stamp = directory / "bench-build.json"
    if stamp.exists():
        figures: Json = json.loads(stamp.read_text(encoding="utf-8"))
        # SLEUTH_BENCH_SCALE_REUSE=1 keeps an index built by other code (same format): its
        # build figures are then those of the code named in "code".
        if figures.get("code") == fingerprint() or os.environ.get(REUSE) == "1":
            return figures
    shutil.rmtree(directory, ignore_errors=True)
    embedder = SyntheticEmbedder()
    log(f"scale: indexing {root.name} into {name}")
    cpu = time.process_time()
    summary = run_index(directory, [root], embedder, IndexSettings(storage="compact"))
    figures = {
        "outside_embedder_cpu": round(time.process_time() - cpu - embedder.seconds, 2),
        "code": fingerprint(),
        "files": summary.files_indexed,
        "chunks": summary.chunks_added,
        "seconds": round(summary.seconds, 2),
        "embed_seconds": round(summary.embed_seconds, 2),
        "outside_embedder": round(summary.seconds - summary.embed_seconds, 2),
    }
    stamp.write_text(json.dumps(figures), encoding="utf-8")
    return figures


def common_term(directory: Path) -> tuple[str, float]:
    """The vocabulary word whose chunk frequency is closest to half the chunks."""
    db = sqlite3.connect(f"file:{directory / 'catalog.sqlite3'}?mode=ro", uri=True)
    try:
        total = int(db.execute("SELECT count(*) FROM chunks").fetchone()[0])
        best = ("", 0.0)
        for word in vocabulary()[:60]:
            rows = db.execute("SELECT count(*) FROM lexical WHERE lexical MATCH ?", (word,))
            share = int(rows.fetchone()[0]) / total
            if abs(share - 0.5) < abs(best[1] - 0.5):
                best = (word, share)
    finally:
        db.close()
    return best


def probe(directory: Path, root: Path, dense_paths: bool) -> Json:
    term, share = common_term(directory)
    request = {
        "index": str(directory),
        "queries": _queries(QUERIES),
        "prefix": str(root / "d07"),
        "common_term": term,
        "dense_paths": dense_paths,
        "cpu_clock": True,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(request, handle)
    try:
        env = dict(os.environ)
        done = run_measured(
            ["nice", "-n", "10", *sleuth_cmd()[:1], "-m", "bench.scale_probe", handle.name],
            env,
            cwd=REPO,
        )
    finally:
        Path(handle.name).unlink()
    if done.returncode != 0:
        raise RuntimeError(f"scale probe failed: {done.stderr[-2000:]}")
    out: Json = json.loads(done.stdout)
    out["common_term"], out["common_share"] = term, round(share, 3)
    out["peak_rss_process"] = done.max_rss_bytes
    return out


def summarise(samples: list[dict[str, float]]) -> Json:
    """p50 of each part, and p50/p95 of their sum without the model's share."""
    parts = [p for p in samples[0] if p != "hits"]
    out: Json = {p: round(percentile([s[p] for s in samples], 50) * 1000, 2) for p in parts}
    totals = [sum(v for p, v in s.items() if p not in (*EXCLUDED, "hits", "cpu")) for s in samples]
    out["total_p50_ms"] = round(percentile(totals, 50) * 1000, 2)
    out["total_p95_ms"] = round(percentile(totals, 95) * 1000, 2)
    out["hits_min"] = min(int(s["hits"]) for s in samples)
    return out


def changes(directory: Path, root: Path) -> Json:
    """Add 1,000 chunks (100 new files) through the watcher's path, then remove them."""
    extra = root / "zz-added"
    shutil.rmtree(extra, ignore_errors=True)
    generate(extra, Layout(CHANGE_FILES * 10, seed=11))
    (extra / ".complete").unlink()
    embedder = SyntheticEmbedder()
    figures: Json = {}
    with Index.open(directory, readonly=False) as index:
        syncer = Syncer(index, [str(root)], embedder, IndexSettings(), Reporter())
        cpu = time.process_time()
        added = syncer.apply(Changes(dirs={str(extra)}))
        figures["add_cpu"] = round(time.process_time() - cpu - embedder.seconds, 3)
        figures["add_chunks"] = added.chunks_added
        figures["add_seconds"] = round(added.seconds - added.embed_seconds, 3)
        shutil.rmtree(extra)
        cpu = time.process_time()
        removed = syncer.apply(Changes(dirs={str(extra)}))
        figures["remove_cpu"] = round(time.process_time() - cpu, 3)
        figures["remove_chunks"] = removed.chunks_removed
        figures["remove_seconds"] = round(removed.seconds, 3)
        started, cpu = time.perf_counter(), time.process_time()
        unchanged = syncer.apply(Changes(full=True, reason="start"))
        figures["reconcile_cpu"] = round(time.process_time() - cpu, 3)
        figures["reconcile_files"] = unchanged.files_unchanged
        figures["reconcile_seconds"] = round(time.perf_counter() - started, 3)
        figures["reconcile_changed"] = unchanged.files_indexed + unchanged.files_removed
    return figures


def status_seconds(home: Path, name: str) -> Json:
    """Best of 3 ``sleuth status --json`` processes: wall seconds and CPU seconds."""
    wall, cpu = float("inf"), float("inf")
    for _ in range(3):
        started = time.perf_counter()
        proc = subprocess.Popen(
            sleuth_cmd("status", "--json", "--index", name),
            env=sleuth_env(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, usage.ru_utime + usage.ru_stime)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"sleuth status failed: {proc.stderr.read() if proc.stderr else ''}")
    return {"wall": round(wall, 3), "cpu": round(cpu, 3)}


def measure_size(size: int, base: Path, dense_paths: bool) -> Json:
    layout = Layout(size)
    root = base / "corpora" / layout.name
    home = base / "home"
    started = time.perf_counter()
    files, chunks = generate(root, layout)
    seconds = time.perf_counter() - started
    log(f"scale: corpus {layout.name}: {files} files, {chunks} chunks ({seconds:.0f}s)")
    built = build(root, home, layout.name)
    directory = home / "indexes" / layout.name
    with Index.open(directory) as index:
        foot = index.footprint().as_dict()
        with index.snapshot():
            stored = index.catalog.counts()[1]
    out: Json = {"files": files, "chunks": stored, "build": built}
    out["footprint"] = foot
    out["bytes_per_chunk"] = {k: round(v / stored, 1) for k, v in foot.items()}
    log(f"scale: probing {layout.name}")
    found = probe(directory, root, dense_paths)
    out["graph"] = found["graph"]
    out["hybrid"] = summarise(found["hybrid"])
    out["filtered"] = summarise(found["filtered"])
    out["filtered_overfetch"] = summarise(found["filtered_overfetch"])
    out["lexical_common"] = summarise(found["lexical_common"])
    out["lexical_common_full"] = summarise(found["lexical_common_full"])
    out["lexical_common"]["term_share"] = found["common_share"]
    out["rss"] = {
        "base": found["rss_base"],
        "peak_search": found["peak_rss_search"],
        "peak_process": found["peak_rss_process"],
    }
    if "dense_paths" in found:
        out["dense_paths_ms"] = {
            k: round(percentile(v, 50) * 1000, 2) for k, v in found["dense_paths"].items()
        }
    out["status"] = status_seconds(home, layout.name)
    log(f"scale: changes on {layout.name}")
    out["changes"] = changes(directory, root)
    return out


def reconcile_files(base: Path) -> Json:
    """A watcher's start-up reconcile over RECONCILE_FILES unchanged one-chunk files."""
    root = base / "corpora" / f"files-{RECONCILE_FILES}"
    generate_small_files(root, RECONCILE_FILES)
    home = base / "home"
    name = f"files-{RECONCILE_FILES}"
    built = build(root, home, name)
    with Index.open(home / "indexes" / name, readonly=False) as index:
        syncer = Syncer(index, [str(root)], SyntheticEmbedder(), IndexSettings(), Reporter())
        started, cpu = time.perf_counter(), time.process_time()
        summary = syncer.apply(Changes(full=True, reason="start"))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "build": built,
        "files_unchanged": summary.files_unchanged,
        "changed": summary.files_indexed + summary.files_removed,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
    }


def _row(label: str, figures: dict[int, Json], pick: Any) -> list[object]:
    values = [pick(figures[s]) for s in figures]
    first, last = values[0], values[-1]
    ratio = last / first if isinstance(first, (int, float)) and first else None
    return [label, *values, ratio]


def report(figures: dict[int, Json], files: Json) -> None:
    sizes = list(figures)
    header = ["chunks", *[f"{s:,}" for s in sizes], f"x {sizes[-1] // sizes[0]} chunks"]
    h, f, lx = "hybrid", "filtered", "lexical_common"
    of, lf = "filtered_overfetch", "lexical_common_full"
    rows = [
        _row("graph in use", figures, lambda x: "yes" if x["graph"] else "no"),
        _row("index s outside embedder", figures, lambda x: x["build"]["outside_embedder"]),
        _row("  cpu s", figures, lambda x: x["build"].get("outside_embedder_cpu")),
        _row(
            "  per 1k chunks, ms",
            figures,
            lambda x: 1e6 * x["build"]["outside_embedder"] / x["chunks"],
        ),
        _row("footprint B/chunk", figures, lambda x: x["bytes_per_chunk"]["total"]),
        _row("  catalog", figures, lambda x: x["bytes_per_chunk"]["catalog"]),
        _row("  lexical", figures, lambda x: x["bytes_per_chunk"]["lexical"]),
        _row("  vectors (codes+graph)", figures, lambda x: x["bytes_per_chunk"]["vectors"]),
        _row("search p50 ms (excl. recompute)", figures, lambda x: x[h]["total_p50_ms"]),
        _row("  p95", figures, lambda x: x[h]["total_p95_ms"]),
        _row("  cpu p50 ms (whole search)", figures, lambda x: x[h]["cpu"]),
        _row("  ann", figures, lambda x: x[h]["ann"]),
        _row("  catalog", figures, lambda x: x[h]["catalog"]),
        _row("  lexical", figures, lambda x: x[h]["lexical"]),
        _row("  fuse", figures, lambda x: x[h]["fuse"]),
        _row("1% filter p50 ms", figures, lambda x: x[f]["total_p50_ms"]),
        _row("  p95", figures, lambda x: x[f]["total_p95_ms"]),
        _row("  ann", figures, lambda x: x[f]["ann"]),
        _row("  catalog", figures, lambda x: x[f]["catalog"]),
        _row("  lexical", figures, lambda x: x[f]["lexical"]),
        _row("  fewest hits", figures, lambda x: x[f]["hits_min"]),
        _row("  cpu p50 ms", figures, lambda x: x[f]["cpu"]),
        _row("  before: over-fetch p50 ms", figures, lambda x: x[of]["total_p50_ms"]),
        _row("    cpu p50 ms", figures, lambda x: x[of]["cpu"]),
        _row("lexical, 50% term, p50 ms", figures, lambda x: x[lx]["lexical"] + x[lx]["catalog"]),
        _row("  cpu p50 ms (whole search)", figures, lambda x: x[lx]["cpu"]),
        _row("  before: all postings ms", figures, lambda x: x[lf]["lexical"] + x[lf]["catalog"]),
        _row("  term's chunk share", figures, lambda x: x[lx]["term_share"]),
        _row("peak RSS searching MiB", figures, lambda x: x["rss"]["peak_search"] / 2**20),
        _row("  of which before open", figures, lambda x: x["rss"]["base"] / 2**20),
        _row("dense step, flat ms", figures, lambda x: x.get("dense_paths_ms", {}).get("flat")),
        _row("dense step, graph ms", figures, lambda x: x.get("dense_paths_ms", {}).get("graph")),
        _row("add 1,000 chunks s (excl. embed)", figures, lambda x: x["changes"]["add_seconds"]),
        _row("  cpu s", figures, lambda x: x["changes"]["add_cpu"]),
        _row("remove 1,000 chunks s", figures, lambda x: x["changes"]["remove_seconds"]),
        _row("  cpu s", figures, lambda x: x["changes"]["remove_cpu"]),
        _row("status s (CLI process)", figures, lambda x: x["status"]["wall"]),
        _row("  cpu s", figures, lambda x: x["status"]["cpu"]),
        _row("reconcile s, unchanged", figures, lambda x: x["changes"]["reconcile_seconds"]),
        _row("  cpu s", figures, lambda x: x["changes"]["reconcile_cpu"]),
        _row("  files", figures, lambda x: x["changes"]["reconcile_files"]),
    ]
    emit(
        table(
            "Scale: synthetic Zipfian corpora, real pipeline, synthetic embedder "
            "(search parts in process CPU ms; 'cpu' rows: CPU time where the row is wall time)",
            header,
            rows,
        )
    )
    if files:
        emit(
            f"watch start-up reconcile, {files['files_unchanged']:,} unchanged one-chunk files: "
            f"{files['seconds']:.2f} s, cpu {files['cpu_seconds']:.2f} s "
            f"({files['changed']} changed)"
        )
    emit(
        "(targets at 1M: search <= 100 ms p50, <= 250 ms with a 1% filter; lexical <= 100 ms;"
        " peak RSS <= 1 GiB; add/remove 1,000 chunks <= 2 s; footprint/chunk within 10% of 10k;"
        " reconcile 100k files <= 10 s)"
    )


def run(config: Config) -> Json:
    sizes = config.scale_sizes or ((10_000,) if config.quick else DEFAULT_SIZES)
    base = data_dir()
    base.mkdir(parents=True, exist_ok=True)
    log(f"scale: sizes {', '.join(f'{s:,}' for s in sizes)} under {base}")
    figures = {size: measure_size(size, base, dense_paths=True) for size in sizes}
    files: Json = {}
    if not config.quick:
        files = reconcile_files(base)
    report(figures, files)
    return {"sizes": {str(s): v for s, v in figures.items()}, "reconcile_100k_files": files}
