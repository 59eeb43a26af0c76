"""Pieces every command shares: option types, the index location, the embedder factory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sleuth.cli.env import Env
from sleuth.cli.interrupts import held_interrupts
from sleuth.cli.preload import take
from sleuth.indexer.embedder import Embedder, LlamaEmbedder
from sleuth.indexer.model import resolve_model
from sleuth.store.errors import IndexMissingError
from sleuth.store.index import Index, index_exists
from sleuth.store.paths import IndexLocation, resolve_index

if TYPE_CHECKING:  # discovery (~60 ms of imports) is for index and watch, not for search
    from sleuth.indexer.discovery import DiscoveryOptions

IndexOpt = Annotated[
    str | None,
    typer.Option(
        "--index",
        "-i",
        metavar="NAME",
        # No envvar here: store.paths reads SLEUTH_INDEX, from the environment of whoever
        # asked (a server resolves its client's), not from this process's.
        help="Index name (default: the project's .sleuth/ if any, else 'default').",
    ),
]
ModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--model", metavar="FILE.gguf", help="GGUF embedding model (default: shipped MiniLM)."
    ),
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        "--threads", min=1, max=256, help="CPU threads for the model (env SLEUTH_THREADS)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or warnings.")]
HiddenOpt = Annotated[bool, typer.Option("--hidden", help="Include hidden files and folders.")]
FollowOpt = Annotated[bool, typer.Option("--follow", "-L", help="Follow symbolic links.")]
NoIgnoreOpt = Annotated[
    bool, typer.Option("--no-ignore", help="Ignore .gitignore/.sleuthignore rules.")
]
AllTextOpt = Annotated[
    bool,
    typer.Option(
        "--all-text",
        help="Also index lockfiles, minified, generated and data-dump files (skipped by default).",
    ),
]
MaxSizeOpt = Annotated[str, typer.Option("--max-size", help="Skip files larger than this.")]
DEFAULT_MAX_SIZE = "10M"


def parse_size(text: str) -> int:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = value[-1:] if value[-1:] in units else ""
    number = value[: len(value) - len(unit)]
    try:
        size = int(float(number) * units[unit])
    except ValueError:
        raise typer.BadParameter(f"not a size: {text!r} (try 500K, 10M, 1G)") from None
    if size <= 0:
        raise typer.BadParameter("size must be positive")
    return size


def discovery_options(
    hidden: bool, follow: bool, no_ignore: bool, max_size: str, all_text: bool = False
) -> DiscoveryOptions:
    from sleuth.indexer.discovery import DiscoveryOptions

    return DiscoveryOptions(
        hidden=hidden,
        follow_symlinks=follow,
        max_size=parse_size(max_size),
        respect_ignore_files=not no_ignore,
        all_text=all_text,
    )


def require_paths(paths: list[Path]) -> None:
    """Fail before any work (or model load) when a named path does not exist."""
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise FileNotFoundError(2, "No such file or directory", str(path))


def make_embedder(model: Path | None, threads: int | None) -> Embedder:
    """The model, loaded with Ctrl-C held: loading imports llama.cpp and reads package
    resources, and a Ctrl-C that lands inside an import can vanish (``cli.interrupts``): the
    run would go on to the end and exit 0. Held, it waits the fraction of a second the load
    takes, then interrupts as anywhere else."""
    with held_interrupts() as interrupted:
        embedder = LlamaEmbedder(resolve_model(model), threads=threads, loaded=take(model, threads))
    if interrupted():
        raise KeyboardInterrupt
    return embedder


def location(name: str | None) -> IndexLocation:
    env = Env.current()
    return resolve_index(name, env.cwd, env.environ)


def open_existing(loc: IndexLocation) -> Index:
    if not index_exists(loc.directory):
        flag = "" if loc.name == "default" or loc.project_local else f" --index {loc.name}"
        raise IndexMissingError(
            f"no index named '{loc.name}' yet; create it with: sleuth index{flag} PATH"
        )
    return Index.open(loc.directory, readonly=False)
