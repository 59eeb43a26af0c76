"""``sleuth serve``'s socket: one resident process per index answers over a Unix socket.

- The socket is ``serve.sock`` in the index folder (0700), itself 0600. It is bound under a
  temporary name, chmod-ed, listening, and only then renamed into place, so a client never
  finds a half-made socket; the rename replaces a stale socket left by a dead server.
- ``serve.lock`` (flock, dropped by the kernel when the process dies) makes it one server
  per index: a second one is told who holds it. Holding it also proves that any socket
  already there is stale.
- Connections are read by a bounded pool of threads; the commands run one at a time on the
  :class:`Worker` thread, which owns the warm :class:`Service` (SQLite handles and the model
  belong to one thread). At most ``MAX_CLIENTS`` are being read or answered; more wait in
  the listen backlog.
- Every second the accept loop checks that the socket is still its own: an index dropped
  (folder deleted) or a socket replaced stops the server.
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sleuth.cli.client import ping, socket_path
from sleuth.cli.service import Service
from sleuth.cli.wire import LOCK_FILE, VERSION, WireError, receive, send
from sleuth.store.errors import IndexLockedError, StoreError
from sleuth.store.lock import FileLock
from sleuth.store.paths import PRIVATE_FILE

T = TypeVar("T")
MAX_CLIENTS = 16  # connections read/answered at once; the rest wait in the backlog
BACKLOG = 128
READ_TIMEOUT = 10.0  # a client that connects and sends nothing is dropped
# Longest socket path the kernel takes (sun_path is 108 bytes, NUL included).
MAX_SOCKET_PATH = 107


class ServerRunning(StoreError):
    """Another server already answers for this index."""


class Worker:
    """A thread that owns a :class:`Service` and runs jobs on it one after another."""

    def __init__(self, make_service: Callable[[], Service]) -> None:
        self._make_service = make_service
        self._jobs: queue.Queue[tuple[Callable[[Service], Any], Future[Any]] | None] = queue.Queue()
        self._ready: Future[Service] = Future()
        self._thread = threading.Thread(target=self._loop, name="sleuth-worker", daemon=True)
        self._thread.start()
        self.service = self._ready.result()  # an error making it is raised here

    def do(self, job: Callable[[Service], T]) -> T:
        """``job(service)``, run on the worker's thread; its exception is raised here."""
        done: Future[T] = Future()
        self._jobs.put((job, done))
        return done.result()

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.do(lambda service: service.execute(request))

    def _loop(self) -> None:
        try:
            service = self._make_service()
        except BaseException as exc:
            self._ready.set_exception(exc)
            return
        self._ready.set_result(service)
        try:
            while (item := self._jobs.get()) is not None:
                job, done = item
                try:
                    done.set_result(job(service))
                except BaseException as exc:  # never lose the worker: report, carry on
                    done.set_exception(exc)
        finally:
            service.close()

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=30)


def check_socket_path(directory: Path) -> None:
    path = socket_path(directory)
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise StoreError(
            f"the index folder's path is too long for a Unix socket ({path}); "
            "use a shorter SLEUTH_HOME"
        )


class Server:
    """Listens on the index's socket and answers through a :class:`Worker`."""

    def __init__(self, directory: Path, worker: Worker, *, host: str = "serve") -> None:
        self.directory = directory
        self.path = socket_path(directory)
        self.worker = worker
        self.host = host
        self.started = time.time()
        self.stop = threading.Event()
        self._lock = FileLock(
            directory / LOCK_FILE,
            "a sleuth server{holder} already answers for this index",
        )
        self._listener: socket.socket | None = None
        self._inode: int | None = None
        self._slots = threading.BoundedSemaphore(MAX_CLIENTS)
        self._pool = ThreadPoolExecutor(MAX_CLIENTS, thread_name_prefix="sleuth-conn")
        self.stopped_because = ""

    def bind(self) -> None:
        """Take the index's server lock and put a listening socket in place."""
        check_socket_path(self.directory)
        try:
            self._lock.acquire()
        except IndexLockedError:
            live = ping(self.directory)
            who = f" ({live.get('host', 'serve')}, pid {live['pid']})" if live else ""
            raise ServerRunning(
                f"a sleuth server{who} already answers for this index; stop it first"
            ) from None
        temporary = self.directory / f".serve.{os.getpid()}.sock"
        temporary.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(temporary))
            temporary.chmod(PRIVATE_FILE)  # before anyone can connect
            listener.listen(BACKLOG)
            temporary.replace(self.path)  # replaces a dead server's socket at once
        except BaseException:
            listener.close()
            temporary.unlink(missing_ok=True)
            self._lock.release()
            raise
        listener.settimeout(1.0)
        self._listener = listener
        self._inode = self.path.stat().st_ino

    def serve(self) -> None:
        """Accept until :attr:`stop` is set, the socket is no longer ours, or the index is
        gone; then close everything (the socket file is removed if it is still ours)."""
        assert self._listener is not None
        try:
            while not self.stop.is_set():
                if not self._still_ours():
                    self.stopped_because = "the index or its socket was removed"
                    break
                if self.worker.service.gone:
                    self.stopped_because = "the index was dropped"
                    break
                if not self._slots.acquire(timeout=1.0):
                    continue
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    self._slots.release()
                    continue
                except OSError:
                    self._slots.release()
                    if self.stop.is_set():
                        break
                    raise
                self._pool.submit(self._answer, conn)
        finally:
            self.close()

    def _still_ours(self) -> bool:
        try:
            return self.path.stat().st_ino == self._inode
        except OSError:
            return False

    def _answer(self, conn: socket.socket) -> None:
        try:
            with conn:
                conn.settimeout(READ_TIMEOUT)
                try:
                    request = receive(conn)
                except (OSError, WireError):
                    return
                conn.settimeout(None)
                reply = self._reply(request)
                with contextlib.suppress(OSError, WireError):
                    send(conn, reply)  # the client may have given up (Ctrl-C): fine
        finally:
            self._slots.release()

    def _reply(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("v") != VERSION:
            return {"decline": "another protocol version"}
        if request.get("op") == "ping":
            return {
                "pid": os.getpid(),
                "host": self.host,
                "directory": str(self.directory),
                "started": self.started,
                "requests": self.worker.service.requests,
            }
        if request.get("op") != "run":
            return {"decline": "unknown request"}
        try:
            return self.worker.call(request)
        except Exception as exc:  # a bug in one request must not kill the server
            return {"decline": f"server error: {type(exc).__name__}: {exc}"}

    def close(self) -> None:
        """Stop listening and remove the socket (only if it is still ours). Idempotent."""
        self.stop.set()
        listener, self._listener = self._listener, None
        if listener is None:
            return
        if self._still_ours():
            self.path.unlink(missing_ok=True)
        listener.close()
        self._pool.shutdown(wait=True)
        self.worker.close()
        self._lock.release()
