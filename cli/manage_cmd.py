"""Index housekeeping: ``list``, ``forget``, ``drop`` and ``init`` (project-local index)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sleuth.cli.common import IndexOpt, JsonOpt, location, open_existing
from sleuth.cli.env import Env
from sleuth.cli.exitcodes import UsageProblem
from sleuth.indexer.plan import in_scope
from sleuth.store.errors import IndexMissingError, StoreError
from sleuth.store.index import Batch, Index, index_exists
from sleuth.store.lock import WriteLock
from sleuth.store.paths import (
    PROJECT_DIR,
    find_project_dir,
    indexes_dir,
    make_private_dir,
    validate_name,
)


def _describe(name: str, directory: Path, project: bool) -> dict[str, object]:
    try:
        index = Index.open(directory, readonly=True)
    except StoreError as exc:
        # One unreadable index must not hide the others.
        return {
            "name": name,
            "directory": str(directory),
            "project_local": project,
            "error": str(exc),
        }
    try:
        files, chunks = index.catalog.counts()
        footprint = index.footprint().total
        roots = index.catalog.roots()
    finally:
        index.close()
    return {
        "name": name,
        "directory": str(directory),
        "project_local": project,
        "files": files,
        "chunks": chunks,
        "bytes": footprint,
        "storage": index.manifest.storage,
        "roots": roots,
    }


def list_indexes(as_json: JsonOpt = False) -> None:
    """List the named indexes (and the project-local one, if any)."""
    env = Env.current()
    found: list[dict[str, object]] = []
    base = indexes_dir()
    if base.is_dir():
        for directory in sorted(p for p in base.iterdir() if index_exists(p)):
            found.append(_describe(directory.name, directory, project=False))
    project = find_project_dir()
    if project is not None and index_exists(project):
        found.append(_describe(f"project:{project.parent}", project, project=True))
    if as_json:
        for item in found:
            print(json.dumps(item), file=env.stdout)
        return
    if not env.stdout_tty:
        for item in found:
            counts = "-\t-" if "error" in item else f"{item['files']}\t{item['chunks']}"
            print(f"{item['name']}\t{counts}\t{item['directory']}", file=env.stdout)
        return
    table = Table(
        "index", "files", "chunks", "size", "storage", "roots", box=None, header_style="bold"
    )
    for item in found:
        if "error" in item:
            table.add_row(str(item["name"]), "-", "-", "-", "-", f"unreadable: {item['error']}")
            continue
        size = int(str(item["bytes"]))
        roots = item["roots"]
        assert isinstance(roots, list)
        table.add_row(
            str(item["name"]),
            str(item["files"]),
            str(item["chunks"]),
            f"{size / 1048576:.2f} MiB",
            str(item["storage"]),
            ", ".join(roots),
        )
    env.out_console().print(table)


def forget(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to remove from the index.")],
    index_name: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove files under PATH… from the index (the files themselves are not touched)."""
    env = Env.current()
    index = open_existing(location(index_name))
    scopes = [str(p.absolute()) for p in paths]
    try:
        with index.writer() as writer:
            doomed = sorted(p for p in index.catalog.files() if in_scope(p, scopes))
            result = writer.commit(Batch(removals=doomed))
    finally:
        index.close()
    if as_json:
        print(
            json.dumps({"files_removed": len(doomed), "chunks_removed": result.chunks_removed}),
            file=env.stdout,
        )
    else:
        print(
            f"sleuth: forgot {len(doomed)} files ({result.chunks_removed} chunks)", file=env.stderr
        )


def drop(name: Annotated[str, typer.Argument(help="Name of the index to delete.")]) -> None:
    """Delete a named index and everything in it."""
    env = Env.current()
    directory = indexes_dir() / validate_name(name)
    if not directory.exists():
        raise IndexMissingError(f"no index named '{name}'")
    with WriteLock(directory):
        shutil.rmtree(directory)
    print(f"sleuth: dropped index '{name}'", file=env.stderr)


def init(
    directory: Annotated[Path, typer.Argument(help="Project folder (default: here).")] = Path(),
) -> None:
    """Make DIRECTORY a project: commands run inside it use DIRECTORY/.sleuth/ as their index."""
    env = Env.current()
    if not directory.is_dir():
        raise UsageProblem(f"not a folder: {directory}")
    target = directory.absolute() / PROJECT_DIR
    make_private_dir(target)
    print(
        f"sleuth: project index at {target}; run 'sleuth index .' inside {directory}",
        file=env.stderr,
    )
