"""The client side of ``sleuth serve``: forward a command to a warm server, if one answers.

Runs in every ``sleuth search`` and ``sleuth similar`` before typer, rich or numpy are
imported, so it imports only the standard library's cheap modules and ``store.paths``. It
sends the command line with everything else the command's output depends on (working
directory, environment, terminal size, whether each stream is a terminal and its encoding,
the text on stdin when the query is ``-``); the server runs the very same command code
against those and returns what it wrote to each stream, in order, and its exit code. When no
server answers (no socket, a stale one, a server that dies mid-request or declines), the
caller runs the command itself: the user sees the same output either way.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sleuth.cli.wire import SOCKET_FILE, VERSION, WireError, receive, send
from sleuth.store.errors import StoreError
from sleuth.store.paths import resolve_index

FORWARDED = ("search", "similar")
CONNECT_TIMEOUT = 1.0  # a live server accepts at once; a full backlog means "do it yourself"
# Options whose next argument is their value (so a "-" there is not "the query from stdin").
_VALUED = frozenset(
    (
        *("-k", "--limit", "--mode", "--format", "--min-score", "-C", "--context", "-g"),
        *("--glob", "-t", "--type", "--since", "--changed-within", "--path-prefix"),
        *("--candidates", "-i", "--index", "--model", "--threads", "--lines"),
    )
)
# What rich and sleuth read from the environment while rendering; the rest stays home.
_PASSED = frozenset(
    (
        *("NO_COLOR", "FORCE_COLOR", "TERM", "COLORTERM", "COLUMNS", "LINES"),
        *("TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "JUPYTER_LINES", "TZ"),
    )
)


def option_value(argv: Sequence[str], name: str, short: str = "") -> str | None:
    """The value of the option ``name`` (or its one-letter form ``short``) in ``argv``, as
    click would read it, or None."""
    args = iter(argv)
    for arg in args:
        if arg == "--":
            break
        if arg == name or (short and arg == short):
            return next(args, None)
        if arg.startswith(f"{name}="):
            return arg.removeprefix(f"{name}=")
        if short and arg.startswith(short) and not arg.startswith("--"):
            return arg[len(short) :]
    return None


def index_name(argv: Sequence[str]) -> str | None:
    """The value of ``--index``/``-i`` in ``argv``, or None."""
    return option_value(argv, "--index", "-i")


def reads_stdin(argv: Sequence[str]) -> bool:
    """Whether ``sleuth search`` would read its query from stdin (a bare ``-`` argument)."""
    previous = ""
    for arg in argv[1:]:
        if arg == "-" and previous not in _VALUED:
            return True
        previous = arg
    return False


def query_text(argv: Sequence[str]) -> str | None:
    """The query of ``sleuth search ARGV...`` as click would read it; None when it comes from
    stdin (``-``, ``--batch``) or is not there."""
    args = iter(argv[1:])
    for arg in args:
        if arg == "--":
            return next(args, None)
        if arg == "--batch":
            return None
        if arg in _VALUED:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def socket_path(directory: Path) -> Path:
    return directory / SOCKET_FILE


def environment(stdout_tty: bool) -> dict[str, str]:
    """The variables the output depends on, with the terminal's size made explicit.

    rich sizes its output from fds 0-2 of *its* process (a dumb terminal: 80x25), then
    COLUMNS/LINES. The server's process has other fds, so the size rich would find here
    travels as COLUMNS/LINES, which rich then takes as given.
    """
    env = {k: v for k, v in os.environ.items() if k in _PASSED or k.startswith("SLEUTH_")}
    columns, lines = env.get("COLUMNS", ""), env.get("LINES", "")
    if columns.isdigit() and lines.isdigit():
        return env
    if env.get("TERM", "").lower() in ("dumb", "unknown") and stdout_tty:
        width, height = 80, 25
    else:
        width, height = terminal_size() or (0, 0)
        width = int(columns) if columns.isdigit() else width
        height = int(lines) if lines.isdigit() else height
    env["COLUMNS"] = str(width or 80)
    env["LINES"] = str(height or 25)
    return env


def terminal_size() -> tuple[int, int] | None:
    for fd in (0, 1, 2):  # the order rich asks in
        try:
            columns, lines = os.get_terminal_size(fd)
        except (AttributeError, ValueError, OSError):
            continue
        return columns, lines
    return None


def _stream_info(stream: Any) -> dict[str, Any]:
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        tty = False
    return {
        "tty": tty,
        "encoding": getattr(stream, "encoding", None) or "utf-8",
        "errors": getattr(stream, "errors", None) or "strict",
    }


def request_for(argv: Sequence[str], stdin: str | None) -> dict[str, Any]:
    stdout = _stream_info(sys.stdout)
    return {
        "v": VERSION,
        "op": "run",
        "argv": list(argv),
        "cwd": str(Path.cwd()),
        "environ": environment(bool(stdout["tty"])),
        "stdin": stdin,
        "stdout": stdout,
        "stderr": _stream_info(sys.stderr),
    }


def exchange(
    directory: Path, message: Mapping[str, Any], timeout: float = CONNECT_TIMEOUT
) -> dict[str, Any] | None:
    """The server's reply to ``message``, or None when no server answers in full."""
    import socket  # only once a server's socket file exists

    path = socket_path(directory)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.settimeout(None)  # a cold query may take seconds: that is still the fast path
        send(sock, dict(message))
        return receive(sock)
    except (OSError, WireError):
        return None
    finally:
        sock.close()


