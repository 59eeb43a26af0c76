"""The ``sleuth`` console script: a Ctrl-C while the CLI is still importing stays one line.

``sleuth search`` and ``sleuth similar`` first try a running ``sleuth serve`` (see
``cli.client``), before typer, rich or numpy are imported: that is most of a one-off
process's start-up, and a warm server answers in a fraction of it.
"""

from __future__ import annotations

import sys

_FORWARDED = ("search", "similar")  # cli.client.FORWARDED, without importing it


def main() -> None:
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
