"""Rendering hits: a rich view for people, stable line formats and JSON Lines for scripts."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import typer

from sleuth.cli.env import Env
from sleuth.cli.snippets import Snippet, best_window, query_terms, with_context
from sleuth.indexer.chunking import full_context
from sleuth.indexer.search import Hit

Format = Literal["human", "plain", "json", "files", "grep"]
MinScoreOpt = Annotated[
    float | None,
    typer.Option(
        "--min-score",
        min=0.0,
        max=1.0,
        help="Relevance floor: hide hits scoring below it (0 shows everything).",
        show_default="calibrated",
    ),
]
FORMATS: tuple[Format, ...] = ("human", "plain", "json", "files", "grep")


@dataclass(frozen=True, slots=True)
class View:
    format: Format
    context: int = 0
    group: bool = False
    null: bool = False
    min_score: float = 0.0  # the relevance floor: hits scoring below it are not shown


def shown(hits: Sequence[Hit], view: View) -> list[Hit]:
    """The hits ``view`` shows, in order: those reaching the floor, each file's together
    with ``group``. Hits arrive in score order, so the floor keeps a prefix."""
    kept = [h for h in hits if h.score >= view.min_score]
    if view.group:
        order: dict[str, list[Hit]] = {}
        for hit in kept:
            order.setdefault(hit.path, []).append(hit)
        kept = [h for group_hits in order.values() for h in group_hits]
    return kept


def nothing_relevant(hits: Sequence[Hit], tag: str | None = None) -> str:
    """The stderr line for a query whose every hit fell below the floor."""
    about = "" if tag is None else f" for {json.dumps(tag, ensure_ascii=False)}"
    if not hits:
        return f"no results{about}"
    best = math.floor(max(h.score for h in hits) * 100) / 100  # never shown above the floor
    return f"no relevant results{about} (best score {best:.2f}; --min-score 0 shows everything)"


def display_path(path: str, cwd: Path | None = None) -> str:
    """``path`` relative to ``cwd`` (the caller's directory) when it lies below it."""
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def snippet_of(hit: Hit, query: str, context: int) -> Snippet:
    first = hit.chunk.chunk.line_start
    window = best_window(hit.text, first, query)
    return with_context(hit.text, first, window, context)


def hit_record(hit: Hit, query: str, context: int = 0, tag: str | None = None) -> dict[str, object]:
    c = hit.chunk.chunk
    snip = snippet_of(hit, query, context)
    record: dict[str, object] = {
        "path": hit.path,
        "score": round(hit.score, 6),
        "line_start": c.line_start,
        "line_end": c.line_end,
        "page": c.page,
        "snippet": snip.text,
        "snippet_line": snip.first_line,
        "chunk_id": hit.chunk.id,
        "mode": hit.mode,
        "similarity": None if hit.similarity is None else round(hit.similarity, 6),
        "coverage": None if hit.coverage is None else round(hit.coverage, 6),
        "nearby_similarity": None
        if hit.nearby_similarity is None
        else round(hit.nearby_similarity, 6),
        "literal": None if hit.literal is None else round(hit.literal, 6),
        "kind": hit.chunk.file.kind,
        "context": full_context(Path(hit.path).name, c.context),
    }
    if tag is not None:
        record["query"] = tag
    return record


def location_label(hit: Hit, cwd: Path | None = None) -> str:
    c = hit.chunk.chunk
    where = f"{c.line_start}" if c.line_start == c.line_end else f"{c.line_start}-{c.line_end}"
    page = f" (page {c.page})" if c.page is not None else ""
    return f"{display_path(hit.path, cwd)}:{where}{page}"


def render(env: Env, hits: Sequence[Hit], query: str, view: View, tag: str | None = None) -> int:
    """Show the hits ``view`` keeps on stdout, or say on stderr that none is relevant.

    Returns how many hits were shown. Depends on its arguments only, so a search answered
    in another process renders exactly as here.
    """
    kept = shown(hits, view)
    if kept:
        emit(env, kept, query, view, tag)
    else:
        print(nothing_relevant(hits, tag), file=env.stderr)
    return len(kept)


def emit(env: Env, hits: Sequence[Hit], query: str, view: View, tag: str | None = None) -> None:
    out = env.stdout
    if view.format == "json":
        for hit in hits:
            out.write(
                json.dumps(hit_record(hit, query, view.context, tag), ensure_ascii=False) + "\n"
            )
    elif view.format == "files":
        seen: dict[str, None] = {}
        for hit in hits:
            seen.setdefault(display_path(hit.path, env.cwd))
        end = "\0" if view.null else "\n"
        for path in seen:
            out.write(path + end)
    elif view.format == "grep":
        for hit in hits:
            snip = snippet_of(hit, query, view.context)
            for offset, line in enumerate(snip.lines):
                out.write(f"{display_path(hit.path, env.cwd)}:{snip.first_line + offset}:{line}\n")
    elif view.format == "plain":
        for hit in hits:
            snip = snippet_of(hit, query, 0)
            first = next((line.strip() for line in snip.lines if line.strip()), "")
            out.write(f"{location_label(hit, env.cwd)}\t{hit.score:.3f}\t{first}\n")
    else:
        _human(env, hits, query, view)
    out.flush()


def _human(env: Env, hits: Sequence[Hit], query: str, view: View) -> None:
    from rich.text import Text  # only the terminal format draws with rich

    console = env.out_console()
    terms = query_terms(query)
    pattern = (
        re.compile(
            r"\b(" + "|".join(map(re.escape, sorted(terms, key=len, reverse=True))) + r")\b", re.I
        )
        if terms
        else None
    )
    last_path = None
    for rank, hit in enumerate(hits, 1):
        if view.group and hit.path == last_path:
            header = Text("   ")
        else:
            header = Text(f"{rank:>2} ", style="dim")
            label = Text(location_label(hit, env.cwd), style="bold cyan")
            if env.color:
                label.stylize(f"link {Path(hit.path).as_uri()}")
            header.append(label)
        header.append(f"  {hit.score:.3f}", style="green")
        if hit.chunk.chunk.context:
            header.append(f"  {hit.chunk.chunk.context}", style="dim")  # the path is shown already
        console.print(header, no_wrap=True, overflow="ellipsis")
        snip = snippet_of(hit, query, view.context)
        for offset, line in enumerate(snip.lines):
            body = Text(f"   {snip.first_line + offset:>5} │ ", style="dim")
            text = Text(line)
            if pattern is not None:
                text.highlight_regex(pattern, style="bold yellow")
            body.append(text)
            console.print(body)
        if not view.group:
            console.print()
        last_path = hit.path
