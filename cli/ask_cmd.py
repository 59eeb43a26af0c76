"""``sleuth ask``: an interactive prompt; the model stays loaded between questions.

Each question runs the ordinary ``sleuth search`` code with a warm searcher lent by a
:class:`~sleuth.cli.service.Service` kept for the session, so results look exactly as
``sleuth search`` shows them on a terminal. History (readline) is kept in the sleuth data
folder, mode 0600. An empty line or Ctrl-D ends the session (exit 0); Ctrl-C cancels the
running query, or the line being typed. Off a terminal there is nobody to prompt: it says so
and exits 2 (``sleuth search - --batch`` reads questions from a pipe).
"""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer

from sleuth.cli.common import IndexOpt, ModelOpt, ThreadsOpt, location, make_embedder, open_existing
from sleuth.cli.env import Env
from sleuth.cli.exitcodes import ExitCode, UsageProblem
from sleuth.cli.output import MinScoreOpt
from sleuth.cli.service import Service
from sleuth.store.paths import make_private_dir, private_file, sleuth_home

HISTORY_FILE = "ask_history"
HISTORY_LENGTH = 1000
PROMPT = "sleuth> "


def ask(
    index_name: IndexOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-k", min=1, help="Results per query.")] = 5,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, semantic or lexical.")] = "hybrid",
    min_score: MinScoreOpt = None,
    model: ModelOpt = None,
    threads: ThreadsOpt = None,
) -> None:
    """Ask questions one after another at a prompt (empty line or Ctrl-D to quit)."""
    env = Env.current()
    if not (env.stdout_tty and _isatty(env.stdin)):
        raise UsageProblem(
            "sleuth ask needs a terminal; pipe questions to 'sleuth search - --batch' instead"
        )
    loc = location(index_name)
    open_existing(loc).close()  # the usual error for a missing index, before any prompt
    service = Service(loc.directory, lambda: make_embedder(model, threads), model=model)
    flags = ["-k", str(limit), "--mode", mode, "--format", "human"]
    if min_score is not None:
        flags += ["--min-score", str(min_score)]
    if index_name:
        flags += ["--index", index_name]
    if model is not None:
        flags += ["--model", str(model)]
    history = _History()
    print("Ask away (empty line or Ctrl-D to quit).", file=env.stderr)
    try:
        while True:
            # Ctrl-C anywhere in a round (typing, searching, printing) starts a new round.
            try:
                if not _round(env, service, flags):
                    break
            except KeyboardInterrupt:
                print(file=env.stdout)
                service.reset()  # a query may have stopped halfway: a fresh searcher
    finally:
        history.save()
        service.close()
    raise typer.Exit(ExitCode.OK)


def _round(env: Env, service: Service, flags: list[str]) -> bool:
    """One question and its answer; False when the user is done."""
    try:
        line = input(PROMPT)
    except EOFError:
        print(file=env.stdout)
        return False
    question = line.strip()
    if not question:
        return False
    if service.run_here(["search", question, *flags]) == ExitCode.INTERRUPTED:
        service.reset()
    return True


class _History:
    """readline history in ``$SLEUTH_HOME/ask_history`` (0600), if readline is available."""

    def __init__(self) -> None:
        self.path = sleuth_home() / HISTORY_FILE
        try:
            import readline
        except ImportError:  # pragma: no cover - Python built without readline
            self._readline = None
            return
        self._readline = readline
        readline.set_history_length(HISTORY_LENGTH)
        with contextlib.suppress(OSError):
            readline.read_history_file(self.path)

    def save(self) -> None:
        if self._readline is None:
            return
        with contextlib.suppress(OSError):
            make_private_dir(self.path.parent)
            private_file(self.path)  # 0600 before readline writes the questions into it
            self._readline.write_history_file(self.path)


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False
