"""``sleuth serve``'s life: one per index, private socket, stale sockets, SIGTERM, kill -9,
a dropped index, a server that dies mid-request, 100 clients at once, the watcher hosting it.

Real processes and the real model, on copies of one indexed examples folder.
"""

from __future__ import annotations

import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import EXAMPLES
from servers import cli, copy_index, environ, requests, rss_kib, running, stop

from sleuth.cli.client import exchange, ping, request_for
from sleuth.cli.wire import SOCKET_FILE, receive
from sleuth.store.paths import indexes_dir

pytestmark = pytest.mark.model
QUERY = ("search", "how do I reset a forgotten password", "--json", "-k", "2")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(an indexed index folder to copy from, the corpus it indexes)."""
    home = tmp_path_factory.mktemp("serve-life")
    corpus = tmp_path_factory.mktemp("serve-life-corpus") / "examples"
    shutil.copytree(EXAMPLES, corpus)
    env = environ(SLEUTH_HOME=str(home), SLEUTH_INDEX=None)
    assert cli("index", str(corpus), "--quiet", env=env).returncode == 0
    return home / "indexes" / "default", corpus


@pytest.fixture
def index(built: tuple[Path, Path], sleuth_home: Path) -> Iterator[tuple[Path, Path]]:
    """(this test's own copy of the index, in its SLEUTH_HOME, as 'default'; the corpus)."""
    directory = copy_index(built[0], indexes_dir() / "default")
    yield directory, built[1]


def alone(corpus: Path, *argv: str) -> subprocess.CompletedProcess[bytes]:
    return cli(*argv, cwd=corpus, env=environ(SLEUTH_SERVER="off"))


def same(a: subprocess.CompletedProcess[bytes], b: subprocess.CompletedProcess[bytes]) -> bool:
    return (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr)


def test_one_server_per_index_private_socket_sigterm_cleans_up(index: tuple[Path, Path]) -> None:
    directory, corpus = index
    with running(directory) as proc:
        sock = directory / SOCKET_FILE
        assert stat.S_ISSOCK(sock.stat().st_mode)
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        second = cli("serve")
        assert second.returncode == 2
        assert second.stderr.decode().count("\n") == 1
        assert "already answers for this index" in second.stderr.decode()
        assert f"pid {proc.pid}" in second.stderr.decode()
        assert same(cli(*QUERY, cwd=corpus), alone(corpus, *QUERY))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    assert not sock.exists()
    assert not list(directory.glob(".serve.*"))


def test_kill_9_loses_nothing_and_a_stale_socket_is_replaced(index: tuple[Path, Path]) -> None:
    directory, corpus = index
    expected = alone(corpus, *QUERY)
    with running(directory) as proc:
        assert same(cli(*QUERY, cwd=corpus), expected)
        proc.kill()
        proc.wait()
    assert (directory / SOCKET_FILE).exists()  # stale: nobody listens
    assert ping(directory) is None
    assert same(cli(*QUERY, cwd=corpus), expected)  # in-process, silently
    with running(directory):  # the stale socket does not stop a new server
        before = requests(directory)
        assert same(cli(*QUERY, cwd=corpus), expected)
        assert requests(directory) == before + 1


def test_a_server_that_dies_mid_request_means_in_process(index: tuple[Path, Path]) -> None:
    directory, corpus = index
    expected = alone(corpus, *QUERY)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(directory / SOCKET_FILE))
    listener.listen(4)
    served: list[str] = []

    def die_after_reading() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            served.append(receive(conn)["argv"][0])
            if len(served) == 2:
                conn.sendall(b"\x00\x00\x10\x00{")  # half a frame, then gone
            conn.close()

    thread = threading.Thread(target=die_after_reading, daemon=True)
    thread.start()
    try:
        assert same(cli(*QUERY, cwd=corpus), expected)
        assert same(cli(*QUERY, cwd=corpus), expected)
        thread.join(timeout=30)
        assert served == ["search", "search"]
    finally:
        listener.close()


