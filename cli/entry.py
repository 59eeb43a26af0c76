"""The ``sleuth`` console script: a Ctrl-C while the CLI is still importing stays one line.

``sleuth search`` and ``sleuth similar`` first try a running ``sleuth serve`` (see
``cli.client``), before typer, rich or numpy are imported: that is most of a one-off
process's start-up, and a warm server answers in a fraction of it.
"""

from __future__ import annotations

import os
import sys

_FORWARDED = ("search", "similar")  # cli.client.FORWARDED, without importing it

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

    args = sys.argv[1:]
    if args[:1] and args[0] in _FORWARDED:
        with held_interrupts() as interrupted:
            from sleuth.cli.client import forward
        if not interrupted():
            code = forward(args)
            if code is not None:
                sys.exit(code)
    with held_interrupts() as interrupted:
        from sleuth.cli.app import run
    if interrupted():
        sys.stderr.write("sleuth: error: interrupted\n")
        sys.exit(130)
    sys.exit(run())
