"""The streams a command talks to, resolved at call time so tests can swap them."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console


@dataclass(frozen=True, slots=True)
class Env:
    stdout: TextIO
    stderr: TextIO
    stdin: TextIO

    @classmethod
    def current(cls) -> Env:
        return cls(sys.stdout, sys.stderr, sys.stdin)

    @property
    def stdout_tty(self) -> bool:
        return _isatty(self.stdout)

    @property
    def stderr_tty(self) -> bool:
        return _isatty(self.stderr)

    @property
    def color(self) -> bool:
        return "NO_COLOR" not in os.environ and self.stdout_tty

    def out_console(self) -> Console:
        return Console(
            file=self.stdout,
            no_color=not self.color,
            highlight=False,
            force_terminal=self.stdout_tty,
            color_system="auto" if self.color else None,
        )

    def err_console(self) -> Console:
        color = "NO_COLOR" not in os.environ and self.stderr_tty
        return Console(
            file=self.stderr,
            no_color=not color,
            highlight=False,
            soft_wrap=True,
            color_system="auto" if color else None,
        )

    def warn(self, message: str) -> None:
        print(f"sleuth: warning: {message}", file=self.stderr)

    def error(self, message: str) -> None:
        print(f"sleuth: error: {message}", file=self.stderr)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
