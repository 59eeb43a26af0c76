"""``sleuth mcp`` end to end with the SDK's own stdio client and the real model."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import EXAMPLES
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from servers import cli, environ, requests, running

from sleuth.store.paths import resolve_index

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    home = tmp_path_factory.mktemp("mcp-home")
    corpus = tmp_path_factory.mktemp("mcp-corpus") / "examples"
    shutil.copytree(EXAMPLES, corpus)
    env = environ(SLEUTH_HOME=str(home), SLEUTH_INDEX=None, SLEUTH_SERVER=None)
    done = cli("index", str(corpus), "--quiet", env=env)
    assert done.returncode == 0, done.stderr
    yield corpus, env


def session_calls(
    env: dict[str, str], cwd: Path, calls: list[tuple[str, dict[str, Any]]], *flags: str
) -> tuple[list[str], list[Any]]:
    """(tool names, results of ``calls`` in order) from one ``sleuth mcp`` session."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "sleuth.cli", "mcp", *flags],
        env=env,
        cwd=str(cwd),
    )

    async def talk() -> tuple[list[str], list[Any]]:
        async with (
            stdio_client(params) as (read, write),
            ClientSession(read, write) as session,
        ):
            init = await session.initialize()
            assert init.serverInfo.name == "sleuth"
            names = [t.name for t in (await session.list_tools()).tools]
            results = [await session.call_tool(name, args) for name, args in calls]
            return names, results

    return anyio.run(talk)


def structured(result: Any) -> dict[str, Any]:
    assert not result.isError, result.content
    data: dict[str, Any] = result.structuredContent
    return data


def test_initialize_list_search_read_status(indexed: tuple[Path, dict[str, str]]) -> None:
    corpus, env = indexed
    pdf = str(corpus / "docs" / "travel-policy.pdf")
    names, results = session_calls(
        env,
        corpus,
        [
            ("search", {"query": "how do I reset a forgotten password", "k": 3}),
            ("search", {"query": "how much does the company pay for a hotel night", "k": 1}),
            ("search", {"query": "football transfer window rumours"}),
            ("search", {"query": "password", "kind": ["code"], "min_score": 0, "k": 2}),
            ("status", {}),
            ("read", {"path": "/etc/passwd"}),
            ("search", {"query": "x", "k": 0}),
        ],
    )
    assert set(names) == {"search", "similar", "status", "read"}  # no index tool by default
    first = structured(results[0])
    assert Path(first["hits"][0]["path"]).name == "account-recovery.md"
    for key in ("path", "line_start", "line_end", "page", "snippet", "score", "similarity"):
        assert key in first["hits"][0]
    hotel = structured(results[1])["hits"][0]
    assert hotel["path"] == pdf and hotel["page"] == 2
    nothing = structured(results[2])
    assert nothing["hits"] == [] and "no relevant results" in nothing["notes"][0]
    code = structured(results[3])["hits"]
    assert len(code) == 2 and {h["kind"] for h in code} == {"code"}
    assert structured(results[4])["files"] == 7
    assert results[5].isError and "not in the index" in results[5].content[0].text
    assert results[6].isError  # k below 1: the input schema refuses it

    # The PDF hit's lines, read back from the stored text (no extraction at query time).
    _, (read,) = session_calls(
        env,
        corpus,
        [("read", {"path": pdf, "line_start": hotel["line_start"], "line_end": hotel["line_end"]})],
    )
    lines = structured(read)
    assert lines["kind"] == "pdf" and not lines["stale"]
    assert "150 euros" in lines["text"]
    assert lines["line_end"] - lines["line_start"] + 1 == len(lines["text"].split("\n"))


def test_similar_and_an_index_tool_only_when_allowed(
    indexed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    corpus, env = indexed
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "chess.md").write_text("# Openings\n\nThe Sicilian Defence answers 1.e4 with c5.\n")
    names, results = session_calls(
        env,
        corpus,
        [
            ("similar", {"path": "notes/account-recovery.md", "k": 3, "min_score": 0}),
            ("index", {"paths": [str(extra)]}),
            ("search", {"query": "Sicilian Defence chess opening", "k": 1}),
        ],
        "--allow-index",
    )
    assert "index" in names
    similar = structured(results[0])["hits"]
    assert similar and all(Path(h["path"]).name != "account-recovery.md" for h in similar)
    assert structured(results[1])["files_indexed"] == 1
    assert Path(structured(results[2])["hits"][0]["path"]).name == "chess.md"


def test_uses_the_warm_server_when_one_runs(indexed: tuple[Path, dict[str, str]]) -> None:
    corpus, env = indexed
    directory = resolve_index(None, corpus, env).directory
    with running(directory, env=env, cwd=corpus):
        before = requests(directory)
        _, results = session_calls(
            env, corpus, [("search", {"query": "sourdough starter", "k": 1}), ("status", {})]
        )
        assert requests(directory) == before + 2
    assert Path(structured(results[0])["hits"][0]["path"]).name == "sourdough.txt"


def test_stdout_carries_nothing_but_the_protocol(indexed: tuple[Path, dict[str, str]]) -> None:
    corpus, env = indexed
    request = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "0"},
        },
    }
    done = cli("mcp", cwd=corpus, env=env, stdin=(json.dumps(request) + "\n").encode())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert lines and all(json.loads(line)["jsonrpc"] == "2.0" for line in lines)
