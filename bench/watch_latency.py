"""``sleuth watch`` figures: save-to-searchable latency, idle CPU on a large tree.

    .venv/bin/python bench/watch_latency.py latency [--edits 20] [--debounce 0.5]
    .venv/bin/python bench/watch_latency.py idle [--files 10000] [--seconds 60]

``latency`` runs the real CLI (``sleuth watch --json``, real model, real observer) over a
folder of one-page notes and edits them one at a time. The clock starts when the edited file
is closed and stops when the catalog (what every new search reads) holds the new content's
hash. A confirming ``sleuth search`` for the last edit is run at the end.

``idle`` builds a tree of small files, runs the watcher in-process with a deterministic fake
embedder (the model plays no part once the start reconcile is done), and measures the process
CPU time over an idle minute; then the cost of a one-file batch on that index. Indexing 10,000
files with the real model would take a quarter of an hour here, and changes nothing idle.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

WORDS = [
    "river",
    "garden",
    "ledger",
    "violin",
    "harbour",
    "meadow",
    "copper",
    "lantern",
    "orchard",
    "quarry",
    "thistle",
    "pepper",
    "window",
    "compass",
    "saddle",
    "marble",
    "kettle",
    "beacon",
    "walnut",
    "timber",
    "velvet",
    "canyon",
    "granite",
    "feather",
    "bramble",
    "anchor",
    "ember",
    "cobalt",
    "willow",
    "pebble",
]


def page(rng: random.Random, marker: str) -> str:
    """About one printed page: 40 lines of ~70 characters, with a unique marker word."""
    lines = [f"# Note {marker}", ""]
    for _ in range(40):
        lines.append(" ".join(rng.choice(WORDS) for _ in range(10)))
    lines.insert(5, f"The keyword for this version is {marker}.")
    return "\n".join(lines) + "\n"


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


# --- latency ----------------------------------------------------------------------------------


def latency(edits: int, debounce: float) -> None:
    from sleuth.store.index import Index
    from sleuth.store.paths import indexes_dir

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SLEUTH_HOME"] = str(Path(tmp) / "home")
        root = Path(tmp) / "notes"
        root.mkdir()
        for i in range(edits):
            (root / f"note{i:02}.md").write_text(page(rng, f"start{i}"))
        cmd = [sys.executable, "-m", "sleuth.cli", "watch", str(root), "--json"]
        proc = subprocess.Popen(
            [*cmd, "--debounce", str(debounce)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        events: queue.Queue[dict[str, Any]] = queue.Queue()
        assert proc.stdout is not None
        stream = proc.stdout
        threading.Thread(
            target=lambda: [events.put(json.loads(line)) for line in stream], daemon=True
        ).start()
        while (event := events.get(timeout=300))["event"] != "watching":
            if event["event"] == "reconcile":
                print(
                    f"start reconcile: {event['files_indexed']} files, "
                    f"{event['chunks_added']} chunks in {event['seconds']:.1f}s"
                )
        directory = indexes_dir() / "default"
        index = Index.open(directory)
        took: list[float] = []
        batch_seconds: list[float] = []
        chunks: list[int] = []
        try:
            for i in range(edits):
                path = root / f"note{i:02}.md"
                data = page(rng, f"edit{i}").encode()
                want = hashlib.sha256(data).hexdigest()
                with path.open("wb") as handle:
                    handle.write(data)
                t0 = time.perf_counter()
                while True:
                    record = index.catalog.file(str(path))
                    if record is not None and record.sha256 == want:
                        break
                    if time.perf_counter() - t0 > 120:
                        raise SystemExit(f"edit {i} not indexed within 120 s")
                    time.sleep(0.005)
                took.append(time.perf_counter() - t0)
                while True:
                    event = events.get(timeout=60)
                    if event["event"] == "batch":
                        batch_seconds.append(event["seconds"])
                        chunks.append(event["chunks_added"])
                        break
                time.sleep(0.5)
            found = subprocess.run(
                [sys.executable, "-m", "sleuth.cli", "search", f"edit{edits - 1}", "-l"],
                capture_output=True,
                text=True,
                check=False,
            )
            confirmed = found.stdout.splitlines()[:1] == [str(root / f"note{edits - 1:02}.md")]
        finally:
            index.close()
            proc.terminate()
            proc.wait(60)
        print(
            f"{edits} one-page edits ({statistics.mean(chunks):.1f} chunks each, "
            f"debounce {debounce}s): save → searchable median {statistics.median(took):.2f}s, "
            f"p95 {percentile(took, 95):.2f}s, max {max(took):.2f}s; "
            f"batch work (extract+embed+commit) median {statistics.median(batch_seconds):.2f}s; "
            f"confirming search found the last edit: {confirmed}"
        )


# --- idle CPU ---------------------------------------------------------------------------------


class HashEmbedder:
    """Deterministic bag-of-words vectors: no model, for measuring everything but the model."""

    dims = 384

    def __init__(self) -> None:
        from sleuth.store.manifest import ModelIdentity

        self._identity = ModelIdentity("bench-fake", "f" * 64, self.dims, "mean")

    @property
    def identity(self) -> Any:
        return self._identity

    @property
    def max_tokens(self) -> int:
        return 256

    def tokenize(self, text: str) -> list[int]:
        return [101, *(hash(w) % 30000 for w in text.split()), 102]

    def embed(self, texts: Sequence[str]) -> Any:
        out = np.zeros((len(texts), self.dims), np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "big") % self.dims] += 1.0
            out[row, 0] += 0.01
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def idle(files: int, seconds: float) -> None:
    from sleuth.indexer.watcher import Watcher, WatchEvent

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "tree"
        per_dir = 20
        for i in range(files):
            folder = root / f"d{i // (per_dir * 25):03}" / f"s{(i // per_dir) % 25:02}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"f{i:05}.txt").write_text(f"note {i} about {WORDS[i % len(WORDS)]}\n")
        dirs = sum(1 for p in root.rglob("*") if p.is_dir()) + 1
        stop = threading.Event()
        ready = threading.Event()
        events: queue.Queue[WatchEvent] = queue.Queue()
        watcher = Watcher(
            Path(tmp) / "index",
            [root],
            HashEmbedder(),
            on_event=events.put,
            on_ready=ready.set,
            stop=stop,
        )
        thread = threading.Thread(target=watcher.run)
        t0 = time.perf_counter()
        thread.start()
        if not ready.wait(1800):
            raise SystemExit("watcher did not start")
        start = events.get()
        print(
            f"{files} files in {dirs} folders: start reconcile (fake embedder) "
            f"{time.perf_counter() - t0:.1f}s, {start.summary.files_indexed} files indexed"
        )
        time.sleep(2)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        time.sleep(seconds)
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        rss = _rss_mib()
        print(
            f"idle {wall:.0f}s: {cpu:.3f}s CPU ({100 * cpu / wall:.3f}% of one core), "
            f"RSS {rss:.0f} MiB, {dirs} inotify watches"
        )
        target = next(root.rglob("*.txt"))
        costs = []
        for n in range(5):
            target.write_text(f"edited {n} about {WORDS[n]}\n")
            t0 = time.perf_counter()
            event = events.get(timeout=120)
            while event.kind != "batch":
                event = events.get(timeout=120)
            costs.append((time.perf_counter() - t0, event.summary.seconds))
        print(
            "one-file batch on this index: save → committed median "
            f"{statistics.median(c[0] for c in costs):.2f}s (debounce 0.5s included), "
            f"batch work median {statistics.median(c[1] for c in costs):.3f}s"
        )
        stop.set()
        thread.join(60)


def _rss_mib() -> float:
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    lat = sub.add_parser("latency")
    lat.add_argument("--edits", type=int, default=20)
    lat.add_argument("--debounce", type=float, default=0.5)
    cpu = sub.add_parser("idle")
    cpu.add_argument("--files", type=int, default=10_000)
    cpu.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    if args.mode == "latency":
        latency(args.edits, args.debounce)
    else:
        idle(args.files, args.seconds)


if __name__ == "__main__":
    main()
