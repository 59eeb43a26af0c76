"""Which names discovery never descends into, and the ignore-file rules that decide the rest.

Rules come from three kinds of file, all in gitignore syntax (compiled by ``pathspec``):

* ``.gitignore`` in any directory, applying to that directory's subtree;
* ``.git/info/exclude`` of a repository (a directory holding a ``.git`` directory), applying
  to the repository like a ``.gitignore`` at its top that every real ``.gitignore`` overrides;
* ``.sleuthignore`` in any directory, applying like ``.gitignore`` but taking precedence over
  every gitignore rule and over sleuth's built-in rules (hidden entries and
  :data:`DEFAULT_PRUNED` names). A ``!pattern`` in a ``.sleuthignore`` is how a user indexes
  something git ignores, a hidden file, or a ``node_modules`` folder. Nothing re-includes the
  names in :data:`ALWAYS_PRUNED`.

Within one kind, a deeper file beats a shallower one and a later line beats an earlier one,
as in git. As in git, nothing inside an ignored directory can be re-included, because the
directory is never listed.

This module is the shared engine of :mod:`sleuth.indexer.discovery`: :func:`read_level`
compiles one directory's files into a :class:`Level`, :func:`judge` decides one entry against
a chain of levels, and :func:`cached_level` serves the per-path checks of the folder watcher.
"""

# Paths here are plain strings, as the walker hands them over for speed.
# ruff: noqa: PTH116, PTH118

from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pathspec import GitIgnoreSpec
from pathspec.patterns.gitignore import GitIgnorePatternError
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

__all__ = [
    "ALWAYS_PRUNED",
    "DEFAULT_PRUNED",
    "GITIGNORE",
    "SLEUTHIGNORE",
    "VCS_DIRS",
    "Chain",
    "Level",
    "Match",
    "Rules",
    "cached_level",
    "clear_ignore_cache",
    "judge",
    "read_level",
]

GITIGNORE = ".gitignore"
SLEUTHIGNORE = ".sleuthignore"

VCS_DIRS = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs"})
"""Version-control metadata: skipped even with ``hidden=True`` and never re-includable."""

ALWAYS_PRUNED = VCS_DIRS | {".sleuth"}
"""Entries skipped under any options. ``.sleuth`` is sleuth's own index folder: indexing it
would feed the index into itself."""

