"""Ctrl-C while Python imports sleuth's modules: held until the imports are done.

A KeyboardInterrupt raised inside CPython's import machinery is not always an ordinary
exception: it can land in a weakref callback of the module locks, where CPython prints
"Exception ignored" with a traceback and carries on, or leave the interpreter to kill itself
with SIGINT at exit after sleuth has already said "interrupted". Holding the signal for the
fraction of a second the imports take makes a start-up Ctrl-C one clean line and exit 130.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def held_interrupts() -> Iterator[Callable[[], bool]]:
    """Within the block Ctrl-C is only noted; the yielded function says whether it came."""
    came = False

    def note(signum: int, frame: FrameType | None) -> None:
        nonlocal came
        came = True

    try:
        previous = signal.signal(signal.SIGINT, note)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield lambda: False
        return
    try:
        yield lambda: came
    finally:
        signal.signal(signal.SIGINT, previous)
