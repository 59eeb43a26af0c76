"""The ``sleuth`` console script: a Ctrl-C while the CLI is still importing stays one line."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from sleuth.cli.app import run
    except KeyboardInterrupt:
        sys.stderr.write("sleuth: error: interrupted\n")
        sys.exit(130)
    sys.exit(run())
