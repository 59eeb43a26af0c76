"""Section ``serve`` (issue 13): ``sleuth search`` with and without a warm ``sleuth serve``.

On corpus S, side by side, wall time from process start to exit (``python -m sleuth.cli
search QUERY --json``, so the tiny client in ``cli.entry`` runs):

- *warm*: the same query again (in-process: its query embedding and candidates cached on
  disk; with the server: the same, in memory and on disk);
- *new text*: a query text not seen before whose candidates are cached (the query
  upper-cased; MiniLM is uncased): in-process pays a model load, the server one embedding;
- *cold*: nothing cached (the recompute cache dropped): in-process before each query, for
  the server once before it starts, on queries of its own, after one warm-up query.

Then the MCP ``search`` tool called from the SDK's stdio client, p50 of the second call of
each query, with the server running and without (the mcp process's own warm searcher); 100
clients at once (real CLI processes) checked against the in-process answers, with the
server's RSS before and after; and ``kill -9`` of the server followed by a CLI call.
"""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import (
    Config,
    Json,
    emit,
    log,
    p50_p95,
    run_measured,
    sleuth_cmd,
    sleuth_env,
    table,
)
from bench.corpora import docstring_queries
from bench.latency import drop_cache, indexes
from sleuth.cli.client import ping

CONCURRENT = 100


def run(config: Config) -> Json:
    corpus, compact, _full = indexes(config)
    count = 8 if config.quick else 20
    pool = docstring_queries(corpus, count * 3)
    warm_q, cold_server_q, cold_alone_q = pool[:count], pool[count : 2 * count], pool[2 * count :]
    env = sleuth_env(compact.parent.parent, config.threads)
    alone_env = {**env, "SLEUTH_SERVER": "off"}
    name = compact.name
    log(f"serve: {count} queries per row on {compact}")

    def search(query: str, e: dict[str, str]) -> tuple[float, str]:
        done = run_measured(sleuth_cmd("search", query, "--json", "--index", name), e)
        if done.returncode not in (0, 1):
            raise RuntimeError(f"sleuth search exited {done.returncode}: {done.stderr[-500:]}")
        return done.seconds, done.stdout

    alone_warm, alone_new, alone_cold, expected = [], [], [], {}
    for q in warm_q:
        search(q, alone_env)
        seconds, expected[q] = search(q, alone_env)
        alone_warm.append(seconds)
        alone_new.append(search(q.upper(), alone_env)[0])
    for q in cold_alone_q:
        drop_cache(compact)
        alone_cold.append(search(q, alone_env)[0])

    drop_cache(compact)
    server = subprocess.Popen(
        sleuth_cmd("serve", "--index", name, "--quiet"), env=env, stderr=subprocess.PIPE
    )
    try:
        _wait(compact, server)
        rss_start = _rss(server.pid)
        search("warm-up: load the model", env)
        served_cold = [search(q, env)[0] for q in cold_server_q]
        served_warm, served_new, mismatches = [], [], 0
        for q in warm_q:
            search(q, env)
            seconds, out = search(q, env)
            served_warm.append(seconds)
            mismatches += out != expected[q]
            served_new.append(search(q.upper() + " ", env)[0])
        mcp_served = _mcp_p50(env, name, warm_q)
        rss_before = _rss(server.pid)
        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENT) as threads:
            outs = list(threads.map(lambda i: search(warm_q[i % count], env)[1], range(CONCURRENT)))
        burst = time.perf_counter() - started
        rss_after = _rss(server.pid)
        wrong = sum(out != expected[warm_q[i % count]] for i, out in enumerate(outs))
        server.kill()
        server.wait()
        seconds, out = search(warm_q[0], env)
        after_kill = {"seconds": round(seconds, 3), "same_answer": out == expected[warm_q[0]]}
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stderr:
            server.stderr.close()
    mcp_alone = _mcp_p50(env, name, warm_q)

    def ms(values: list[float]) -> list[float]:
        stats = p50_p95(values)
        return [stats["p50"] * 1000, stats["p95"] * 1000]

    def ratio(a: list[float], b: list[float]) -> float:
        return round(p50_p95(a)["p50"] / max(p50_p95(b)["p50"], 1e-9), 1)

    rows: list[list[object]] = [
        ["sleuth search, warm (same query again)", *ms(alone_warm), *ms(served_warm)],
        ["sleuth search, new query text", *ms(alone_new), *ms(served_new)],
        ["sleuth search, cold (nothing cached)", *ms(alone_cold), *ms(served_cold)],
        ["MCP search tool call (warm, from client)", *ms(mcp_alone), *ms(mcp_served)],
    ]
    emit(
        table(
            f"sleuth search with and without sleuth serve ({count} queries, {corpus.name})",
            ["what", "alone p50 ms", "alone p95 ms", "server p50 ms", "server p95 ms"],
            rows,
        )
    )
    emit(
        f"warm speed-up {ratio(alone_warm, served_warm)}x (target: <= 150 ms p50 with a "
        f"server); MCP call target <= 50 ms p50; served answers differing from in-process: "
        f"{mismatches}"
    )
    emit(
        f"{CONCURRENT} concurrent CLI clients: {CONCURRENT - wrong} right, {wrong} wrong, "
        f"{burst:.1f} s in all; server RSS {rss_start // 1024} MiB at start, "
        f"{rss_before // 1024} MiB before the burst, {rss_after // 1024} MiB after"
    )
    emit(
        f"after kill -9: next sleuth search answered in-process in {after_kill['seconds']} s, "
        f"same answer: {after_kill['same_answer']}"
    )
    return {
        "corpus": corpus.name,
        "queries": count,
        "alone": {
            "warm": p50_p95(alone_warm),
            "new_text": p50_p95(alone_new),
            "cold": p50_p95(alone_cold),
            "mcp_call": p50_p95(mcp_alone),
        },
        "server": {
            "warm": p50_p95(served_warm),
            "new_text": p50_p95(served_new),
            "cold": p50_p95(served_cold),
            "mcp_call": p50_p95(mcp_served),
            "answers_differing": mismatches,
        },
        "concurrent": {
            "clients": CONCURRENT,
            "wrong": wrong,
            "seconds": round(burst, 2),
            "rss_kib_start": rss_start,
            "rss_kib_before": rss_before,
            "rss_kib_after": rss_after,
        },
        "after_kill_9": after_kill,
    }


def _wait(directory: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while ping(directory) is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("sleuth serve did not start")
        time.sleep(0.05)


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _mcp_p50(env: dict[str, str], name: str, queries: list[str]) -> list[float]:
    """Seconds of the second ``search`` call of each query, from the SDK's stdio client."""
    import anyio
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "sleuth.cli", "mcp", "--index", name], env=env
    )

    async def talk() -> list[float]:
        times: list[float] = []
        async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            for query in queries:
                args: dict[str, Any] = {"query": query, "k": 10}
                await s.call_tool("search", args)
                started = time.perf_counter()
                result = await s.call_tool("search", args)
                times.append(time.perf_counter() - started)
                if result.isError:
                    raise RuntimeError(f"MCP search failed: {result.content}")
        return times

    return anyio.run(talk)