def test_a_batch_read_from_stdin_survives_a_fallback(index: tuple[Path, Path]) -> None:
    directory, corpus = index
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(directory / SOCKET_FILE))
    listener.listen(4)
    threading.Thread(target=lambda: listener.accept()[0].close(), daemon=True).start()
    try:
        argv = ("search", "-", "--batch", "-k", "1")
        queries = b"sourdough starter\ntomato seedlings\n"
        expected = cli(*argv, cwd=corpus, env=environ(SLEUTH_SERVER="off"), stdin=queries)
        got = cli(*argv, cwd=corpus, stdin=queries)
        assert same(got, expected) and got.stdout.count(b"\n") == 2
    finally:
        listener.close()


def test_dropping_the_index_stops_its_server(index: tuple[Path, Path]) -> None:
    directory, corpus = index
    with running(directory) as proc:
        assert cli("drop", "default").returncode == 0
        assert proc.wait(timeout=20) == 0
        assert b"stopped" in (proc.stderr.read() if proc.stderr else b"")
    gone = cli(*QUERY, cwd=corpus)
    assert gone.returncode == 2 and b"no index named 'default'" in gone.stderr


def test_serve_without_an_index_is_one_line_and_exit_2(sleuth_home: Path) -> None:
    done = cli("serve")
    assert done.returncode == 2
    assert done.stderr.decode().startswith("sleuth: error: no index named 'default'")
    assert done.stderr.count(b"\n") == 1


def test_a_hundred_clients_at_once_all_get_the_right_answer(index: tuple[Path, Path]) -> None:
    directory, corpus = index
    queries = ["forgotten password", "sourdough starter", "tomato seedlings", "hotel night"]
    expected = {q: alone(corpus, "search", q, "--json").stdout.decode() for q in queries}
    with running(directory, cwd=corpus) as proc:
        warm = [exchange(directory, _request(corpus, q)) for q in queries]  # model loaded
        assert all(w is not None for w in warm)
        before = rss_kib(proc.pid)

        def one(n: int) -> bool:
            query = queries[n % len(queries)]
            reply = exchange(directory, _request(corpus, query), timeout=30)
            return reply is not None and reply["code"] == 0 and _stdout(reply) == expected[query]

        for _ in range(3):
            with ThreadPoolExecutor(100) as pool:
                assert all(pool.map(one, range(100)))
        after = rss_kib(proc.pid)
        assert requests(directory) >= 304
    print(f"server RSS before {before} KiB, after 300 concurrent requests {after} KiB")
    assert after - before < 64 * 1024  # flat, give or take allocator slack


def _request(corpus: Path, query: str) -> dict[str, object]:
    request = request_for(["search", query, "--json"], None)
    request["cwd"] = str(corpus)
    request["stdout"] = {"tty": False, "encoding": "utf-8", "errors": "strict"}
    return request


def _stdout(reply: dict[str, object]) -> str:
    parts = reply["out"]
    assert isinstance(parts, list)
    return "".join(text for number, text in parts if number == 1)


def test_the_watcher_hosts_the_service_and_answers_with_committed_state(
    sleuth_home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "live"
    folder.mkdir()
    (folder / "a.md").write_text("# Bees\n\nHoney bees dance to tell where the flowers are.\n")
    proc = subprocess.Popen(
        [*_sleuth(), "watch", str(folder), "--index", "live", "--debounce", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    live = indexes_dir() / "live"
    try:
        deadline = time.monotonic() + 90
        while (answer := ping(live)) is None:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        assert answer["host"] == "watch" and answer["pid"] == proc.pid
        serve = cli("serve", "--index", "live")
        assert serve.returncode == 2 and b"(watch, pid" in serve.stderr
        query = ("search", "why do bees dance", "--index", "live", "--json", "-k", "1")
        first = cli(*query)
        assert first.returncode == 0 and b"a.md" in first.stdout
        (folder / "b.md").write_text("# Volcanoes\n\nMagma rises through the crust and erupts.\n")
        deadline = time.monotonic() + 60
        while b"b.md" not in cli("search", "magma erupts", "--index", "live", "-l").stdout:
            assert time.monotonic() < deadline, "the watcher's batch never became searchable"
            time.sleep(0.2)
        assert requests(live) >= 2
        assert same(cli(*query), cli(*query, env=environ(SLEUTH_SERVER="off")))
    finally:
        assert stop(proc) == 0
    assert not (live / SOCKET_FILE).exists()


def _sleuth() -> list[str]:
    return [sys.executable, "-m", "sleuth.cli"]
