"""Search flags for people and scripts, through the CLI, on the examples with the real model."""

from __future__ import annotations

import json
import os
import re
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
    assert (
        len(sleuth("search", "password", "-k", "2", "--json", "--min-score", "0").json_lines()) == 2
    )
    strict = sleuth("search", "password", "--min-score", "0.5", "--json").json_lines()
    assert strict and all(float(h["score"]) >= 0.5 for h in strict)
    none = sleuth("search", "password", "--min-score", "1")
    assert (none.code, none.out) == (1, "")
    assert NOTHING.fullmatch(none.err), none.err
    assert sleuth("search", "password", "--min-score", "5").code == 2


NOTHING = re.compile(
    r"no relevant results \(best score 0\.\d\d; --min-score 0 shows everything\)\n"
)
OFF_TOPIC = "football transfer window rumours"
ALL = ("--min-score", "0")


@pytest.mark.parametrize("flags", [(), ("--json",), ("-l",), ("--format", "grep")])
def test_an_off_topic_query_prints_nothing_and_exits_1(
    corpus: Path, flags: tuple[str, ...]
) -> None:
    result = sleuth("search", OFF_TOPIC, *flags)
    assert (result.code, result.out) == (1, "")
    assert NOTHING.fullmatch(result.err), result.err
    everything = sleuth("search", OFF_TOPIC, *flags, "--min-score", "0")
    assert everything.code == 0 and everything.out and everything.err == ""


def test_scores_agree_with_the_order_and_across_outputs(corpus: Path) -> None:
    query = "how long is an account locked"
    for mode in ("hybrid", "semantic", "lexical"):
        hits = sleuth("search", query, "--json", "--mode", mode, "--min-score", "0").json_lines()
        scores = [h["score"] for h in hits]
        assert scores == sorted(scores, reverse=True), mode
        assert all(0 <= s <= 1 for s in scores)
        assert all(h["similarity"] is None for h in hits) == (mode == "lexical")
    single = sleuth("search", query, "--json").json_lines()
    batch = sleuth("search", "-", "--batch", stdin=f"{query}\n{OFF_TOPIC}\n")
    assert batch.code == 0
    assert [(h["chunk_id"], h["score"]) for h in batch.json_lines()] == [
        (h["chunk_id"], h["score"]) for h in single
    ]
    assert batch.err == (
        f'no relevant results for "{OFF_TOPIC}" (best score '
        f"{batch.err.split('best score ')[1][:4]}; --min-score 0 shows everything)\n"
    )
    files = sleuth("search", query, "-l").out.splitlines()
    assert files == list(dict.fromkeys(str(Path(h["path"]).relative_to(corpus)) for h in single))


def test_batch_exits_1_only_when_no_query_had_a_hit(corpus: Path) -> None:
    nothing = sleuth("search", "-", "--batch", stdin=f"{OFF_TOPIC}\nhow to knit a scarf\n")
    assert (nothing.code, nothing.out) == (1, "")
    assert len(nothing.err.splitlines()) == 2


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
    # The filters' mechanics, not relevance: the floor is off.
    only_md = sleuth("search", "money", "--glob", "*.md", "--json", *ALL, "-k", "5").json_lines()
    assert only_md and all(h["path"].endswith(".md") for h in only_md)
    no_md = sleuth("search", "money", "--glob", "!*.md", "--json", *ALL).json_lines()
    assert no_md and not any(h["path"].endswith(".md") for h in no_md)
    code = sleuth("search", "password", "--type", "code", "--json", *ALL, "-k", "3").json_lines()
    assert code and {h["kind"] for h in code} == {"code"}
    assert len(code) == 3  # filtered queries over-fetch until k pass (code has ≥ 3 chunks)
    pdf = sleuth("search", "password", "--type", "pdf", "--json", *ALL).json_lines()
    assert {Path(h["path"]).name for h in pdf} == {"travel-policy.pdf"}
    under = sleuth(
        "search", "anything", "--path-prefix", str(corpus / "recipes"), "--json", *ALL
    ).json_lines()
    assert {Path(h["path"]).name for h in under} == {"sourdough.txt"}
    nested = sleuth("search", "csv", "--glob", "code/**/*.py", "--json", *ALL).json_lines()
    assert nested and all("/code/" in h["path"] for h in nested)


def test_time_filters(corpus: Path) -> None:
    assert sleuth("search", "password", "--changed-within", "3650d", *ALL).code == 0
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
        Path(h["path"]).name
        for h in sleuth("search", "password", "--group", "--json", *ALL).json_lines()
    ]
    seen: list[str] = []
    for name in grouped:
        if not seen or seen[-1] != name:
            assert name not in seen, "a file's hits must be contiguous with --group"
            seen.append(name)


def test_similar_to_file_and_lines(corpus: Path) -> None:
    notes = corpus / "notes" / "account-recovery.md"
    result = sleuth("similar", str(notes), "--json", "-k", "3", *ALL)
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


def test_similar_honours_the_floor(corpus: Path, tmp_path: Path) -> None:
    unrelated = tmp_path / "chess.txt"
    unrelated.write_text("The Sicilian Defence answers 1.e4 with c5; the Najdorf follows.\n")
    result = sleuth("similar", str(unrelated))
    assert (result.code, result.out) == (1, "")
    assert NOTHING.fullmatch(result.err), result.err
    everything = sleuth("similar", str(unrelated), "--min-score", "0", "--json")
    assert everything.code == 0 and everything.json_lines()


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
    cli = f"{sys.executable} -m sleuth.cli"
    pipeline = f"{cli} search password -l -0 --min-score 0 | xargs -0 wc -l"
    done = subprocess.run(pipeline, shell=True, capture_output=True, text=True, check=True)
    assert "account-recovery.md" in done.stdout
    assert "total" in done.stdout


def test_broken_pipe_exits_quietly(corpus: Path) -> None:
    pipeline = f"{sys.executable} -m sleuth.cli search password -k 50 --format grep | head -1"
    done = subprocess.run(pipeline, shell=True, capture_output=True, text=True)
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "Broken" not in done.stderr


def test_a_reader_that_goes_away_leaves_exit_code_0(corpus: Path) -> None:
    # sleuth's own exit code, not head's: results were found, so not 1 ("no results"). The
    # reader is gone before the first write, so the write fails whatever the output's size.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "sleuth.cli", "search", "password", "--format", "grep"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 0
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
