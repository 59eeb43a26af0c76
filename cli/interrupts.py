"""Ctrl-C while Python imports sleuth's modules: held until the imports are done.

A KeyboardInterrupt raised inside CPython's import machinery is not always an ordinary
exception: it can land in a weakref callback of the module locks, where CPython prints
"Exception ignored" with a traceback and carries on, or leave the interpreter to kill itself
with SIGINT at exit after sleuth has already said "interrupted". Holding the signal for the
fraction of a second the imports take makes a start-up Ctrl-C one clean line and exit 130.

A process started with SIGINT ignored (a background job of a non-interactive shell, nohup)
keeps it ignored: holding it would turn a Ctrl-C meant for others into an exit 130 during
the imports, and only then.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import threading


@contextmanager
def held_interrupts() -> Iterator[Callable[[], bool]]:
    """Within the block Ctrl-C is only noted; the yielded function says whether it came."""
    came = False

    def note(signum: int, frame: FrameType | None) -> None:
        nonlocal came
        came = True

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield lambda: False
        return
    try:
        previous = signal.signal(signal.SIGINT, note)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield lambda: False
        return
    try:
        yield lambda: came
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def stop_on_signals(stop: threading.Event, *, second_ctrl_c_raises: bool = False) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` for a long-running loop (serve, watch) to end cleanly;
    with ``second_ctrl_c_raises`` a second Ctrl-C raises KeyboardInterrupt at once. Off the
    main thread signals cannot be handled, so the block runs as is."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if second_ctrl_c_raises and signum == signal.SIGINT and stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    saved: dict[signal.Signals, Callable[[int, FrameType | None], object] | int | None] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        saved[sig] = signal.signal(sig, handle)
    try:
        yield
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)
