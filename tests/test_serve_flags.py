"""Every search flag, with and without a running ``sleuth serve``: the same bytes on stdout
and stderr and the same exit code, the server's request count proving it answered.

Real processes (``python -m sleuth.cli``, so the tiny client in ``cli.entry`` runs) on the
shipped examples with the real model; one more pair runs on a pseudo-terminal, with colour,
so the human format's terminal width, boxes, links and colours are compared too.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EXAMPLES
from servers import cli, environ, requests, running

from sleuth.store.paths import resolve_index

pytestmark = pytest.mark.model

ALL = ("--min-score", "0")
SEARCH_CASES: list[tuple[str, ...]] = [
    ("search", "forgotten password reset"),
    ("search", "forgotten password reset", "--format", "human"),
    ("search", "forgotten password reset", "--format", "plain"),
    ("search", "forgotten password reset", "--format", "json"),
    ("search", "forgotten password reset", "--format", "files"),
    ("search", "forgotten password reset", "--format", "grep"),
    ("search", "forgotten password reset", "--json"),
    ("search", "forgotten password reset", "-l"),
    ("search", "forgotten password reset", "-l", "-0"),
    ("search", "forgotten password reset", "--null", "--files-with-matches", *ALL),
    ("search", "password", "-k", "2", "--json", *ALL),
    ("search", "password", "--limit", "3", "--format", "grep", *ALL),
    ("search", "sourdough starter", "--mode", "semantic", "--json"),
    ("search", "sourdough starter", "--mode", "lexical", "--json"),
    ("search", "sourdough starter", "--mode", "hybrid", "--format", "human"),
    ("search", "password", "--min-score", "0.5", "--json"),
    ("search", "password", "--min-score", "1"),
    ("search", "password", "--min-score", "5"),
    ("search", "locked account", "--format", "grep", "-k", "1", "-C", "2"),
    ("search", "locked account", "--format", "human", "--context", "1", *ALL),
    ("search", "password", "--group", "--json", *ALL),
    ("search", "password", "--group", "--format", "human", *ALL),
    ("search", "money", "--glob", "*.md", "--json", *ALL, "-k", "5"),
    ("search", "money", "-g", "!*.md", "--json", *ALL),
    ("search", "csv", "--glob", "code/**/*.py", "--json", *ALL),
    ("search", "password", "--type", "code", "--json", *ALL, "-k", "3"),
    ("search", "password", "-t", "pdf", "--format", "plain", *ALL),
    ("search", "anything", "--path-prefix", "recipes", "--json", *ALL),
    ("search", "password", "--since", "2999-01-01"),
    ("search", "password", "--since", "yesterday-ish"),
    ("search", "password", "--changed-within", "3650d", *ALL),
    ("search", "password", "--changed-within", "soon"),
    ("search", "password", "--candidates", "5", "--json"),
    ("search", "football transfer window rumours"),
    ("search", "football transfer window rumours", "--json"),
    ("search", "football transfer window rumours", "-l", *ALL),
    ("search", "zzyzxqv", "--mode", "lexical"),
    ("search", "hotel reimbursement per night", "--json", "-k", "1"),
    ("search", ""),
    ("search", "x", "--mode", "bogus"),
    ("search", "x", "--format", "yaml"),
    ("search", "x", "-k", "0"),
    ("search", "x", "--no-such-flag"),
    ("search",),
    ("search", "password", "--index", "nosuch"),
]
# (argv, stdin): the query read from stdin, one query or a batch.
STDIN_CASES: list[tuple[tuple[str, ...], bytes]] = [
    (("search", "-", "--json", "-k", "1"), b"sourdough starter\n"),
    (("search", "-", "--batch", "-k", "1"), b"sourdough starter\ntomato seedlings\n"),
    (("search", "-", "--batch"), b"football transfer window rumours\nhow to knit a scarf\n"),
    (("search", "--batch", "sourdough starter\nhow long is an account locked"), b""),
    (("search", "-"), b"   \n"),
]
SIMILAR_CASES: list[tuple[str, ...]] = [
    ("similar", "notes/account-recovery.md", "--json", "-k", "3", *ALL),
    ("similar", "notes/account-recovery.md"),
    ("similar", "notes/account-recovery.md", "-l"),
    ("similar", "recipes/sourdough.txt", "--lines", "1-3", "--json", "--include-self", "-k", "1"),
    ("similar", "recipes/sourdough.txt", "--lines", "9-3"),
    ("similar", "no/such/file.md"),
    ("similar", "notes/account-recovery.md", "--format", "grep", "-k", "2", *ALL),
]
# rich gives each hyperlink a random id, different in every run, in-process or not.
LINK_ID = re.compile(rb"\x1b\]8;id=\d+;")
# --explain prints wall-clock timings: equal up to the milliseconds themselves.
TIMINGS = re.compile(rb"\d+(\.\d+)? ms")
EXPLAIN_CASES: list[tuple[str, ...]] = [
    ("search", "exponential backoff", "--explain", "--json"),
    ("search", "exponential backoff", "--explain", "--format", "grep", "-k", "1"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """(corpus, environment) with the examples indexed and a server running on them."""
    home = tmp_path_factory.mktemp("serve-home")
    corpus = tmp_path_factory.mktemp("serve-corpus") / "examples"
    shutil.copytree(EXAMPLES, corpus)
    env = environ(SLEUTH_HOME=str(home), NO_COLOR="1", SLEUTH_INDEX=None, SLEUTH_SERVER=None)
    done = cli("index", str(corpus), "--quiet", env=env)
    assert done.returncode == 0, done.stderr
    directory = resolve_index(None, corpus, env).directory
    with running(directory, env=env, cwd=corpus):
        yield corpus, env


def both_ways(
    served: tuple[Path, dict[str, str]], argv: tuple[str, ...], stdin: bytes = b""
) -> tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes], int]:
    """(in-process run, served run, requests the server answered for it)."""
    corpus, env = served
    directory = resolve_index(None, corpus, env).directory
    alone = cli(*argv, cwd=corpus, env={**env, "SLEUTH_SERVER": "off"}, stdin=stdin)
    before = requests(directory)
    remote = cli(*argv, cwd=corpus, env=env, stdin=stdin)
    return alone, remote, requests(directory) - before


def assert_same(
    alone: subprocess.CompletedProcess[bytes], remote: subprocess.CompletedProcess[bytes]
) -> None:
    assert (remote.returncode, remote.stdout, remote.stderr) == (
        alone.returncode,
        alone.stdout,
        alone.stderr,
    )
    assert b"Traceback" not in remote.stderr


@pytest.mark.parametrize("argv", SEARCH_CASES + SIMILAR_CASES, ids=" ".join)
def test_flag_gives_the_same_bytes_with_a_server(
    served: tuple[Path, dict[str, str]], argv: tuple[str, ...]
) -> None:
    alone, remote, answered = both_ways(served, argv)
    assert_same(alone, remote)
    # Another index (one no server serves) stays in-process; everything else is answered.
    expected = 0 if "nosuch" in argv else 1
    assert answered == expected


@pytest.mark.parametrize(("argv", "stdin"), STDIN_CASES, ids=lambda v: repr(v)[:40])
def test_query_from_stdin_gives_the_same_bytes(
    served: tuple[Path, dict[str, str]], argv: tuple[str, ...], stdin: bytes
) -> None:
    alone, remote, answered = both_ways(served, argv, stdin)
    assert_same(alone, remote)
    assert answered == 1


@pytest.mark.parametrize("argv", EXPLAIN_CASES, ids=" ".join)
def test_explain_gives_the_same_lines(
    served: tuple[Path, dict[str, str]], argv: tuple[str, ...]
) -> None:
    alone, remote, answered = both_ways(served, argv)
    assert (remote.returncode, remote.stdout) == (alone.returncode, alone.stdout)
    assert TIMINGS.sub(b"N ms", remote.stderr) == TIMINGS.sub(b"N ms", alone.stderr)
    assert b"sleuth: timings: embed-query" in remote.stderr
    assert answered == 1


def on_a_terminal(
    argv: tuple[str, ...], cwd: Path, env: dict[str, str], size: tuple[int, int]
) -> tuple[int, bytes, bytes]:
    """(exit code, what reached the terminal, stderr) of ``sleuth ARGV`` with its stdout on a
    pseudo-terminal of ``size`` (columns, lines)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sleuth.cli", *argv],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    err = proc.stderr.read() if proc.stderr else b""
    if proc.stderr:
        proc.stderr.close()
    return proc.wait(timeout=120), b"".join(chunks), err


@pytest.mark.parametrize("size", [(100, 40), (52, 20)])
def test_human_format_on_a_terminal_with_colour_is_the_same(
    served: tuple[Path, dict[str, str]], size: tuple[int, int]
) -> None:
    corpus, env = served
    coloured = {k: v for k, v in env.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    coloured["TERM"] = "xterm-256color"
    argv = ("search", "how do I reset a forgotten password", "-k", "3")
    directory = resolve_index(None, corpus, env).directory
    alone = on_a_terminal(argv, corpus, {**coloured, "SLEUTH_SERVER": "off"}, size)
    before = requests(directory)
    remote = on_a_terminal(argv, corpus, coloured, size)
    assert requests(directory) == before + 1
    assert (remote[0], LINK_ID.sub(b"ID", remote[1]), remote[2]) == (
        alone[0],
        LINK_ID.sub(b"ID", alone[1]),
        alone[2],
    )
    assert alone[0] == 0 and b"\x1b[" in alone[1]  # colour did reach the terminal
    assert b"\xe2\x94\x82" in alone[1]  # the UTF-8 bar of the snippet's gutter
