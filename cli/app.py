"""The ``sleuth`` command: typer wiring, and the one place errors become exit codes."""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Annotated

import typer

from sleuth.cli.env import Env
from sleuth.cli.exitcodes import Decline, ExitCode, UsageProblem
from sleuth.cli.interrupts import held_interrupts
from sleuth.extractors.base import ExtractionError
from sleuth.indexer.errors import IndexingError, ModelError
from sleuth.store.errors import StoreError

# A command's module imports what that command needs (the indexing pipeline, watchdog,
# numpy...). A process runs one command, so only its module is imported: that keeps the
# start-up of `sleuth search` inside its latency budget.
_COMMANDS: dict[str, tuple[str, str]] = {
    "index": ("sleuth.cli.index_cmd", "index"),
    "search": ("sleuth.cli.search_cmd", "search"),
    "status": ("sleuth.cli.status_cmd", "status"),
    "similar": ("sleuth.cli.similar_cmd", "similar"),
    "list": ("sleuth.cli.manage_cmd", "list_indexes"),
    "forget": ("sleuth.cli.manage_cmd", "forget"),
    "drop": ("sleuth.cli.manage_cmd", "drop"),
    "init": ("sleuth.cli.manage_cmd", "init"),
    "watch": ("sleuth.cli.watch_cmd", "watch"),
    "serve": ("sleuth.cli.serve_cmd", "serve"),
    "mcp": ("sleuth.cli.mcp_cmd", "mcp"),
    "ask": ("sleuth.cli.ask_cmd", "ask"),
}

_KNOWN_ERRORS = (StoreError, ModelError, IndexingError, ExtractionError, UsageProblem)


def _version(value: bool) -> None:
    if value:
        from importlib import metadata  # 0.1 s to import: only when asked

        try:
            version = metadata.version("sleuth")
        except metadata.PackageNotFoundError:
            version = "unknown"
        print(f"sleuth {version}")
        from sleuth.indexer.llama_build import describe_installed

        print(f"llama.cpp: {describe_installed()}")
        raise typer.Exit(0)


def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    if debug:
        os.environ["SLEUTH_DEBUG"] = "1"


def build_app(names: Iterable[str] = _COMMANDS) -> typer.Typer:
    """The typer app with the given commands registered (all of them by default)."""
    app = typer.Typer(
        name="sleuth",
        help="Local-first semantic search for your files, on the command line.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=True,
        rich_markup_mode=None,
    )
    app.callback()(_root)
    for name in names:
        module, attr = _COMMANDS[name]
        app.command(name)(getattr(importlib.import_module(module), attr))
    return app


@functools.cache
def _command(names: tuple[str, ...]) -> typer.core.TyperGroup:
    """The click command for these names, built once per process (a server runs many)."""
    command = typer.main.get_command(build_app(names))
    assert isinstance(command, typer.core.TyperGroup)
    return command


def _commands_for(argv: Sequence[str]) -> list[str]:
    """The one command ``argv`` runs, or all of them (help, completion, a typo's message);
    none for ``--version``, which answers before any command (importing every command's
    module made it take ~0.9 s)."""
    for arg in argv:
        if not arg.startswith("-"):
            return [arg] if arg in _COMMANDS else list(_COMMANDS)
    return [] if "--version" in argv and "--help" not in argv else list(_COMMANDS)


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # the full app, for tests and tools that inspect every command
        return build_app()
    raise AttributeError(name)


def _message(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"path does not exist: {exc.filename}"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc) or type(exc).__name__


def _reader_gone() -> int:
    """The reader went away (`| head -1`): stop quietly, and keep Python from complaining."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return ExitCode.OK


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; never lets a traceback reach the user."""
    env = Env.current()
    args = sys.argv[1:] if argv is None else argv
    if not args and env.stdout_tty and _isatty(env.stdin):
        args = ["ask"]  # a person at a terminal: the interactive prompt (else: the help)
    try:
        with held_interrupts() as interrupted:
            command = _command(tuple(_commands_for(args)))
        if interrupted():
            raise KeyboardInterrupt
        if not args:  # nobody to prompt: the help, and the usage-error code click gives
            command.main(args=["--help"], prog_name="sleuth", standalone_mode=False)
            return ExitCode.ERROR
        result = command.main(args=args, prog_name="sleuth", standalone_mode=False)
    except Decline:
        raise  # a lender's answer to whoever lent: that caller runs the command itself
    except typer.Exit as done:
        if done.exit_code == ExitCode.INTERRUPTED:  # typer's own translation of Ctrl-C
            env.error("interrupted")
        return int(done.exit_code)
    except typer.Abort:
        env.error("interrupted")
        return ExitCode.INTERRUPTED
    except KeyboardInterrupt:
        env.error("interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return _reader_gone()
    except SystemExit as done:
        # typer turns a closed pipe into sys.exit(1) after wrapping the streams so that they
        # stop complaining; 1 means "no results" here, and results were printed.
        if type(sys.stdout).__name__ == "PacifyFlushWrapper" and done.code == 1:
            return _reader_gone()
        raise
    except typer.exceptions.TyperException as exc:  # usage errors from the parser
        formatter = getattr(exc, "format_message", None)
        text = str(formatter() if callable(formatter) else exc)
        env.error(text.splitlines()[0] if text else "bad usage")
        code = getattr(exc, "exit_code", ExitCode.ERROR)
        return int(code) if code else ExitCode.ERROR
    except (*_KNOWN_ERRORS, OSError) as exc:
        if os.environ.get("SLEUTH_DEBUG"):
            raise
        env.error(_message(exc))
        return ExitCode.ERROR
    except Exception as exc:  # a bug: still one line for the user, the traceback on request
        if os.environ.get("SLEUTH_DEBUG"):
            raise
        env.error(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")
        return ExitCode.ERROR
    code = int(result) if isinstance(result, int) else ExitCode.OK
    if code == ExitCode.INTERRUPTED:  # typer turned Ctrl-C into a plain exit code
        env.error("interrupted")
    return code


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False
