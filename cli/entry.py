"""The ``sleuth`` console script: a Ctrl-C while the CLI is still importing stays one line."""

from __future__ import annotations

import os
import sys

# sleuth's own matrix products are small (a batch of vectors times a 384 x 300 basis), and
# llama.cpp keeps the cores busy: measured on 2 busy cores, OpenBLAS's worker threads made
# one 10 x 384 projection take 15 ms instead of 0.16 ms with a single thread. Set before
# numpy loads OpenBLAS; an explicit setting wins.
BLAS_THREAD_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
)  # not OMP_*: ggml may use OpenMP


def single_threaded_blas() -> None:
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


def main() -> None:
    single_threaded_blas()
    from sleuth.cli.interrupts import held_interrupts

    with held_interrupts() as interrupted:
        from sleuth.cli.app import run
    if interrupted():
        sys.stderr.write("sleuth: error: interrupted\n")
        sys.exit(130)
    sys.exit(run())
