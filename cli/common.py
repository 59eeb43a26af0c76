"""Pieces every command shares: option types, the index location, the embedder factory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sleuth.indexer.embedder import Embedder, LlamaEmbedder
from sleuth.indexer.model import resolve_model
from sleuth.store.errors import IndexMissingError
from sleuth.store.index import Index, index_exists
from sleuth.store.paths import IndexLocation, resolve_index

IndexOpt = Annotated[
    str | None,
    typer.Option(
        "--index",
        "-i",
        metavar="NAME",
        envvar="SLEUTH_INDEX",
        show_envvar=False,
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


def make_embedder(model: Path | None, threads: int | None) -> Embedder:
    return LlamaEmbedder(resolve_model(model), threads=threads)


def location(name: str | None) -> IndexLocation:
    return resolve_index(name)


def open_existing(loc: IndexLocation) -> Index:
    if not index_exists(loc.directory):
        flag = "" if loc.name == "default" or loc.project_local else f" --index {loc.name}"
        raise IndexMissingError(
            f"no index named '{loc.name}' yet; create it with: sleuth index{flag} PATH"
        )
    return Index.open(loc.directory, readonly=False)
