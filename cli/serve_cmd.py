"""``sleuth serve``: keep one index warm and answer ``search``/``similar``/``status`` fast."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sleuth.cli.common import (
    IndexOpt,
    ModelOpt,
    QuietOpt,
    ThreadsOpt,
    location,
    make_embedder,
    open_existing,
)
from sleuth.cli.env import Env
from sleuth.cli.interrupts import stop_on_signals
from sleuth.cli.server import Server, Worker
from sleuth.cli.service import Service
from sleuth.indexer.embedder import Embedder
from sleuth.store.index import index_exists


def serve(
    index_name: IndexOpt = None,
    model: ModelOpt = None,
    threads: ThreadsOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Keep the index open and the model loaded; searches then answer in milliseconds.

    Runs in the foreground until SIGTERM or Ctrl-C. `sleuth search` and `sleuth similar`
    use it by themselves when it runs (SLEUTH_SERVER=off makes them work alone).
    """
    env = Env.current()
    loc = location(index_name)
    if not index_exists(loc.directory):
        open_existing(loc)  # raises the usual "no index named ..." error
    server = start(loc.directory, lambda: make_embedder(model, threads), model=model)
    if not quiet:
        say(env, f"serving index {loc.name} on {server.path} (pid {os.getpid()}); Ctrl-C to stop")
    with stop_on_signals(server.stop):
        server.serve()
    if not quiet:
        say(env, f"stopped: {server.stopped_because}" if server.stopped_because else "stopped")


def start(directory: Path, make: Callable[[], Embedder], *, model: Path | None) -> Server:
    """A bound server with its worker (the model loads at the first query that needs it)."""
    worker = Worker(lambda: Service(directory, make, model=model))
    server = Server(directory, worker)
    try:
        server.bind()
    except BaseException:
        worker.close()
        raise
    return server


def say(env: Env, text: str) -> None:
    print(f"sleuth: {text}", file=env.stderr, flush=True)
