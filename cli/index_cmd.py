"""``sleuth index PATH…``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sleuth.cli.common import (
    DEFAULT_MAX_SIZE,
    AllTextOpt,
    FollowOpt,
    HiddenOpt,
    IndexOpt,
    JsonOpt,
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
from sleuth.indexer.backfill import Embedding
from sleuth.indexer.junk import JUNK_REASONS
from sleuth.indexer.pipeline import IndexSettings, Reporter, Summary, run_index
from sleuth.indexer.pipeline import Progress as IndexProgress
from sleuth.store.manifest import STORAGE_MODES


def index(
    paths: Annotated[
        list[Path], typer.Argument(help="Folders or files to index.", show_default=False)
    ],
    index_name: IndexOpt = None,
    storage: Annotated[
        str | None,
        typer.Option(
            "--storage",
            help="fast (codebook codes that rank on their own, few recomputes; the default), "
            "compact (2.4x smaller codes, more recomputes), minimal (48-byte codes, smallest) "
            "or full (f16 vectors); fixed when the index is created.",
        ),
    ] = None,
    hidden: HiddenOpt = False,
    follow: FollowOpt = False,
    no_ignore: NoIgnoreOpt = False,
    all_text: AllTextOpt = False,
    max_size: MaxSizeOpt = DEFAULT_MAX_SIZE,
    model: ModelOpt = None,
    threads: ThreadsOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Index files under PATH… (only new or changed files are embedded again)."""
    env = Env.current()
    if storage is not None and storage not in STORAGE_MODES:
        raise typer.BadParameter(f"--storage must be one of {', '.join(STORAGE_MODES)}")
    settings = IndexSettings(
        storage=storage, discovery=discovery_options(hidden, follow, no_ignore, max_size, all_text)
    )
    require_paths(paths)
    loc = location(index_name)
    embedder = make_embedder(model, threads)
    show = env.stderr_tty and not quiet
    warnings: list[str] = []
    with _ProgressView(env, enabled=show) as view:
        reporter = Reporter(
            on_progress=view.update,
            on_warning=(lambda m: None) if quiet else (lambda m: view.warn(m, warnings)),
            on_plan=view.start,
            on_embedding=view.embedding,
        )
        summary = run_index(loc.directory, paths, embedder, settings, reporter)
    if as_json:
        print(json.dumps({"index": loc.name, **summary.as_dict()}), file=env.stdout)
    elif not quiet:
        print(_describe(summary), file=env.stderr)


def _describe(s: Summary) -> str:
    skipped = ", ".join(f"{n} {r}" for r, n in sorted(s.skipped.items()))
    parts = [
        f"indexed {s.files_indexed} files ({s.chunks_added} chunks)",
        f"{s.files_unchanged} unchanged",
    ]
    if s.files_moved:
        parts.append(f"{s.files_moved} moved")
    if s.files_removed:
        parts.append(f"{s.files_removed} removed")
    if s.files_skipped:
        parts.append(f"{s.files_skipped} skipped ({skipped})")
    if s.chunks_waiting:
        parts.append(f"{s.chunks_waiting} chunks still to embed (run it again to go on)")
    text = "sleuth: " + ", ".join(parts) + f" in {s.seconds:.1f}s"
    if any(reason in JUNK_REASONS for reason in s.skipped):
        text += " (--all-text indexes lockfiles, minified, generated and data files too)"
    return text


class _ProgressView:
    """A rich progress bar on stderr, or nothing when stderr is not a terminal.

    Two steps: reading files (counted in files; text is searchable as it goes), then
    embedding, counted in tokens, so that the time left follows what the model's time is
    proportional to rather than the number of files."""

    def __init__(self, env: Env, *, enabled: bool) -> None:
        self.env = env
        self.enabled = enabled
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._embed_task: TaskID | None = None

    def __enter__(self) -> _ProgressView:
        if self.enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[count]} · {task.fields[rate]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.env.err_console(),
                transient=True,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start(self, total: int) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task("reading", total=total, count="", rate="")
            self._t0 = time.perf_counter()

    def update(self, event: IndexProgress) -> None:
        if self._progress is None or self._task is None:
            return
        count = f"{event.files_done:,}/{event.files_total:,} files"
        self._progress.update(self._task, completed=event.files_done, count=count)

    def embedding(self, event: Embedding) -> None:
        if self._progress is None:
            return
        if self._embed_task is None:
            if self._task is not None:
                self._progress.remove_task(self._task)
            self._embed_task = self._progress.add_task(
                "embedding", total=event.tokens_total, count="", rate=""
            )
            self._t0 = time.perf_counter()
        elapsed = max(time.perf_counter() - self._t0, 1e-6)
        self._progress.update(
            self._embed_task,
            completed=event.tokens_done,
            count=f"{event.chunks_done:,}/{event.chunks_total:,} chunks",
            rate=f"{event.tokens_done / elapsed:,.0f} tokens/s",
        )

    def warn(self, message: str, sink: list[str]) -> None:
        sink.append(message)
        if self._progress is not None:
            self._progress.console.print(f"sleuth: warning: {message}", markup=False)
        else:
            self.env.warn(message)
