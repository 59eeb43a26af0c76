"""``sleuth watch PATH…``: keep the index equal to the folders while they change."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from sleuth.cli.common import (
    DEFAULT_MAX_SIZE,
    AllTextOpt,
    FollowOpt,
    HiddenOpt,
    IndexOpt,
    MaxSizeOpt,
    ModelOpt,
    NoIgnoreOpt,
    QuietOpt,
    ThreadsOpt,
    discovery_options,
    location,
    make_embedder,
    require_paths,
)
from sleuth.cli.env import Env
from sleuth.cli.interrupts import stop_on_signals
from sleuth.cli.server import Server, Worker
from sleuth.cli.service import LockedEmbedder, Service
from sleuth.indexer.embedder import Embedder
from sleuth.indexer.pipeline import IndexSettings, Summary
from sleuth.indexer.watcher import Watcher, WatchEvent, WatchSettings
from sleuth.store.errors import StoreError

MAX_WAIT = 5.0  # a continuous storm of events is still committed at least this often


def watch(
    paths: Annotated[
        list[Path], typer.Argument(help="Folders or files to watch.", show_default=False)
    ],
    index_name: IndexOpt = None,
    once: Annotated[
        bool, typer.Option("--once", help="Reconcile the index with the disk, then exit.")
    ] = False,
    debounce: Annotated[
        float,
        typer.Option(
            "--debounce",
            metavar="SECONDS",
            min=0.0,
            max=600.0,
            help="Wait for this long without changes before indexing a batch.",
        ),
    ] = 0.5,
    hidden: HiddenOpt = False,
    follow: FollowOpt = False,
    no_ignore: NoIgnoreOpt = False,
    all_text: AllTextOpt = False,
    max_size: MaxSizeOpt = DEFAULT_MAX_SIZE,
    model: ModelOpt = None,
    threads: ThreadsOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per batch on stdout.")
    ] = False,
    quiet: QuietOpt = False,
    no_serve: Annotated[
        bool,
        typer.Option(
            "--no-serve", help="Do not also answer searches over the index's socket (see serve)."
        ),
    ] = False,
) -> None:
    """Watch PATH… and keep the index up to date (reconciles first; Ctrl-C stops).

    While it watches it also answers `sleuth search` and `sleuth similar` warm, as
    `sleuth serve` does, unless another server already does or --no-serve is given.
    """
    env = Env.current()
    settings = WatchSettings(
        index=IndexSettings(
            discovery=discovery_options(hidden, follow, no_ignore, max_size, all_text),
            commit_chunks=128,
        ),
        debounce=debounce,
        max_wait=max(MAX_WAIT, debounce),
    )
    require_paths(paths)
    loc = location(index_name)
    log = _Log(env, loc.name, as_json=as_json, quiet=quiet)
    # One model for indexing and for queries, taken in turns (llama.cpp is not thread-safe).
    embedder = LockedEmbedder(make_embedder(model, threads))
    stop = threading.Event()
    hosted = _Hosted(loc.directory, embedder, model, log)

    def ready() -> None:
        log.ready(watcher.roots, debounce)
        if not no_serve:
            hosted.start()  # now the index exists, whatever the watcher had to create

    watcher = Watcher(
        loc.directory,
        paths,
        embedder,
        settings,
        on_event=log.event,
        on_warning=log.warn,
        on_ready=ready,
        stop=stop,
    )
    if once:
        watcher.run_once()
        return
    try:
        with stop_on_signals(stop, second_ctrl_c_raises=True):
            watcher.run()
    finally:
        hosted.stop()
    log.stopped()


class _Hosted:
    """The service ``sleuth serve`` runs, on threads of the watcher's process.

    Its worker opens its own read handle on the index, so a query sees the last committed
    batch, never one being written.
    """

    def __init__(self, directory: Path, embedder: Embedder, model: Path | None, log: _Log) -> None:
        self.directory = directory
        self.embedder = embedder
        self.model = model
        self.log = log
        self.server: Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        worker = Worker(lambda: Service(self.directory, lambda: self.embedder, model=self.model))
        server = Server(self.directory, worker, host="watch")
        try:
            server.bind()
        except (StoreError, OSError) as exc:
            worker.close()
            self.log.warn(f"not answering searches: {exc}")
            return
        self.server = server
        self.thread = threading.Thread(target=server.serve, name="sleuth-serve", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.stop.set()
            self.thread.join(timeout=10)
            self.server.close()


class _Log:
    """Per-batch lines: one human line on stderr, or one JSON object on stdout."""

    def __init__(self, env: Env, index: str, *, as_json: bool, quiet: bool) -> None:
        self.env = env
        self.index = index
        self.as_json = as_json
        self.quiet = quiet

    def _json(self, record: dict[str, object]) -> None:
        record = {**record, "index": self.index, "time": round(time.time(), 3)}
        print(json.dumps(record), file=self.env.stdout, flush=True)

    def _say(self, text: str) -> None:
        if not self.quiet and not self.as_json:
            print(f"sleuth: {text}", file=self.env.stderr, flush=True)

    def warn(self, message: str) -> None:
        if not self.quiet:
            self.env.warn(message)

    def ready(self, roots: list[str], debounce: float) -> None:
        if self.as_json:
            self._json({"event": "watching", "roots": roots, "debounce": debounce})
        else:
            where = roots[0] if len(roots) == 1 else f"{len(roots)} paths"
            self._say(f"watching {where} (index {self.index}); Ctrl-C to stop")

    def event(self, event: WatchEvent) -> None:
        if event.kind == "batch" and not event.changed:
            return  # only touched or ignored paths: nothing worth a line
        if self.as_json:
            record: dict[str, object] = {"event": event.kind}
            if event.kind == "reconcile":
                record["reason"] = event.reason
            else:
                record["paths"] = event.paths
            self._json({**record, **event_fields(event.summary)})
        else:
            label = f"reconciled ({event.reason})" if event.kind == "reconcile" else "updated"
            self._say(f"{label}: {describe(event.summary)}")

    def stopped(self) -> None:
        if self.as_json:
            self._json({"event": "stopped"})
        else:
            self._say("stopped")


def event_fields(s: Summary) -> dict[str, object]:
    return {
        "files_indexed": s.files_indexed,
        "files_removed": s.files_removed,
        "files_moved": s.files_moved,
        "files_unchanged": s.files_unchanged,
        "files_skipped": s.files_skipped,
        "chunks_added": s.chunks_added,
        "chunks_removed": s.chunks_removed,
        "skipped": dict(sorted(s.skipped.items())),
        "seconds": round(s.seconds, 3),
    }


def describe(s: Summary) -> str:
    parts = [f"{s.files_indexed} indexed ({s.chunks_added} chunks)"]
    if s.files_moved:
        parts.append(f"{s.files_moved} moved")
    if s.files_removed:
        parts.append(f"{s.files_removed} removed ({s.chunks_removed} chunks)")
    if s.files_skipped:
        parts.append(f"{s.files_skipped} skipped")
    if s.files_unchanged:
        parts.append(f"{s.files_unchanged} unchanged")
    return ", ".join(parts) + f" in {s.seconds:.1f}s"
