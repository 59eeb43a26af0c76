"""Command line of ``bench/run.py``: choose sections, run them in order, save the figures."""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
import traceback
from collections.abc import Callable
from typing import cast

from bench.common import RESULTS_DIR, Config, Json, emit, git_revision, loadavg, log, write_results
from bench.embeddings import save_all
from bench.snapshot import fingerprint

# Section name -> module with ``run(config: Config) -> Json`` (prints its own tables).
SECTIONS: dict[str, str] = {
    "throughput": "bench.embed_throughput",
    "indexing": "bench.indexing",
    "bigfolders": "bench.bigfolders",
    "firstindex": "bench.firstindex",
    "latency": "bench.latency",
    "serve": "bench.serve",
    "footprint": "bench.footprint",
    "recall": "bench.recall",
    "quality": "bench.quality",
    "frontier": "bench.frontier",
    "pdf_engines": "bench.pdf_engines",
    "derived": "bench.derived",
    "calibration": "bench.calibrate",
    "scale": "bench.scale",
    "graph": "bench.graph",
}
# Timing sections come first, while the machine is as quiet as this run makes it.


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="subsample: a few minutes in all")
    parser.add_argument(
        "--only", default="", help=f"comma-separated sections ({', '.join(SECTIONS)})"
    )
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="only build the cached corpora, indexes and exact embeddings",
    )
    parser.add_argument(
        "--family",
        default="",
        help="only this corpus family (s or pyfaq): for --prepare, footprint and recall",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="model threads for cache builds (default: all)"
    )
    parser.add_argument(
        "--scale-sizes",
        default="",
        help="chunks per index of the scale section, e.g. 10k,100k,1m (default 10k,100k)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    families = (args.family,) if args.family else ("s", "pyfaq")
    if any(f not in ("s", "pyfaq") for f in families):
        print(f"unknown corpus family: {args.family}", file=sys.stderr)
        return 2
    from bench.scale import parse_sizes

    config = Config(
        quick=args.quick,
        threads=args.threads,
        families=families,
        scale_sizes=parse_sizes(args.scale_sizes),
    )
    if args.prepare:
        from bench.prepare import prepare

        for family in families:
            prepare(config, family)
        return 0
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    meta: Json = {
        "git": git_revision(),
        "sleuth_code": fingerprint(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "quick": config.quick,
        "argv": argv,
    }
    emit(f"sleuth benchmarks ({'quick' if config.quick else 'full'} run, git {meta['git']})")
    results: dict[str, Json] = {}
    failed = 0
    for name in chosen:
        log(f"section {name} (load {loadavg()})")
        module = importlib.import_module(SECTIONS[name])
        run = cast(Callable[[Config], Json], module.run)
        started = time.perf_counter()
        load_before = loadavg()
        try:
            figures = run(config)
        except Exception:  # one broken section must not lose the others' figures
            traceback.print_exc()
            failed += 1
            figures = {"error": traceback.format_exc(limit=3)}
        finally:
            save_all()
        results[name] = {
            "quick": config.quick,
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "seconds": round(time.perf_counter() - started, 1),
            "loadavg_before": load_before,
            "loadavg_after": loadavg(),
            **figures,
        }
        write_results(RESULTS_DIR / "latest.json", {name: results[name]}, meta)
        log(f"section {name} done in {results[name]['seconds']}s")
    emit(f"\nfigures written to {RESULTS_DIR / 'latest.json'}")
    return 1 if failed else 0
