"""Exit codes, as grep uses them."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # results found / success
    NO_RESULTS = 1  # ran fine, nothing matched
    ERROR = 2
    INTERRUPTED = 130


class UsageProblem(Exception):
    """Bad input from the user that the CLI detects itself (an empty query, a bad range)."""


class Decline(Exception):
    """A lender of warm searchers (see ``cli.warm``) cannot serve this command as a fresh
    process would (another index, another model): the caller runs the command itself."""
