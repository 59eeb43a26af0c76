"""``sleuth status``: what an index holds, how big it is, and whether it is consistent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from sleuth.cli.common import IndexOpt, JsonOpt, location, open_existing
from sleuth.cli.env import Env
from sleuth.cli.exitcodes import ExitCode
from sleuth.indexer.llama_build import describe_installed
from sleuth.store.index import check_consistency


def _stale(files: dict[str, tuple[int, int]]) -> list[str]:
    stale = []
    for path, (size, mtime_ns) in files.items():
        try:
            st = Path(path).stat()
        except OSError:
            stale.append(path)
            continue
        if st.st_size != size or st.st_mtime_ns != mtime_ns:
            stale.append(path)
    return sorted(stale)


def status(
    index_name: IndexOpt = None,
    as_json: JsonOpt = False,
    check: Annotated[
        bool, typer.Option("--check", help="Verify catalog and vector index agree.")
    ] = False,
) -> None:
    """Show what the index holds: files, chunks, size on disk, stale files, model."""
    env = Env.current()
    loc = location(index_name)
    index = open_existing(loc)
    try:
        with index.snapshot():
            generation = index.generation
            by_kind = index.catalog.counts_by_kind()
            files, chunks = index.catalog.counts()
            waiting = index.catalog.pending_count()
            roots = index.catalog.roots()
            known = {p: (r.size, r.mtime_ns) for p, r in index.catalog.files().items()}
            problems = check_consistency(index) if check else []
            foot = index.footprint()
    finally:
        index.close()
    raw = sum(b for _, _, b in by_kind.values())
    stale = _stale(known)
    m = index.manifest
    info: dict[str, object] = {
        "index": loc.name,
        "directory": str(loc.directory),
        "files": files,
        "chunks": chunks,
        "chunks_waiting": waiting,  # committed, not embedded yet (a first index under way)
        "raw_bytes": raw,
        "footprint": foot.as_dict(),
        "footprint_ratio": round(foot.total / raw, 4) if raw else None,
        "by_kind": {k: {"files": f, "chunks": c, "bytes": b} for k, (f, c, b) in by_kind.items()},
        "roots": roots,
        "stale": stale,
        "model": {
            "name": m.model.name,
            "sha256": m.model.sha256,
            "dims": m.model.dims,
            "pooling": m.model.pooling,
        },
        "storage": m.storage,
        "generation": generation,
        "llama_cpp": describe_installed(),
    }
    if check:
        info["consistent"] = not problems
        info["problems"] = problems
    if as_json:
        print(json.dumps(info), file=env.stdout)
    else:
        _panel(env, info, by_kind, foot.as_dict(), raw)
    if problems:
        for problem in problems:
            env.error(f"inconsistent index: {problem}")
        raise typer.Exit(ExitCode.ERROR)


def _mib(n: int) -> str:
    return f"{n / 1048576:.2f} MiB" if n >= 1048576 else f"{n / 1024:.1f} KiB"


def _panel(
    env: Env,
    info: dict[str, object],
    by_kind: dict[str, tuple[int, int, int]],
    foot: dict[str, int],
    raw: int,
) -> None:
    console = env.out_console()
    table = Table(box=None, show_header=True, header_style="bold")
    table.add_column("type")
    table.add_column("files", justify="right")
    table.add_column("chunks", justify="right")
    table.add_column("size", justify="right")
    for kind, (f, c, b) in by_kind.items():
        table.add_row(kind, str(f), str(c), _mib(b))
    ratio = f"{foot['total'] / raw:.2f}x raw" if raw else "n/a"
    stale = info["stale"]
    assert isinstance(stale, list)
    model = info["model"]
    assert isinstance(model, dict)
    roots = info["roots"]
    assert isinstance(roots, list)
    lines = [
        f"[bold]index[/] {info['index']}  [dim]{info['directory']}[/]",
        f"[bold]model[/] {model['name']} ({model['dims']} dims, sha256 {model['sha256'][:12]})",
        f"[bold]storage[/] {info['storage']}",
        f"[bold]llama.cpp[/] {info['llama_cpp']}",
        f"[bold]files[/] {info['files']}  [bold]chunks[/] {info['chunks']}  "
        f"[bold]raw[/] {_mib(raw)}"
        + (f"  [bold]still to embed[/] {info['chunks_waiting']}" if info["chunks_waiting"] else ""),
        f"[bold]on disk[/] {_mib(foot['total'])} ({ratio}): catalog {_mib(foot['catalog'])}, "
        f"lexical {_mib(foot['lexical'])}, text {_mib(foot['text'])}, "
        f"vectors {_mib(foot['vectors'])}, "
        f"cache {_mib(foot['cache'])}",
        "[bold]roots[/] " + ", ".join(str(r) for r in roots),
        f"[bold]stale[/] {len(stale)} file(s) changed since indexing"
        + (": " + ", ".join(stale[:5]) if stale else ""),
    ]
    if "consistent" in info:
        lines.append(
            "[bold]check[/] " + ("consistent" if info["consistent"] else "[red]INCONSISTENT[/]")
        )
    console.print(Panel("\n".join(lines), title="sleuth status", expand=False))
    console.print(table)
