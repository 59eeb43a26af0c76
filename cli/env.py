"""The streams, environment and working directory a command talks to.

Resolved at call time so tests can swap them, and injectable as a whole (:func:`using`): a
server runs a client's command against the client's streams, variables and directory, so
that nothing process-wide (``sys.stdout``, ``os.environ``, ``os.getcwd()``) decides what the
command prints.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # rich is ~45 ms to import: only commands that draw with it pay for it
    from rich.console import Console

_CURRENT: ContextVar[Env | None] = ContextVar("sleuth_env", default=None)


@dataclass(frozen=True, slots=True)
class Env:
    stdout: TextIO
    stderr: TextIO
    stdin: TextIO
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    cwd: Path | None = None  # None: the process's working directory

    @classmethod
    def current(cls) -> Env:
        lent = _CURRENT.get()
        return lent if lent is not None else cls(sys.stdout, sys.stderr, sys.stdin)

    @property
    def stdout_tty(self) -> bool:
        return _isatty(self.stdout)

    @property
    def stderr_tty(self) -> bool:
        return _isatty(self.stderr)

    @property
    def color(self) -> bool:
        return "NO_COLOR" not in self.environ and self.stdout_tty

    def path(self, path: str | Path) -> Path:
        """``path`` as the command's caller means it: relative to the caller's directory."""
        return Path(path) if self.cwd is None else self.cwd / path

    def out_console(self) -> Console:
        from rich.console import Console

        return Console(
            file=self.stdout,
            no_color=not self.color,
            highlight=False,
            force_terminal=self.stdout_tty,
            color_system="auto" if self.color else None,
            _environ=self.environ,
        )

    def err_console(self) -> Console:
        from rich.console import Console

        color = "NO_COLOR" not in self.environ and self.stderr_tty
        return Console(
            file=self.stderr,
            no_color=not color,
            highlight=False,
            soft_wrap=True,
            color_system="auto" if color else None,
            _environ=self.environ,
        )

    def warn(self, message: str) -> None:
        print(f"sleuth: warning: {message}", file=self.stderr)

    def error(self, message: str) -> None:
        print(f"sleuth: error: {message}", file=self.stderr)


@contextlib.contextmanager
def using(env: Env) -> Iterator[Env]:
    """Within the block (in this thread), ``Env.current()`` is ``env``."""
    token = _CURRENT.set(env)
    try:
        yield env
    finally:
        _CURRENT.reset(token)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
