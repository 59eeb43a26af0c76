"""One index kept warm: the open index, the model, the searcher's caches, lent to commands.

A :class:`Service` runs a client's command line (``search``, ``similar``, ``status``) with
the ordinary command code, against the client's streams, environment and directory (see
``cli.env``), with its warm :class:`Searcher` lent through ``cli.warm``, and returns what
the command wrote to each stream, in order, and its exit code.

SQLite handles belong to the thread that opened them, so a Service is used by one thread
only (``cli.server.Worker`` owns it); that also serialises the model, which llama.cpp needs.
An index rebuilt underneath (its catalog or manifest replaced) is reopened at the next
request; one that is gone makes requests decline, and :attr:`gone` tells the owner to stop.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sleuth.cli.app import run
from sleuth.cli.common import location
from sleuth.cli.env import Env, using
from sleuth.cli.exitcodes import Decline
from sleuth.cli.warm import lending
from sleuth.indexer.embedder import Embedder
from sleuth.indexer.model import resolve_model
from sleuth.indexer.search import Searcher
from sleuth.store.catalog import CATALOG_FILE
from sleuth.store.index import Index, index_exists
from sleuth.store.manifest import MANIFEST_FILE, ModelIdentity
from sleuth.store.vectors import FloatArray

SERVED = ("search", "similar", "status")


class Tape:
    """What a command wrote to stdout (1) and stderr (2), in order, adjacent writes joined."""

    def __init__(self) -> None:
        self.parts: list[list[Any]] = []

    def add(self, number: int, text: str) -> None:
        if self.parts and self.parts[-1][0] == number:
            self.parts[-1][1] += text
        elif text:
            self.parts.append([number, text])

    def stream(self, number: int, info: Mapping[str, Any]) -> _Track:
        return _Track(self, number, info)


class _Track(io.StringIO):
    """A text stream that records into a :class:`Tape` and reports the client's tty-ness and
    encoding (rich draws boxes only for a UTF encoding, colours only for a terminal)."""

    def __init__(self, tape: Tape, number: int, info: Mapping[str, Any]) -> None:
        super().__init__()
        self._tape = tape
        self._number = number
        self._tty = bool(info.get("tty", False))
        self._encoding = str(info.get("encoding") or "utf-8")
        self._errors = str(info.get("errors") or "strict")

    def write(self, text: str) -> int:
        self._tape.add(self._number, text)
        return len(text)

    def isatty(self) -> bool:
        return self._tty

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding

    @property
    def errors(self) -> str:  # type: ignore[override]
        return self._errors


class LockedEmbedder:
    """One model shared by threads (a watcher's indexing and a server's queries): llama.cpp
    contexts are not thread-safe. The pipeline embeds 32 chunks per call, so a query waits
    at most one such slice."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    @property
    def identity(self) -> ModelIdentity:
        return self._inner.identity

    @property
    def max_tokens(self) -> int:
        return self._inner.max_tokens

    def tokenize(self, text: str) -> list[int]:
        with self._lock:
            return self._inner.tokenize(text)

    def embed(self, texts: Sequence[str]) -> FloatArray:
        with self._lock:
            return self._inner.embed(texts)


def _identity(directory: Path) -> tuple[int, ...] | None:
    """Changes when the index is replaced (a new catalog file or manifest), not on commits."""
    try:
        catalog = (directory / CATALOG_FILE).stat()
        manifest = (directory / MANIFEST_FILE).stat()
    except OSError:
        return None
    return (catalog.st_dev, catalog.st_ino, manifest.st_ino, manifest.st_mtime_ns)


class Service:
    """Warm state for the index in ``directory``; see the module docstring."""

    def __init__(
        self,
        directory: Path,
        make_embedder: Callable[[], Embedder],
        *,
        model: Path | None = None,
        plain_fallback: bool = False,
    ) -> None:
        self.directory = directory
        # In a process of its own (ask, mcp) a declined command is simply run without the
        # warm searcher, so its error (say, "no index named ...") reaches the user.
        self.plain_fallback = plain_fallback
        self.model_path = resolve_model(model).path
        self._make_embedder = make_embedder
        self._embedder: Embedder | None = None
        self._index: Index | None = None
        self._searcher: Searcher | None = None
        self._identity: tuple[int, ...] | None = None
        self.gone = False
        self.requests = 0

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._make_embedder()
        return self._embedder

    def searcher(self) -> Searcher:
        """The warm searcher, reopened if the index was replaced since the last request."""
        identity = _identity(self.directory)
        if identity is None or not index_exists(self.directory):
            self.gone = True
            self._drop()
            raise Decline("the index is gone")
        if self._searcher is None or identity != self._identity:
            self._drop()
            self._index = Index.open(self.directory, readonly=False)
            self._searcher = Searcher(self._index, lambda: self.embedder)
            self._identity = identity
        return self._searcher

    def reset(self) -> None:
        """Forget the searcher (after an interrupted query); the model stays loaded."""
        self._drop()

    def _drop(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        if self._index is not None:
            self._index.close()
        self._searcher = self._index = None

    def close(self) -> None:
        self._drop()

    @contextlib.contextmanager
    def lend(
        self, index_name: str | None, model: Path | None, threads: int | None
    ) -> Iterator[Searcher]:
        env = Env.current()
        if location(index_name).directory != self.directory:
            raise Decline("another index")
        chosen = model or env.environ.get("SLEUTH_MODEL")
        if chosen and env.path(Path(chosen).expanduser()).absolute() != self.model_path:
            raise Decline("another model")
        yield self.searcher()  # threads only change speed: the warm model's count stays

    def execute(
        self, request: Mapping[str, Any], *, commands: Sequence[str] = SERVED
    ) -> dict[str, Any]:
        """Run one client command line; the reply holds ``code`` and ``out``, or ``decline``."""
        argv = request.get("argv")
        cwd = request.get("cwd")
        environ = request.get("environ")
        if not (
            isinstance(argv, list)
            and argv
            and all(isinstance(a, str) for a in argv)
            and argv[0] in commands
            and isinstance(cwd, str)
            and isinstance(environ, dict)
        ):
            return {"decline": "not a command this server runs"}
        if "--since" in argv and environ.get("TZ") != os.environ.get("TZ"):
            return {"decline": "another time zone"}  # dates are read in the local zone
        stdin = request.get("stdin")
        tape = Tape()
        env = Env(
            stdout=tape.stream(1, _info(request.get("stdout"))),
            stderr=tape.stream(2, _info(request.get("stderr"))),
            stdin=io.StringIO(stdin if isinstance(stdin, str) else ""),
            environ={str(k): str(v) for k, v in environ.items()},
            cwd=Path(cwd),
        )
        self.requests += 1
        with using(env):
            try:
                with lending(self):
                    code = run(list(argv))
            except Decline as why:
                if not self.plain_fallback:
                    return {"decline": str(why)}
                tape.parts.clear()
                code = run(list(argv))
        return {"code": int(code), "out": tape.parts}

    def run_here(self, argv: list[str]) -> int:
        """Run a command line on this thread's own streams, with the warm searcher."""
        try:
            with lending(self):
                return run(argv)
        except Decline:
            return run(argv)


def _info(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}
