"""Find the files to index under a set of roots, and say what was skipped and why.

API
---
``walk(roots, options=DiscoveryOptions(), on_skip=None) -> Iterator[FoundFile]``
    Every indexable regular file under ``roots`` (files or directories), once each. Roots are
    checked when ``walk`` is *called*: a missing one raises :class:`FileNotFoundError` before
    anything is yielded. Nothing else raises: every other problem becomes a :class:`Skipped`
    passed to ``on_skip``.

``check_path(path, root, options=DiscoveryOptions(), *, is_dir=None) -> Skipped | None``
    For the folder watcher: the name and ignore-file rules of ``walk`` (reasons ``ignored``,
    ``hidden``, ``bad-name``) applied to one path below ``root`` and to each directory between
    them; the skip returned may be for such a directory. Ignore files are cached per directory
    and re-read when they change. File types are not examined (a symlink ``walk`` would skip
    as ``symlink`` passes); ``is_dir`` is needed only for a path that no longer exists.

``is_ignored(path, root, options=DiscoveryOptions(), *, is_dir=None) -> bool``
    ``check_path(...) is not None``.

``classify(path, options=DiscoveryOptions()) -> FoundFile | Skipped``
    The per-file checks of ``walk`` (type, size, content sniffing) for one path, which is
    taken as given: it is not judged against names or ignore files, and a symlink is followed.

Values: :class:`DiscoveryOptions`, :class:`FoundFile`, :class:`Skipped` (frozen dataclasses).
Ignore-file semantics are described in :mod:`sleuth.indexer.ignore`.

Skip reasons (:data:`SkipReason`)
---------------------------------
``ignored``       built-in pruned name, .gitignore / .git/info/exclude / .sleuthignore match
``hidden``        name starts with "." and ``hidden`` is off
``too-large``     larger than ``max_size`` (detail gives the size)
``binary``        a known binary suffix, or a NUL byte in the first 8 KiB
``empty``         zero bytes
``unreadable``    permission or I/O error, or a broken symlink; also an ignore file that
                  could not be read (detail "ignore rules not applied: ...")
``vanished``      deleted between listing and examining
``symlink``       a symlink while ``follow_symlinks`` is off
``symlink-loop``  a directory that is its own ancestor on the walked path, or a link to itself
``duplicate``     a file or directory already reached under another path (symlinks,
                  hard links, overlapping roots); the detail names the first path
``bad-name``      a name that is not valid UTF-8 (it could not be stored downstream)
``not-a-file``    a FIFO, socket or device; such entries are never opened
``lockfile`` ``minified`` ``source-map`` ``generated`` ``data-dump`` ``binary-like``
                  text no one searches (:mod:`sleuth.indexer.junk`), unless ``all_text``

Order
-----
Depth first, sorted by name within each directory. An ignored or hidden directory is one
skip; its contents are never listed. With ``follow_symlinks`` on, entries reached through a
symlink are walked after all real entries of all roots, so a file reachable both ways is
reported under its real path and the link as a ``duplicate``.

Roots are taken as given: a root file or directory is never judged by name or ignore rules
(naming ``.config`` or ``node_modules`` explicitly walks it), and a symlink given as a root
is followed. Paths are absolute and normalised with :func:`os.path.abspath`, never resolved
through symlinks: a file is reported where it was reached.
"""

# Paths here are plain strings from os.scandir: a walk touches every entry of large trees,
# and building pathlib objects for each would cost more than the system calls.
# ruff: noqa: PTH100, PTH116, PTH118

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sleuth.indexer.examine import (
    BINARY_SUFFIXES,
    DOCUMENT_SUFFIXES,
    SNIFF_BYTES,
    DiscoveryOptions,
    FoundFile,
    Skipped,
    SkipReason,
    StrPath,
    classify,
    examine_file,
    file_kind,
    link_target,
    name_detail,
    stat_failure,
    suffix_of,
    valid_name,
)
from sleuth.indexer.ignore import Chain, cached_level, judge, read_level

