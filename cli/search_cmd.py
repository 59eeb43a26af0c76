"""``sleuth search QUERY``."""

from __future__ import annotations

from typing import Annotated

import typer

from sleuth.cli.common import IndexOpt, ModelOpt, ThreadsOpt
from sleuth.cli.env import Env
from sleuth.cli.exitcodes import ExitCode, UsageProblem
from sleuth.cli.filters import build_filter
from sleuth.cli.output import FORMATS, MinScoreOpt, View, render
from sleuth.cli.warm import searcher as warm_searcher
from sleuth.indexer.calibration import default_min_score
from sleuth.indexer.search import MODES, SearchOptions, SearchResult


def search(
    query: Annotated[
        str, typer.Argument(help="What to look for; '-' reads it from stdin.", show_default=False)
    ],
    limit: Annotated[int, typer.Option("--limit", "-k", min=1, help="Number of results.")] = 10,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, semantic or lexical.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines, one hit per line.")] = False,
    files_only: Annotated[
        bool, typer.Option("--files-with-matches", "-l", help="Only the paths, best first.")
    ] = False,
    null: Annotated[
        bool, typer.Option("-0", "--null", help="With -l: end each path with NUL.")
    ] = False,
    fmt: Annotated[
        str | None, typer.Option("--format", help="human, plain, json, files or grep.")
    ] = None,
    min_score: MinScoreOpt = None,
    context: Annotated[
        int, typer.Option("--context", "-C", min=0, help="Extra lines around snippets.")
    ] = 0,
    group: Annotated[bool, typer.Option("--group", help="Group results by file.")] = False,
    globs: Annotated[
        list[str] | None,
        typer.Option("--glob", "-g", help="Only paths matching (repeatable, !negates)."),
    ] = None,
    types: Annotated[
        list[str] | None,
        typer.Option(
            "--type", "-t", help="Only these kinds: md, pdf, code, text, html, … or a suffix."
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only files modified on/after DATE.")
    ] = None,
    changed_within: Annotated[
        str | None,
        typer.Option("--changed-within", help="Only files modified within e.g. 7d, 12h."),
    ] = None,
    path_prefix: Annotated[
        list[str] | None, typer.Option("--path-prefix", help="Only files under this path.")
    ] = None,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch",
            help="One query per input line (stdin or '-'); JSON Lines tagged with the query.",
        ),
    ] = False,
    candidates: Annotated[
        int | None,
        typer.Option(
            "--candidates",
            min=1,
            max=1000,
            help="Most chunks re-embedded per query (default: 20 compact and fast, "
            "25 minimal, 60 minimal with sign bits).",
        ),
    ] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Print timings to stderr.")] = False,
    index_name: IndexOpt = None,
    model: ModelOpt = None,
    threads: ThreadsOpt = None,
) -> None:
    """Search the index; exit 0 with results, 1 without, 2 on error."""
    env = Env.current()
    if mode not in MODES:
        raise UsageProblem(f"--mode must be one of {', '.join(MODES)}")
    chosen = fmt or ("json" if as_json or batch else "files" if files_only else None)
    if chosen is None:
        chosen = "human" if env.stdout_tty else "plain"
    if chosen not in FORMATS:
        raise UsageProblem(f"--format must be one of {', '.join(FORMATS)}")
    queries = _queries(env, query, batch)
    scope = build_filter(
        globs or (), types or (), since, changed_within, path_prefix or (), cwd=env.cwd
    )
    options = SearchOptions(limit=limit, mode=mode, candidates=candidates, scope=scope)
    floor = default_min_score() if min_score is None else min_score
    view = View(format=chosen, context=context, group=group, null=null, min_score=floor)
    found = 0
    with warm_searcher(index_name, model, threads) as searcher:
        for q in queries:
            result = searcher.search(q, options)
            found += render_result(env, view, q, result, batch=batch, explain=explain)
    raise typer.Exit(exit_code(found))


def render_result(
    env: Env, view: View, query: str, result: SearchResult, *, batch: bool, explain: bool
) -> int:
    """Everything one query prints (hits on stdout; notices, timings on stderr); returns the
    number of hits shown. ``--batch`` exits 1 only when no query showed any hit."""
    shown = render(env, result.hits, query, view, tag=query if batch else None)
    _report(env, result, explain)
    return shown


def exit_code(shown: int) -> ExitCode:
    return ExitCode.OK if shown else ExitCode.NO_RESULTS


def _queries(env: Env, query: str, batch: bool) -> list[str]:
    if batch:
        text = env.stdin.read() if query == "-" else query
        queries = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        queries = [(env.stdin.read() if query == "-" else query).strip()]
    if not queries or not all(queries):
        raise UsageProblem("the query is empty")
    return queries


def _report(env: Env, result: SearchResult, explain: bool) -> None:
    if result.waiting:
        ready = result.chunks - result.waiting
        env.warn(
            f"the dense index is still being built ({ready:,} of {result.chunks:,} chunks "
            "embedded): semantic matches among the rest are not found yet"
        )
    if result.stale:
        env.warn(
            f"{result.stale} results skipped: their files changed since indexing "
            "(run 'sleuth index' again)"
        )
    if explain:
        t = result.timings
        print(
            f"sleuth: timings: embed-query {t.embed_query * 1000:.0f} ms, "
            f"ann {t.ann * 1000:.0f} ms, "
            f"recompute {t.recompute * 1000:.0f} ms ({t.recomputed} embedded, {t.cached} cached), "
            f"lexical {t.lexical * 1000:.0f} ms, catalog {t.catalog * 1000:.0f} ms, "
            f"nearby {t.nearby * 1000:.0f} ms, fuse {t.fuse * 1000:.1f} ms",
            file=env.stderr,
        )