DEFAULT_PRUNED = frozenset(
    {
        "__pycache__",
        "node_modules",
        ".venv",
        "venv",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)
"""Directories skipped without any ignore file (a ``.sleuthignore`` ``!name/`` re-includes).
They hold generated or third-party files that would drown a project's own text."""

_EXCLUDE_PARTS = ("info", "exclude")

OnReadError = Callable[[str, OSError], None]
"""Told about an ignore file that exists but cannot be read: its path and the error."""


@dataclass(frozen=True, slots=True)
class Match:
    """The pattern that decided a path: ``ignored`` is false for a ``!`` re-include."""

    ignored: bool
    origin: str  # "<ignore file>:<line>: <pattern>", shown to users as the skip's detail


class Rules:
    """The compiled patterns of one kind (git or sleuth) in one directory.

    Git decides an entry by the last line matching *the entry itself*; its parents were
    decided when the walk reached them. ``GitIgnoreSpec`` answers a different question, for
    a whole path at once, so two adjustments make it answer git's:

    * Directories are checked in file form ("a/b", no trailing slash) against the lines with
      their directory-only slash removed: the entry is known to be a directory, so "b/" means
      "b". (The trailing-slash form lets "*" outrank a later "!b" for the directory "b/".)
    * When no line matches the entry itself, ``GitIgnoreSpec`` falls back to the last line
      matching one of its parents, which pathspec marks as a directory match. That line was
      already applied to the parent; counting it again would let "!build/" in a subdirectory
      hide the root's "*.log" from "build/x.log". Such an answer is taken as "no match".
    """

    __slots__ = ("_dir_patterns", "_dir_spec", "_file_patterns", "_file_spec", "_origins")

    def __init__(self, lines: list[tuple[str, int, str]]) -> None:
        """``lines`` are ``(source file, line number, line)`` in precedence order."""
        file_patterns: list[GitIgnoreSpecPattern] = []
        dir_patterns: list[GitIgnoreSpecPattern] = []
        origins: list[str] = []
        for source, lineno, line in lines:
            try:
                pattern = GitIgnoreSpecPattern(line)
            except GitIgnorePatternError:
                # Git skips a malformed line and keeps the rest of the file; so do we.
                continue
            if pattern.include is None:  # blank line or comment
                continue
            file_patterns.append(pattern)
            dir_patterns.append(_directory_variant(line, pattern))
            origins.append(f"{source}:{lineno}: {line.strip()}")
        self._file_patterns = tuple(file_patterns)
        self._dir_patterns = tuple(dir_patterns)
        self._file_spec = GitIgnoreSpec(file_patterns)
        self._dir_spec = (
            self._file_spec
            if all(d is f for d, f in zip(dir_patterns, file_patterns, strict=True))
            else GitIgnoreSpec(dir_patterns)
        )
        self._origins = tuple(origins)

    def __bool__(self) -> bool:
        return bool(self._origins)

    def match(self, relative: str, is_dir: bool) -> Match | None:
        """Decide ``relative`` (a path below this file's directory), or None if no line applies."""
        if is_dir:
            spec, patterns = self._dir_spec, self._dir_patterns
        else:
            spec, patterns = self._file_spec, self._file_patterns
        result = spec.check_file(relative)
        if result.include is None or result.index is None:
            return None
        found = patterns[result.index].match_file(relative)
        # pathspec's directory marker is its only named group; set, it means the line matched
        # a parent of the entry (see the class docstring).
        if found is None or any(found.match.groupdict().values()):
            return None
        return Match(ignored=result.include, origin=self._origins[result.index])


def _directory_variant(line: str, pattern: GitIgnoreSpecPattern) -> GitIgnoreSpecPattern:
    """``pattern`` with a directory-only trailing slash removed, to test known directories."""
    if line.endswith("\\ "):  # an escaped trailing space is part of the pattern
        return pattern
    text = line.rstrip()
    if not text.endswith("/") or text.lstrip("!") == "/":
        return pattern
    try:
        return GitIgnoreSpecPattern(text[:-1])
    except GitIgnorePatternError:
        return pattern


@dataclass(frozen=True, slots=True)
class Level:
    """The rules read in one directory; ``cut`` strips that directory from absolute paths."""

    cut: int
    git: Rules | None
    sleuth: Rules | None


Chain = tuple[Level, ...]
"""The levels from a walk's root down to the current directory, shallowest first."""


def _match(chain: Chain, path: str, is_dir: bool, kind: Literal["git", "sleuth"]) -> Match | None:
    for level in reversed(chain):
        rules = level.sleuth if kind == "sleuth" else level.git
        if rules is not None:
            found = rules.match(path[level.cut :], is_dir)
            if found is not None:
                return found
    return None


def judge(
    name: str, path: str, is_dir: bool, chain: Chain, hidden: bool
) -> tuple[Literal["ignored", "hidden"], str] | None:
    """Why the entry ``name`` at absolute ``path`` is skipped, as ``(reason, detail)``, or None.

    ``hidden`` is the option that lets dot-entries through. Only names and ignore files are
    considered here; file types and contents are the caller's business.
    """
    if name in ALWAYS_PRUNED:
        return "ignored", f"{name} is never indexed"
    sleuth = _match(chain, path, is_dir, "sleuth") if chain else None
    if sleuth is not None and not sleuth.ignored:
        return None
    if is_dir and name in DEFAULT_PRUNED:
        return "ignored", "built-in rule"
    if not hidden and name.startswith("."):
        return "hidden", ""
    if sleuth is not None:
        return "ignored", sleuth.origin
    found = _match(chain, path, is_dir, "git") if chain else None
    if found is not None and found.ignored:
        return "ignored", found.origin
    return None


def _read_lines(path: str, on_error: OnReadError | None) -> list[str] | None:
    """The lines of the ignore file at ``path``; None if it is absent or not a regular file."""
    try:
        # O_NONBLOCK: a FIFO named .gitignore must not hang the walk; fstat then rejects it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if on_error is not None:
            on_error(path, exc)
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks: list[bytes] = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except OSError as exc:
        if on_error is not None:
            on_error(path, exc)
        return None
    finally:
        os.close(fd)
    # utf-8-sig: git skips a leading byte-order mark, and a stray bad byte must not cost
    # the user the rest of the file.
    return b"".join(chunks).decode("utf-8-sig", errors="replace").splitlines()


def _numbered(source: str, lines: list[str] | None) -> list[tuple[str, int, str]]:
    if lines is None:
        return []
    return [(source, number, line) for number, line in enumerate(lines, start=1)]


def read_level(
    directory: str,
    *,
    gitignore: bool,
    sleuthignore: bool,
    git_dir: bool,
    on_error: OnReadError | None = None,
) -> Level | None:
    """Compile the ignore files of the absolute ``directory``; None when there are no rules.

    The flags say which files exist (the caller has listed the directory already), so a
    directory without ignore files costs no system call.
    """
    if not (gitignore or sleuthignore or git_dir):
        return None
    git_lines: list[tuple[str, int, str]] = []
    if git_dir:
        exclude = os.path.join(directory, ".git", *_EXCLUDE_PARTS)
        git_lines += _numbered(exclude, _read_lines(exclude, on_error))
    if gitignore:
        source = os.path.join(directory, GITIGNORE)
        git_lines += _numbered(source, _read_lines(source, on_error))
    sleuth_lines: list[tuple[str, int, str]] = []
    if sleuthignore:
        source = os.path.join(directory, SLEUTHIGNORE)
        sleuth_lines = _numbered(source, _read_lines(source, on_error))
    # Files holding only comments compile to empty rules; dropping them keeps matching cheap.
    git = Rules(git_lines) or None
    sleuth = Rules(sleuth_lines) or None
    if git is None and sleuth is None:
        return None
    cut = len(directory) if directory.endswith("/") else len(directory) + 1
    return Level(cut=cut, git=git, sleuth=sleuth)


# The folder watcher asks about single paths, often many in one directory; re-reading every
# ignore file on the way down for each would be wasteful. Entries are validated by the ignore
# files' identities so that an edited .gitignore takes effect on the next question.
_Signature = tuple[tuple[int, int, int] | None, ...]
_CACHE_SIZE = 4096
_cache: OrderedDict[str, tuple[_Signature, Level | None]] = OrderedDict()
_cache_lock = threading.Lock()


def _identity(path: str, follow: bool) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path, follow_symlinks=follow)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        # It exists but cannot be examined; read_level will fail on it the same way and
        # leave its rules out, as the walker does.
        return (-1, -1, -1)
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def cached_level(directory: str) -> Level | None:
    """:func:`read_level` for the absolute ``directory``, cached until its ignore files change."""
    exclude = os.path.join(directory, ".git", *_EXCLUDE_PARTS)
    # A symlinked .gitignore is not read by git nor by the walker, which sees it through a
    # directory listing; lstat keeps this path in agreement. The exclude file is opened by
    # path in both, so it is stat'ed through links.
    signature: _Signature = (
        _identity(os.path.join(directory, GITIGNORE), follow=False),
        _identity(os.path.join(directory, SLEUTHIGNORE), follow=False),
        _identity(exclude, follow=True),
    )
    with _cache_lock:
        hit = _cache.get(directory)
        if hit is not None and hit[0] == signature:
            _cache.move_to_end(directory)
            return hit[1]
    level = read_level(
        directory,
        gitignore=signature[0] is not None,
        sleuthignore=signature[1] is not None,
        git_dir=signature[2] is not None,
    )
    with _cache_lock:
        _cache[directory] = (signature, level)
        _cache.move_to_end(directory)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return level


def clear_ignore_cache() -> None:
    """Forget every cached level (the watcher may call this when it sees an ignore file change)."""
    with _cache_lock:
        _cache.clear()
