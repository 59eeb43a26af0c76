"""Running ``sleuth serve`` (or a watcher) as a real process in a test, and stopping it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sleuth.cli.client import ping
from sleuth.cli.wire import LOCK_FILE, SOCKET_FILE

START = 60.0  # seconds for a server process to import and bind


def cli(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdin: bytes = b"",
    timeout: float = 300,
) -> subprocess.CompletedProcess[bytes]:
    """One ``sleuth`` process, bytes in and out, as a shell would run it."""
    return subprocess.run(
        [sys.executable, "-m", "sleuth.cli", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


def wait_until_serving(directory: Path, proc: subprocess.Popen[Any], timeout: float = START) -> int:
    """The server's pid, once it answers a ping on the index's socket."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = ping(directory)
        if answer is not None and answer["pid"] == proc.pid:
            return proc.pid
        if proc.poll() is not None:
            err = proc.stderr.read() if proc.stderr else b""
            raise AssertionError(f"server exited {proc.returncode}: {err!r}")
        time.sleep(0.05)
    raise AssertionError(f"no server on {directory} within {timeout:.0f}s")


@contextmanager
def running(
    directory: Path,
    *args: str,
    command: Sequence[str] = ("serve",),
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process for the index in ``directory``; stopped (SIGTERM, then SIGKILL) and
    reaped on the way out, whatever the test did."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sleuth.cli", *command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
    )
    try:
        wait_until_serving(directory, proc)
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    return proc.returncode


def requests(directory: Path) -> int:
    answer = ping(directory)
    assert answer is not None, "no server answers"
    return int(answer["requests"])


def copy_index(source: Path, target: Path) -> Path:
    """A second index with the same contents (its paths are absolute, so still valid)."""
    skip = shutil.ignore_patterns(SOCKET_FILE, LOCK_FILE, ".serve.*")
    shutil.copytree(source, target, ignore=skip)
    return target


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def environ(**extra: str | None) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env