def ping(directory: Path) -> dict[str, Any] | None:
    """What a live server says about itself, or None."""
    reply = exchange(directory, {"v": VERSION, "op": "ping"})
    return reply if reply is not None and isinstance(reply.get("pid"), int) else None


def forward(argv: Sequence[str]) -> int | None:
    """Run ``sleuth ARGV`` on a server and return its exit code; None: run it here instead.

    Called only for the commands in :data:`FORWARDED`. Ctrl-C while waiting is answered as
    the command itself would (one line, 130).
    """
    if not argv or argv[0] not in FORWARDED or "--help" in argv:
        return None
    if os.environ.get("SLEUTH_SERVER", "").lower() in ("off", "0", "no") or os.environ.get(
        "SLEUTH_DEBUG"
    ):
        return None  # --debug wants the traceback from this process
    try:
        directory = resolve_index(index_name(argv)).directory
    except (StoreError, OSError, ValueError):
        return None  # the command itself reports the problem
    if not socket_path(directory).exists():
        return None
    try:
        stdin = sys.stdin.read() if argv[0] == "search" and reads_stdin(argv) else None
        reply = exchange(directory, request_for(argv, stdin))
        parts = _parts(reply)
        if parts is None or reply is None:
            if stdin is not None:  # already read: the command here reads it again from this
                sys.stdin = io.StringIO(stdin)
            return None
        return _replay(parts, int(reply["code"]))
    except KeyboardInterrupt:
        sys.stderr.write("sleuth: error: interrupted\n")
        return 130


def _parts(reply: dict[str, Any] | None) -> list[tuple[int, str]] | None:
    if reply is None or not isinstance(reply.get("code"), int):
        return None  # declined, or not an answer
    out = reply.get("out")
    if not isinstance(out, list):
        return None
    parts: list[tuple[int, str]] = []
    for item in out:
        if not (isinstance(item, list) and len(item) == 2 and item[0] in (1, 2)):
            return None
        if not isinstance(item[1], str):
            return None
        parts.append((int(item[0]), item[1]))
    return parts


def _replay(parts: list[tuple[int, str]], code: int) -> int:
    """Write each part to its stream in the order the command wrote them."""
    try:
        for number, text in parts:
            stream = sys.stdout if number == 1 else sys.stderr
            stream.write(text)
            stream.flush()  # keeps stdout and stderr interleaved as the command wrote them
    except BrokenPipeError:
        # As the command itself does when its reader goes away (`| head -1`).
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 0
    return code
