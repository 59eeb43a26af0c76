"""``sleuth similar FILE``: passages or files most like a given file or part of one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from sleuth.cli.common import IndexOpt, ModelOpt, ThreadsOpt
from sleuth.cli.env import Env
from sleuth.cli.exitcodes import ExitCode, UsageProblem
from sleuth.cli.output import FORMATS, MinScoreOpt, View, render
from sleuth.cli.warm import searcher as warm_searcher
from sleuth.extractors.base import Document
from sleuth.extractors.registry import extract
from sleuth.indexer.calibration import default_min_score
from sleuth.indexer.chunking import Chunker
from sleuth.indexer.search import SearchOptions
from sleuth.indexer.source import stored_text


def parse_lines(text: str) -> tuple[int, int]:
    start, _, end = text.partition("-")
    if not start.isdigit() or (end and not end.isdigit()):
        raise UsageProblem(f"--lines takes A-B or A (1-based): {text!r}")
    first, last = int(start), int(end or start)
    if first < 1 or last < first:
        raise UsageProblem(f"--lines range is empty: {text!r}")
    return first, last


def _extracted(path: Path) -> tuple[str, str]:
    doc = extract(path)
    return doc.text, doc.kind


def similar(
    path: Annotated[Path, typer.Argument(help="A file, indexed or not.", show_default=False)],
    lines: Annotated[str | None, typer.Option("--lines", help="Only lines A-B of FILE.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-k", min=1)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines.")] = False,
    files_only: Annotated[bool, typer.Option("--files-with-matches", "-l")] = False,
    null: Annotated[bool, typer.Option("-0", "--null")] = False,
    fmt: Annotated[str | None, typer.Option("--format")] = None,
    include_self: Annotated[
        bool, typer.Option("--include-self", help="Keep FILE's own chunks.")
    ] = False,
    min_score: MinScoreOpt = None,
    index_name: IndexOpt = None,
    model: ModelOpt = None,
    threads: ThreadsOpt = None,
) -> None:
    """Find what is most similar to FILE (or lines of it)."""
    env = Env.current()
    chosen = fmt or ("json" if as_json else "files" if files_only else None)
    chosen = chosen or ("human" if env.stdout_tty else "plain")
    if chosen not in FORMATS:
        raise UsageProblem(f"--format must be one of {', '.join(FORMATS)}")
    full = env.path(path)  # the caller's directory, which a server's process does not share
    if not full.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    me = str(full.absolute())
    with warm_searcher(index_name, model, threads) as searcher:
        index = searcher.index
        # An indexed PDF (DOCX, ...) that has not changed: its stored text, no extraction.
        with index.snapshot():
            found = stored_text(index.catalog, me)
        text, kind = found if found is not None else _extracted(full)
        if lines:
            first, last = parse_lines(lines)
            text = "".join(text.splitlines(keepends=True)[first - 1 : last])
        if not text.strip():
            raise UsageProblem(f"nothing to compare: {path} has no text in that range")
        embedder = searcher.embedder
        # A long file is the mean of its chunks' embeddings: no part of it is cut off.
        chunker = Chunker(embedder.tokenize, embedder.max_tokens, overlap=0)
        pieces = [c.embed_text for c in chunker.split(Document(text=text, kind=kind))]
        vectors = embedder.embed(pieces or [text])
        query = vectors.mean(axis=0)
        query = (query / max(float(np.linalg.norm(query)), 1e-12)).astype(np.float32)
        keep = None if include_self else (lambda c: c.file.path != me)
        options = SearchOptions(
            limit=limit, mode="semantic", candidates=max(20, limit * 2), chunk_filter=keep
        )
        result = searcher.search_vector(query, options)
    floor = default_min_score() if min_score is None else min_score
    view = View(format=chosen, null=null, min_score=floor)
    shown = render(env, result.hits, text[:2000], view)
    raise typer.Exit(ExitCode.OK if shown else ExitCode.NO_RESULTS)
