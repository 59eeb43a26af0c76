"""The walk itself: folders depth-first, ignore rules per level, links followed once.

Kept apart from :mod:`sleuth.indexer.discovery` (what the walk promises, and the checks of a
single path) because it is its own job: the state of one walk.
"""

# ruff: noqa: PTH116

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from sleuth.indexer.examine import (
    BINARY_SUFFIXES,
    DiscoveryOptions,
    FoundFile,
    Skipped,
    SkipReason,
    examine_file,
    file_kind,
    link_target,
    name_detail,
    stat_failure,
    suffix_of,
    valid_name,
)
from sleuth.indexer.ignore import Chain, judge, read_level

_Key = tuple[int, int]  # (st_dev, st_ino): a file's identity whatever path reached it
OnSkip = Callable[[Skipped], None]
# path -> (size, mtime_ns) of files indexed under the same rules: not read again if unchanged
Unchanged = Mapping[str, tuple[int, int]]


class _Frame:
    """A directory being walked: its sorted entries and where we are in them."""

    __slots__ = ("chain", "entries", "index", "key", "parent")

    def __init__(
        self,
        key: _Key,
        parent: _Frame | None,
        chain: Chain,
        entries: list[os.DirEntry[str]],
    ) -> None:
        self.key = key
        self.parent = parent
        self.chain = chain
        self.entries = entries
        self.index = 0


@dataclass(frozen=True, slots=True)
class _Deferred:
    """A symlink met while following links, examined after every real entry."""

    path: str
    name: str
    frame: _Frame


