"""The ``sleuth`` command: typer wiring, and the one place errors become exit codes."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from sleuth.cli.env import Env
from sleuth.cli.exitcodes import ExitCode, UsageProblem
from sleuth.cli.index_cmd import index
from sleuth.cli.manage_cmd import register as register_housekeeping
from sleuth.cli.search_cmd import search
from sleuth.cli.similar_cmd import similar
from sleuth.cli.status_cmd import status
from sleuth.cli.watch_cmd import watch
from sleuth.extractors.base import ExtractionError
from sleuth.indexer.errors import IndexingError, ModelError
from sleuth.store.errors import StoreError

app = typer.Typer(
    name="sleuth",
    help="Local-first semantic search for your files, on the command line.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode=None,
)
app.command()(index)
app.command()(search)
app.command()(status)
app.command()(similar)
register_housekeeping(app)
app.command()(watch)

_KNOWN_ERRORS = (StoreError, ModelError, IndexingError, ExtractionError, UsageProblem)


def _version(value: bool) -> None:
    if value:
        from importlib import metadata  # 0.1 s to import: only when asked

        try:
            version = metadata.version("sleuth")
        except metadata.PackageNotFoundError:
            version = "unknown"
        print(f"sleuth {version}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    if debug:
        os.environ["SLEUTH_DEBUG"] = "1"


def _message(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"path does not exist: {exc.filename}"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc) or type(exc).__name__


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; never lets a traceback reach the user."""
    env = Env.current()
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="sleuth", standalone_mode=False)
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
        # The reader went away (`| head -1`): stop quietly, and keep Python from complaining.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitCode.OK
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
