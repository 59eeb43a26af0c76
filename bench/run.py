"""``make bench``: run sleuth's benchmarks and print figures (never pass/fail).

    python bench/run.py [--quick] [--only SECTION[,SECTION]] [--prepare] [--threads N]

Sections: throughput, indexing, footprint, recall, quality, latency (see bench/README.md).
Figures are printed as tables on stdout and merged into bench/_results/latest.json.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    # As the CLI does (sleuth.cli.entry), before numpy loads: one BLAS thread.
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    # Before anything imports sleuth: pin the code this run measures (see bench/snapshot.py).
    from bench.snapshot import pin

    pin()
    from bench.runner import main as run

    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