__all__ = [
    "BINARY_SUFFIXES",
    "DOCUMENT_SUFFIXES",
    "SNIFF_BYTES",
    "DiscoveryOptions",
    "FoundFile",
    "SkipReason",
    "Skipped",
    "check_path",
    "classify",
    "is_ignored",
    "walk",
]

_Key = tuple[int, int]  # (st_dev, st_ino): a file's identity whatever path reached it
OnSkip = Callable[[Skipped], None]


def walk(
    roots: Iterable[StrPath],
    options: DiscoveryOptions | None = None,
    on_skip: OnSkip | None = None,
) -> Iterator[FoundFile]:
    """Yield the files to index under ``roots``; see the module docstring.

    Raises :class:`FileNotFoundError` at call time for a root that does not exist.
    """
    if isinstance(roots, str | bytes | os.PathLike):
        # A lone path is iterable (over its characters); that is never what the caller meant.
        raise TypeError("roots must be a collection of paths, not a single path")
    checked: list[tuple[str, os.stat_result | OSError]] = []
    for root in roots:
        path = os.path.abspath(root)
        try:
            checked.append((path, os.stat(path)))
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise FileNotFoundError(
                errno.ENOENT, os.strerror(errno.ENOENT), os.fspath(root)
            ) from exc
        except OSError as exc:
            # It exists but cannot be examined (an unsearchable parent, a looping link): that
            # is a skip like any other, not a usage error.
            checked.append((path, exc))
    return _Walker(options or DiscoveryOptions(), on_skip).run(checked)


def check_path(
    path: StrPath,
    root: StrPath,
    options: DiscoveryOptions | None = None,
    *,
    is_dir: bool | None = None,
) -> Skipped | None:
    """Why ``walk(root)`` would never reach ``path`` by its name or ignore files, or None.

    The skip may be for a directory between ``root`` and ``path``, which ``walk`` prunes.
    Raises :class:`ValueError` if ``path`` is not under ``root``.
    """
    options = options or DiscoveryOptions()
    top = os.path.abspath(root)
    full = os.path.abspath(path)
    if full == top:
        return None
    prefix = top if top.endswith("/") else top + "/"
    if not full.startswith(prefix):
        raise ValueError(f"{full} is not under {top}")
    parts = full[len(prefix) :].split("/")
    chain: Chain = ()
    current = top
    for index, name in enumerate(parts):
        if options.respect_ignore_files:
            level = cached_level(current)
            if level is not None:
                chain = (*chain, level)
        current = os.path.join(current, name)
        if not valid_name(name):
            return Skipped(Path(current), "bad-name", name_detail(name))
        last = index == len(parts) - 1
        if not last:
            directory = True
        elif is_dir is not None:
            directory = is_dir
        else:
            directory = _is_dir(current, options.follow_symlinks)
        verdict = judge(name, current, directory, chain, options.hidden)
        if verdict is not None:
            return Skipped(Path(current), *verdict)
    return None


def is_ignored(
    path: StrPath,
    root: StrPath,
    options: DiscoveryOptions | None = None,
    *,
    is_dir: bool | None = None,
) -> bool:
    """Whether ``walk(root)`` skips ``path`` (or a directory above it) by name or ignore rules."""
    return check_path(path, root, options, is_dir=is_dir) is not None


def _is_dir(path: str, follow: bool) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path, follow_symlinks=follow).st_mode)
    except OSError:
        # Gone or unreadable: the walker would not descend into it either.
        return False


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


class _Walker:
    """The state of one ``walk``: what was seen, and the links still to follow."""

    def __init__(self, options: DiscoveryOptions, on_skip: OnSkip | None) -> None:
        self.options = options
        self.on_skip = on_skip
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
        result = examine_file(path, st, self.options, suffix)
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
