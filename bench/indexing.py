"""Section ``indexing`` (issue 3): throughput, time outside the embedder, peak RSS, re-index.

Every run starts from scratch: corpus S is copied (with mtimes) to ``_data/indexing/corpus``
and indexed by the real CLI, ``python -m sleuth.cli index … --json --quiet``, in its own
``SLEUTH_HOME``. Peak RSS is that subprocess's own ``ru_maxrss`` (``os.wait4``). Then, on the
same index: a re-run with nothing changed, a re-run after only touching one file (new mtime,
same bytes), and a re-run after editing that file (one line appended). The edited file is
the median-sized ``*.py`` file of the corpus.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from bench.common import (
    DATA_DIR,
    Config,
    Finished,
    Json,
    emit,
    run_measured,
    sleuth_cmd,
    sleuth_env,
    table,
)
from bench.corpora import corpus_s
from bench.snapshot import fingerprint

MB = 1_000_000
STAMP = "stamp.json"  # which corpus and code built the index left in _data/indexing
MIB = 1 << 20


def _summary(done: Finished, what: str) -> Json:
    if done.returncode != 0:
        raise RuntimeError(f"sleuth index ({what}) exited {done.returncode}: {done.stderr[-2000:]}")
    summary: Json = json.loads(done.stdout.strip().splitlines()[-1])
    return summary


def _step(done: Finished, what: str) -> Json:
    s = _summary(done, what)
    return {
        "wall_s": round(done.seconds, 3),
        "seconds": s["seconds"],
        "embed_seconds": s["embed_seconds"],
        "files_indexed": s["files_indexed"],
        "files_unchanged": s["files_unchanged"],
        "chunks_added": s["chunks_added"],
        "chunks_removed": s["chunks_removed"],
        "peak_rss_mib": round(done.max_rss_bytes / MIB, 1),
    }


def run(config: Config) -> Json:
    corpus = corpus_s(config)
    work = DATA_DIR / "indexing"
    shutil.rmtree(work, ignore_errors=True)
    tree = work / "corpus"
    shutil.copytree(corpus.root, tree, copy_function=shutil.copy2)
    env = sleuth_env(work / "home", config.threads)
    index_cmd = sleuth_cmd("index", str(tree), "--index", "s", "--json", "--quiet")

    emit(f"\n(indexing {corpus.name}: {len(corpus.files)} files, {corpus.raw_bytes:,} bytes)")
    first = run_measured(index_cmd, env)
    s = _summary(first, "first run")
    seconds, embed = float(s["seconds"]), float(s["embed_seconds"])
    chunks, raw = int(s["chunks_added"]), int(s["bytes_indexed"])
    figures: Json = {
        "corpus": corpus.name,
        "files": int(s["files_indexed"]),
        "bytes": raw,
        "chunks": chunks,
        "threads": config.threads or "default",
        "first": _step(first, "first run"),
        "mb_per_s": round(raw / MB / seconds, 4),
        "chunks_per_s": round(chunks / seconds, 2),
        "mb_per_s_wall": round(raw / MB / first.seconds, 4),
        "chunks_per_s_wall": round(chunks / first.seconds, 2),
        "outside_embedder_share": round((seconds - embed) / seconds, 4),
        "outside_embedder_share_wall": round((first.seconds - embed) / first.seconds, 4),
        "process_overhead_s": round(first.seconds - seconds, 3),
        "peak_rss_mib": round(first.max_rss_bytes / MIB, 1),
        "skipped": s.get("skipped", {}),
    }
    _print_first(figures, first)

    # Re-runs on the same index. A failure is recorded, and the figures above are kept.
    py_files = sorted(
        (rel for rel in corpus.files if rel.endswith(".py")),
        key=lambda rel: ((tree / rel).stat().st_size, rel),
    )
    victim = tree / py_files[len(py_files) // 2]
    figures["edited_file"] = victim.name
    figures["edited_file_bytes_before"] = victim.stat().st_size

    def touch() -> None:
        stat = victim.stat()
        os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    def edit() -> None:
        with victim.open("a", encoding="utf-8") as handle:
            handle.write(f"\n# edited by the sleuth benchmark at {time.time():.0f}\n")

    rows = [_row("first run", figures["first"])]
    for label, key, change in (
        ("re-run, nothing changed", "noop", None),
        (f"re-run, {victim.name} touched", "touch", touch),
        (f"re-run, {victim.name} edited", "edit", edit),
    ):
        if change is not None:
            change()
        try:
            figures[key] = _step(run_measured(index_cmd, env), label)
            rows.append(_row(label, figures[key]))
        except RuntimeError as exc:
            figures[key] = {"error": str(exc)}
            rows.append([f"{label}: FAILED, see JSON", None, None, None, None, None, None])
    status = run_measured(sleuth_cmd("status", "--index", "s", "--json", "--check"), env)
    figures["status_check_exit"] = status.returncode
    if status.returncode == 0:
        info = json.loads(status.stdout)
        figures["status_footprint"] = info.get("footprint")
        figures["status_problems"] = info.get("problems")
    else:
        figures["status_error"] = status.stderr[-2000:]
    emit(
        table(
            "Re-indexing (process wall s includes start-up and model load)",
            ["run", "wall s", "sleuth s", "embed s", "files", "chunks", "RSS MiB"],
            rows,
        )
    )
    emit(f"(status --check exit code: {status.returncode})")
    (work / STAMP).write_text(
        json.dumps({"corpus": corpus.name, "code": fingerprint()}), encoding="utf-8"
    )
    return figures


def built_by_indexing(corpus_name: str) -> Path | None:
    """The index this section left behind, if it holds ``corpus_name`` and the pinned code."""
    work = DATA_DIR / "indexing"
    try:
        stamp = json.loads((work / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if stamp != {"corpus": corpus_name, "code": fingerprint()}:
        return None
    return work / "home" / "indexes" / "s"


def _row(label: str, step: Json) -> list[object]:
    return [
        label,
        step["wall_s"],
        step["seconds"],
        step["embed_seconds"],
        step["files_indexed"],
        step["chunks_added"],
        step["peak_rss_mib"],
    ]


def _print_first(figures: Json, first: Finished) -> None:
    seconds = figures["first"]["seconds"]
    emit(
        table(
            f"Indexing corpus {figures['corpus']} with the CLI ({figures['threads']} threads)",
            ["figure", "value"],
            [
                ["files / chunks", f"{figures['files']:,} / {figures['chunks']:,}"],
                ["raw MB (1e6 bytes)", figures["bytes"] / MB],
                [
                    "sleuth seconds (summary) / process wall s",
                    f"{seconds:.1f} / {first.seconds:.1f}",
                ],
                ["embedder seconds", figures["first"]["embed_seconds"]],
                [
                    "MB/s (summary / wall)",
                    f"{figures['mb_per_s']:.4f} / {figures['mb_per_s_wall']:.4f}",
                ],
                [
                    "chunks/s (summary / wall)",
                    f"{figures['chunks_per_s']:.2f} / {figures['chunks_per_s_wall']:.2f}",
                ],
                [
                    "share outside embedder (summary / wall)",
                    f"{figures['outside_embedder_share']:.1%} / "
                    f"{figures['outside_embedder_share_wall']:.1%}",
                ],
                ["peak RSS MiB (sleuth index process)", figures["peak_rss_mib"]],
            ],
        )
    )
