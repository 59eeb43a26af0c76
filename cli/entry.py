"""The ``sleuth`` console script: a Ctrl-C while the CLI is still importing stays one line."""

from __future__ import annotations

import sys


def main() -> None:
    from sleuth.cli.interrupts import held_interrupts

    with held_interrupts() as interrupted:
        from sleuth.cli.app import run
    if interrupted():
        sys.stderr.write("sleuth: error: interrupted\n")
        sys.exit(130)
    sys.exit(run())
