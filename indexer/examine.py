"""What discovery decides about one file: the values it reports and the per-file checks.

``classify(path, options)`` examines one path as :func:`sleuth.indexer.discovery.walk` does once
it has decided to look at it: type, size, content sniffing and, unless ``all_text`` is set,
the junk rules of :mod:`sleuth.indexer.junk` (lockfiles, minified and generated code, data
dumps, binary-like text). See :mod:`sleuth.indexer.discovery` for the skip reasons.
"""

# Paths here are plain strings: a walk examines every file of large trees.
# ruff: noqa: PTH100, PTH114, PTH115, PTH116

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sleuth.indexer.junk import JUNK_REASONS, SAMPLE_BYTES, judge_content, judge_name

__all__ = [
    "BINARY_SUFFIXES",
    "DOCUMENT_SUFFIXES",
    "JUNK_REASONS",
    "SNIFF_BYTES",
    "DiscoveryOptions",
    "FoundFile",
    "SkipReason",
    "Skipped",
    "classify",
    "examine_file",
]

SkipReason = Literal[
    "ignored",
    "hidden",
    "too-large",
    "binary",
    "empty",
    "unreadable",
    "vanished",
    "symlink",
    "symlink-loop",
    "duplicate",
    "bad-name",
    "not-a-file",
    # junk (sleuth.indexer.junk): text no one searches; DiscoveryOptions.all_text keeps it
    "lockfile",
    "minified",
    "source-map",
    "generated",
    "data-dump",
    "binary-like",
]

SNIFF_BYTES = 8 * 1024

DOCUMENT_SUFFIXES = frozenset({".pdf", ".docx"})
"""Binary formats an extractor reads: yielded without sniffing."""

BINARY_SUFFIXES = frozenset(
    {
        ".png", ".jpg", ".jpeg", ".gif", ".zip", ".gz", ".tar", ".so", ".o", ".a", ".exe",
        ".dll", ".class", ".jar", ".pyc", ".whl", ".woff", ".woff2", ".ttf", ".mp3", ".mp4",
        ".mov", ".avi", ".sqlite", ".db", ".bin", ".iso", ".dmg",
    }
)  # fmt: skip
"""Suffixes skipped as binary without reading the file."""

StrPath = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class DiscoveryOptions:
    """What to walk into. ``max_size`` is in bytes and must be positive.

    ``all_text`` turns the junk rules off: lockfiles, minified, generated and data files are
    indexed like any other text.
    """

    hidden: bool = False
    follow_symlinks: bool = False
    max_size: int = 10 * 1024 * 1024
    respect_ignore_files: bool = True
    all_text: bool = False

    def __post_init__(self) -> None:
        if self.max_size <= 0:
            raise ValueError(f"max_size must be positive, got {self.max_size}")


@dataclass(frozen=True, slots=True)
class FoundFile:
    """A file to index; ``path`` is absolute, as reached under its root."""

    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Skipped:
    """An entry left out and why; ``detail`` is a short human-readable elaboration."""

    path: Path
    reason: SkipReason
    detail: str = ""


def classify(path: StrPath, options: DiscoveryOptions | None = None) -> FoundFile | Skipped:
    """Examine one file as ``walk`` would once it has decided to look at it."""
    options = options or DiscoveryOptions()
    full = os.path.abspath(path)
    if not valid_name(full):
        return Skipped(Path(full), "bad-name", name_detail(full))
    try:
        st = os.stat(full)
    except OSError as exc:
        return Skipped(Path(full), *stat_failure(full, exc))
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else file_kind(st.st_mode)
        return Skipped(Path(full), "not-a-file", kind)
    return examine_file(full, st, options)


def valid_name(name: str) -> bool:
    # os.fsdecode turns undecodable bytes into lone surrogates, which strict UTF-8 refuses.
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def name_detail(name: str) -> str:
    return f"not valid UTF-8: {os.fsencode(name)!r}"


def suffix_of(name: str) -> str:
    """The lower-cased extension of ``name``, as :func:`os.path.splitext` sees it."""
    # Leading dots make a hidden name, not an extension: ".bashrc" has none.
    dot = name.rfind(".")
    if dot <= 0 or dot == len(name) - len(name.lstrip(".")) - 1:
        return ""
    return name[dot:].lower()


def file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    return "not a regular file"


def link_target(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def stat_failure(path: str, exc: OSError) -> tuple[SkipReason, str]:
    """The skip for a failed stat of ``path`` (through a symlink if it is one)."""
    is_link = os.path.islink(path)
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        if is_link:
            return "unreadable", f"broken symlink to {link_target(path)}"
        return "vanished", ""
    if exc.errno == errno.ELOOP:  # a link that resolves to itself, directly or in a ring
        return "symlink-loop", f"symlink to {link_target(path)} never resolves"
    return "unreadable", exc.strerror or str(exc)


def examine_file(
    path: str,
    st: os.stat_result,
    options: DiscoveryOptions,
    suffix: str | None = None,
    *,
    known: bool = False,
) -> FoundFile | Skipped:
    """Size and content checks for the regular file ``path`` with metadata ``st``; ``known``:
    its bytes passed the content checks before (indexed with this size and mtime under the
    same rules), so only the name and size are checked again."""
    name = path.rpartition("/")[2]
    if suffix is None:
        suffix = suffix_of(name)
    if suffix in BINARY_SUFFIXES:
        return Skipped(Path(path), "binary", f"{suffix} file")
    size = st.st_size
    if size == 0:
        return Skipped(Path(path), "empty")
    if size > options.max_size:
        return Skipped(Path(path), "too-large", f"{size} bytes, limit {options.max_size}")
    junk = not options.all_text and suffix not in DOCUMENT_SUFFIXES
    if junk and (verdict := judge_name(name, suffix)) is not None:
        return Skipped(Path(path), *verdict)  # decided by name: the file is never read
    try:
        # O_NONBLOCK: should the file have been swapped for a FIFO since the stat, the open
        # must not wait for a writer forever.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        return Skipped(Path(path), *_open_failure(exc))
    if known:  # still readable (a chmod keeps the mtime); its bytes were judged before
        os.close(fd)
        return FoundFile(Path(path), size, st.st_mtime_ns)
    try:
        # The junk rules judge a larger sample than the NUL sniff; still one read.
        head = os.read(fd, SAMPLE_BYTES if junk else SNIFF_BYTES)
    except OSError as exc:
        return Skipped(Path(path), *_open_failure(exc))
    finally:
        os.close(fd)
    if b"\0" in head[:SNIFF_BYTES] and suffix not in DOCUMENT_SUFFIXES:
        return Skipped(Path(path), "binary", "NUL byte in the first 8 KiB")
    if junk and (verdict := judge_content(name, suffix, head, size)) is not None:
        return Skipped(Path(path), *verdict)
    return FoundFile(Path(path), size, st.st_mtime_ns)


def _open_failure(exc: OSError) -> tuple[SkipReason, str]:
    if isinstance(exc, FileNotFoundError):
        return "vanished", ""
    return "unreadable", exc.strerror or str(exc)