class Walker:
    """The state of one ``walk``: what was seen, and the links still to follow."""

    def __init__(
        self, options: DiscoveryOptions, on_skip: OnSkip | None, unchanged: Unchanged | None = None
    ) -> None:
        self.options = options
        self.on_skip = on_skip
        self.unchanged = unchanged or {}
        self.dirs: dict[_Key, str] = {}
        self.files: dict[_Key, str] = {}
        self.deferred: list[_Deferred] = []

    def skip(self, path: str, reason: SkipReason, detail: str = "") -> None:
        if self.on_skip is not None:
            self.on_skip(Skipped(Path(path), reason, detail))

    def run(self, roots: list[tuple[str, os.stat_result | OSError]]) -> Iterator[FoundFile]:
        for path, st in roots:
            if isinstance(st, OSError):
                self.skip(path, *stat_failure(path, st))
            elif not valid_name(path):
                self.skip(path, "bad-name", name_detail(path))
            elif stat.S_ISDIR(st.st_mode):
                yield from self.directory(path, st, None, ())
            else:
                yield from self.file(path, st)
        while self.deferred:
            batch, self.deferred = self.deferred, []
            for item in batch:
                yield from self.follow(item)

    def file(self, path: str, st: os.stat_result, suffix: str | None = None) -> Iterator[FoundFile]:
        if not stat.S_ISREG(st.st_mode):
            self.skip(path, "not-a-file", file_kind(st.st_mode))
            return
        key = (st.st_dev, st.st_ino)
        first = self.files.get(key)
        if first is not None:
            self.skip(path, "duplicate", f"same file as {first}")
            return
        known = self.unchanged.get(path) == (st.st_size, st.st_mtime_ns)
        result = examine_file(path, st, self.options, suffix, known=known)
        if isinstance(result, Skipped):
            if self.on_skip is not None:
                self.on_skip(result)
            return
        self.files[key] = path
        yield result

    def follow(self, item: _Deferred) -> Iterator[FoundFile]:
        """Examine a symlink through to its target."""
        try:
            st = os.stat(item.path)
        except OSError as exc:
            failure = stat_failure(item.path, exc)
            # An ignore rule that names the link wins over complaining about its target.
            verdict = judge(item.name, item.path, False, item.frame.chain, self.options.hidden)
            self.skip(item.path, *(verdict or failure))
            return
        is_dir = stat.S_ISDIR(st.st_mode)
        verdict = judge(item.name, item.path, is_dir, item.frame.chain, self.options.hidden)
        if verdict is not None:
            self.skip(item.path, *verdict)
        elif is_dir:
            yield from self.directory(item.path, st, item.frame, item.frame.chain)
        else:
            yield from self.file(item.path, st)

    def open_dir(
        self, path: str, st: os.stat_result, parent: _Frame | None, chain: Chain
    ) -> _Frame | None:
        """List ``path`` and read its ignore files; None if it is skipped."""
        key = (st.st_dev, st.st_ino)
        first = self.dirs.get(key)
        if first is not None:
            ancestor = parent
            while ancestor is not None and ancestor.key != key:
                ancestor = ancestor.parent
            if ancestor is not None:
                self.skip(path, "symlink-loop", f"leads back to {first}")
            else:
                self.skip(path, "duplicate", f"same directory as {first}")
            return None
        self.dirs[key] = path
        try:
            with os.scandir(path) as listing:
                entries = sorted(listing, key=_entry_name)
        except (FileNotFoundError, NotADirectoryError):
            self.skip(path, "vanished")
            return None
        except OSError as exc:
            self.skip(path, "unreadable", exc.strerror or str(exc))
            return None
        if self.options.respect_ignore_files:
            rule_files = {entry.name: entry for entry in entries if entry.name in _RULE_FILES}
            level = read_level(
                path,
                gitignore=_is_regular(rule_files.get(".gitignore")),
                sleuthignore=_is_regular(rule_files.get(".sleuthignore")),
                git_dir=".git" in rule_files,
                on_error=self.report_rules_error,
            )
            if level is not None:
                chain = (*chain, level)
        return _Frame(key, parent, chain, entries)

    def report_rules_error(self, path: str, exc: OSError) -> None:
        self.skip(path, "unreadable", f"ignore rules not applied: {exc.strerror or exc}")

    def directory(
        self, path: str, st: os.stat_result, parent: _Frame | None, chain: Chain
    ) -> Iterator[FoundFile]:
        """Walk the tree under ``path`` depth first, with an explicit stack."""
        top = self.open_dir(path, st, parent, chain)
        if top is None:
            return
        stack = [top]
        options = self.options
        while stack:
            frame = stack[-1]
            if frame.index >= len(frame.entries):
                stack.pop()
                # Deferred links keep their frame for its rules and ancestry, not its listing.
                frame.entries = []
                continue
            entry = frame.entries[frame.index]
            frame.index += 1
            name = entry.name
            if not valid_name(name):
                self.skip(entry.path, "bad-name", name_detail(name))
                continue
            try:
                is_link = entry.is_symlink()
                if is_link and options.follow_symlinks:
                    self.deferred.append(_Deferred(entry.path, name, frame))
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
                verdict = judge(name, entry.path, is_dir, frame.chain, options.hidden)
                if verdict is not None:
                    self.skip(entry.path, *verdict)
                    continue
                if is_link:
                    self.skip(entry.path, "symlink", f"to {link_target(entry.path)}")
                    continue
                suffix = None
                if not is_dir and entry.is_file(follow_symlinks=False):
                    suffix = suffix_of(name)
                    if suffix in BINARY_SUFFIXES:
                        # Decided by name alone: spare the stat.
                        self.skip(entry.path, "binary", f"{suffix} file")
                        continue
                entry_stat = entry.stat(follow_symlinks=False)
            except OSError as exc:
                self.skip(entry.path, *stat_failure(entry.path, exc))
                continue
            if is_dir:
                child = self.open_dir(entry.path, entry_stat, frame, frame.chain)
                if child is not None:
                    stack.append(child)
            else:
                yield from self.file(entry.path, entry_stat, suffix)


_RULE_FILES = frozenset({".gitignore", ".sleuthignore", ".git"})


def _entry_name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _is_regular(entry: os.DirEntry[str] | None) -> bool:
    if entry is None:
        return False
    try:
        # Like git, read only regular ignore files: a symlinked one is not followed.
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False
