"""The ``sleuth`` console script: a Ctrl-C while the CLI is still importing stays one line.

``sleuth search`` and ``sleuth similar`` first try a running ``sleuth serve`` (see
``cli.client``), before typer, rich or numpy are imported: that is most of a one-off
process's start-up, and a warm server answers in a fraction of it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from typing import NoReturn

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
        from sleuth.cli.preload import start

        start(args)
    with held_interrupts() as interrupted:
        from sleuth.cli.app import run
    if interrupted():
        sys.stderr.write("sleuth: error: interrupted\n")
        sys.exit(130)
    code = run()
    if args[:1] and args[0] in _FORWARDED:
        leave(code)
    sys.exit(code)


def leave(code: int) -> NoReturn:
    """End a one-shot query without tearing the interpreter down.

    Freeing numpy, usearch, llama.cpp and a few hundred modules took ~80 ms of a 0.45 s warm
    ``sleuth search`` on 2 cores, after the answer was printed. By then the command has closed
    its index, cache and model; the streams are flushed and exit handlers (the PDF engine's
    child process) run here, so only the teardown is skipped. Long-running commands, whose
    threads the normal exit joins, still exit the normal way.
    """
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe: the output is gone either way.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)
