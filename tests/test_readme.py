"""The README documents every command and every search flag, and starts with the two commands."""

from __future__ import annotations

from pathlib import Path

import typer

from sleuth.cli.app import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_starts_with_demo_and_test() -> None:
    block = README.split("```")[1].strip().splitlines()
    commands = [line.split("#")[0].strip() for line in block[1:] if line.strip()]
    assert commands == ["make demo", "make test"]


def test_every_command_and_search_flag_is_documented() -> None:
    group = typer.main.get_command(app)
    commands = getattr(group, "commands", {})
    assert {"index", "search", "status", "similar", "list", "forget", "drop", "init"} <= set(
        commands
    )
    for name in commands:
        assert f"sleuth {name}" in README, f"README never shows 'sleuth {name}'"
    for name in ("search", "index"):
        for param in commands[name].params:
            flags = [o for o in getattr(param, "opts", []) if o.startswith("--")]
            if flags and flags[0] not in ("--help",):
                assert flags[0] in README, f"{name} {flags[0]} is not in the README"
