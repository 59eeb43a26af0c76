"""Shared plumbing: where data lives, run configuration, statistics, tables, results JSON."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "_data"  # git-ignored: corpora copies, indexes, cached embeddings
RESULTS_DIR = BENCH_DIR / "_results"  # git-ignored: latest.json and logs
HOME_DIR = DATA_DIR / "home"  # SLEUTH_HOME of the cached benchmark indexes

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Config:
    """One benchmark run: ``quick`` subsamples every corpus and query set."""

    quick: bool = False
    threads: int | None = None  # None: sleuth's default (SLEUTH_THREADS or all cores)
    families: tuple[str, ...] = ("s", "pyfaq")  # corpora of footprint and recall
    scale_sizes: tuple[int, ...] = ()  # chunks per index of ``scale`` (empty: its default)

    @property
    def suffix(self) -> str:
        return "-quick" if self.quick else ""


def log(message: str) -> None:
    """Progress notes go to stderr so stdout holds only the tables."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def loadavg() -> list[float]:
    """The 1/5/15-minute load average: the machine is shared, so say how busy it was."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method) of a non-empty sequence."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def p50_p95(values: Sequence[float]) -> Json:
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 4),
        "p95": round(percentile(values, 95), 4),
        "mean": round(sum(values) / len(values), 4) if values else float("nan"),
    }


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain fixed-width table: first column left-aligned, the rest right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in header]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))

    def line(values: Sequence[str]) -> str:
        parts = [v.ljust(widths[i]) if i == 0 else v.rjust(widths[i]) for i, v in enumerate(values)]
        return "  ".join(parts).rstrip()

    out = [f"\n== {title}", line(header), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in cells]
    return "\n".join(out)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def emit(text: str) -> None:
    print(text, flush=True)


def sleuth_env(home: Path, threads: int | None = None) -> dict[str, str]:
    """Environment for a ``python -m sleuth.cli`` subprocess working on indexes under ``home``."""
    env = dict(os.environ)
    env["SLEUTH_HOME"] = str(home)
    env.pop("SLEUTH_INDEX", None)
    env.pop("SLEUTH_MODEL", None)
    env["NO_COLOR"] = "1"
    # An installed sleuth has bytecode; this sandbox sets PYTHONDONTWRITEBYTECODE, which would
    # make every CLI process recompile sleuth's sources. Cache bytecode inside bench/_data.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(DATA_DIR / "pycache")
    if threads:
        env["SLEUTH_THREADS"] = str(threads)
    return env


def sleuth_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "sleuth.cli", *args]


@dataclass(frozen=True, slots=True)
class Finished:
    """A subprocess run: wall seconds from spawn to reaped exit, and its peak RSS."""

    returncode: int
    seconds: float
    max_rss_bytes: int
    stdout: str
    stderr: str


def run_measured(cmd: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> Finished:
    """Run ``cmd`` to completion; ``os.wait4`` gives this child's own peak RSS.

    ``getrusage(RUSAGE_CHILDREN)`` would report the maximum over *every* child reaped so far,
    so earlier subprocesses could mask this one; ``wait4`` reports just this child (and any
    grandchildren it reaped). Output goes to temporary files so a full pipe cannot stall it.
    """
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        # Linux reports ru_maxrss in KiB.
        return Finished(proc.returncode, seconds, usage.ru_maxrss * 1024, out.read(), err.read())


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as t: ...`` then ``t[0]`` holds the elapsed seconds."""
    box = [0.0]
    started = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - started


def git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "unknown"
    rev = out.stdout.strip() or "unknown"
    return rev + ("+dirty" if dirty.stdout.strip() else "")


def write_results(path: Path, sections: dict[str, Json], meta: Json) -> None:
    """Merge this run's sections into ``path`` (other sections keep their earlier figures)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing: Json = {}
    if path.exists():
        with contextlib.suppress(ValueError, OSError):
            existing = json.loads(path.read_text(encoding="utf-8"))
    merged: Json = {"meta": meta, "sections": dict(existing.get("sections", {}))}
    merged["sections"].update(sections)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
