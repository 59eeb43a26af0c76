"""Search flags for people and scripts, through the CLI, on the examples with the real model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from clirun import sleuth
from conftest import EXAMPLES


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(SLEUTH_HOME, corpus) with the examples indexed once for the whole module."""
    home = tmp_path_factory.mktemp("flags-home")
    corpus = tmp_path_factory.mktemp("flags-corpus") / "examples"
    shutil.copytree(EXAMPLES, corpus)
    old = os.environ.get("SLEUTH_HOME")
    os.environ["SLEUTH_HOME"] = str(home)
    assert sleuth("index", str(corpus), "--quiet").code == 0
    if old is not None:
        os.environ["SLEUTH_HOME"] = old
    yield home, corpus


@pytest.fixture
def corpus(indexed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SLEUTH_HOME", str(indexed[0]))
    monkeypatch.chdir(indexed[1])
    return indexed[1]


def _names(result_out: str) -> list[str]:
    return [Path(json.loads(line)["path"]).name for line in result_out.splitlines()]


def test_files_with_matches_unique_best_first(corpus: Path) -> None:
    result = sleuth("search", "forgotten password reset", "-l")
    lines = result.out.splitlines()
    assert lines[0] == "notes/account-recovery.md"
    assert len(lines) == len(set(lines))
    nul = sleuth("search", "forgotten password reset", "-l", "-0")
    assert nul.out.split("\0")[:-1] == lines
    assert nul.out.endswith("\0")


def test_grep_format_lines_are_real_source_lines(corpus: Path) -> None:
    result = sleuth("search", "exponential backoff", "--format", "grep", "-k", "1")
    assert result.code == 0
    for row in result.out.splitlines():
        path, line, text = row.split(":", 2)
        assert (corpus / path).read_text().splitlines()[int(line) - 1].rstrip() == text


def test_limit_and_min_score(corpus: Path) -> None:
    assert len(sleuth("search", "password", "-k", "2", "--json").json_lines()) == 2
    strict = sleuth("search", "password", "--min-score", "0.99", "--json").json_lines()
    assert all(float(h["score"]) >= 0.99 for h in strict)
    none = sleuth("search", "password", "--min-score", "5")
    assert (none.code, none.out) == (1, "")


def test_query_from_stdin_and_batch(corpus: Path) -> None:
    single = sleuth("search", "-", "--json", "-k", "1", stdin="sourdough starter\n")
    assert _names(single.out) == ["sourdough.txt"]
    batch = sleuth(
        "search", "-", "--batch", "-k", "1", stdin="sourdough starter\ntomato seedlings\n"
    )
    rows = batch.json_lines()
    assert [(r["query"], Path(r["path"]).name) for r in rows] == [
        ("sourdough starter", "sourdough.txt"),
        ("tomato seedlings", "garden.md"),
    ]


def test_glob_type_and_prefix_filters_still_fill_k(corpus: Path) -> None:
    only_md = sleuth("search", "money", "--glob", "*.md", "--json", "-k", "5").json_lines()
    assert only_md and all(h["path"].endswith(".md") for h in only_md)
    no_md = sleuth("search", "money", "--glob", "!*.md", "--json").json_lines()
    assert no_md and not any(h["path"].endswith(".md") for h in no_md)
    code = sleuth("search", "password", "--type", "code", "--json", "-k", "3").json_lines()
    assert code and {h["kind"] for h in code} == {"code"}
    assert len(code) == 3  # filtered queries over-fetch until k pass (code has ≥ 3 chunks)
    pdf = sleuth("search", "password", "--type", "pdf", "--json").json_lines()
    assert {Path(h["path"]).name for h in pdf} == {"travel-policy.pdf"}
    under = sleuth(
        "search", "anything", "--path-prefix", str(corpus / "recipes"), "--json"
    ).json_lines()
    assert {Path(h["path"]).name for h in under} == {"sourdough.txt"}
    nested = sleuth("search", "csv", "--glob", "code/**/*.py", "--json").json_lines()
    assert nested and all("/code/" in h["path"] for h in nested)


def test_time_filters(corpus: Path) -> None:
    assert sleuth("search", "password", "--changed-within", "3650d").code == 0
    future = sleuth("search", "password", "--since", "2999-01-01")
    assert (future.code, future.out) == (1, "")
    bad = sleuth("search", "password", "--since", "yesterday-ish")
    assert bad.code == 2 and "not a date" in bad.err
    bad = sleuth("search", "password", "--changed-within", "soon")
    assert bad.code == 2 and "not a duration" in bad.err


def test_context_and_group(corpus: Path) -> None:
    plain = sleuth("search", "locked account", "--format", "grep", "-k", "1")
    wide = sleuth("search", "locked account", "--format", "grep", "-k", "1", "-C", "2")
    assert len(wide.out.splitlines()) > len(plain.out.splitlines())
    grouped = [
        Path(h["path"]).name for h in sleuth("search", "password", "--group", "--json").json_lines()
    ]
    seen: list[str] = []
    for name in grouped:
        if not seen or seen[-1] != name:
            assert name not in seen, "a file's hits must be contiguous with --group"
            seen.append(name)


def test_similar_to_file_and_lines(corpus: Path) -> None:
    result = sleuth("similar", str(corpus / "notes" / "account-recovery.md"), "--json", "-k", "3")
    assert result.code == 0
    assert "account-recovery.md" not in _names(result.out)
    part = sleuth(
        "similar",
        str(corpus / "recipes" / "sourdough.txt"),
        "--lines",
        "1-3",
        "--json",
        "--include-self",
        "-k",
        "1",
    )
    assert _names(part.out) == ["sourdough.txt"]
    bad = sleuth("similar", str(corpus / "recipes" / "sourdough.txt"), "--lines", "9-3")
    assert bad.code == 2


def test_json_output_pipes_into_json_tool(corpus: Path) -> None:
    env = {**os.environ}
    search = subprocess.run(
        [sys.executable, "-m", "sleuth.cli", "search", "password", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    tool = subprocess.run(
        [sys.executable, "-m", "json.tool", "--json-lines"],
        input=search.stdout,
        capture_output=True,
        text=True,
    )
    assert tool.returncode == 0 and '"path"' in tool.stdout


def test_null_separated_paths_feed_xargs(corpus: Path) -> None:
    pipeline = f"{sys.executable} -m sleuth.cli search password -l -0 | xargs -0 wc -l"
    done = subprocess.run(pipeline, shell=True, capture_output=True, text=True, check=True)
    assert "account-recovery.md" in done.stdout
    assert "total" in done.stdout


def test_broken_pipe_exits_quietly(corpus: Path) -> None:
    pipeline = f"{sys.executable} -m sleuth.cli search password -k 50 --format grep | head -1"
    done = subprocess.run(pipeline, shell=True, capture_output=True, text=True)
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "Broken" not in done.stderr


def test_list_forget_drop(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLEUTH_HOME", str(tmp_path / "home"))
    assert sleuth("index", str(corpus / "notes"), "--index", "notes", "--quiet").code == 0
    listed = [json.loads(line) for line in sleuth("list", "--json").out.splitlines()]
    assert [(i["name"], i["files"]) for i in listed] == [("notes", 3)]
    forgot = sleuth("forget", str(corpus / "notes" / "garden.md"), "--index", "notes", "--json")
    assert forgot.json_lines()[0]["files_removed"] == 1
    assert "garden.md" not in sleuth("search", "tomato", "--index", "notes", "-l").out
    assert sleuth("drop", "notes").code == 0
    gone = sleuth("search", "tomato", "--index", "notes")
    assert gone.code == 2 and "sleuth index --index notes PATH" in gone.err


def test_project_local_index(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "proj"
    shutil.copytree(corpus / "notes", project)
    monkeypatch.chdir(project)
    assert sleuth("init").code == 0
    assert sleuth("index", ".", "--quiet").code == 0
    assert (project / ".sleuth" / "catalog.sqlite3").exists()
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")
    hits = sleuth("search", "tomato seedlings", "-l").out.splitlines()
    assert hits[0].endswith("garden.md")
    status = sleuth("status", "--json").json_lines()[0]
    assert status["files"] == 3


def test_help_lists_every_command() -> None:
    out = sleuth("--help").out
    for command in ("index", "search", "status", "similar", "list", "forget", "drop", "init"):
        assert command in out
