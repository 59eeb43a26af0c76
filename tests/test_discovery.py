"""Tests for sleuth.indexer.discovery and sleuth.indexer.ignore, on real trees in tmp_path."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sleuth.indexer import ignore
from sleuth.indexer.discovery import (
    DiscoveryOptions,
    FoundFile,
    Skipped,
    check_path,
    classify,
    is_ignored,
    walk,
)

IS_ROOT = os.geteuid() == 0
HAS_GIT = shutil.which("git") is not None


def write(path: Path, content: str | bytes = "text\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


class Result:
    """One walk: the yielded paths and the skips, both relative to ``base``."""

    def __init__(self, base: Path, found: list[FoundFile], skipped: list[Skipped]) -> None:
        self.base = base
        self.found = found
        self.skipped = skipped
        self.paths = [self.rel(f.path) for f in found]
        self.reasons = {self.rel(s.path): s.reason for s in skipped}
        self.details = {self.rel(s.path): s.detail for s in skipped}

    def rel(self, path: Path) -> str:
        return path.relative_to(self.base).as_posix() if path != self.base else "."


def run(base: Path, *roots: Path, **options: Any) -> Result:
    skipped: list[Skipped] = []
    found = list(walk(list(roots) or [base], DiscoveryOptions(**options), skipped.append))
    return Result(base, found, skipped)


@pytest.fixture
def scandir_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every directory the code under test lists."""
    calls: list[str] = []
    real = os.scandir

    def spy(path: Any = ".") -> Any:
        calls.append(os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", spy)
    return calls


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path the code under test opens with os.open."""
    calls: list[str] = []
    real = os.open

    def spy(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        calls.append(os.fspath(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    return calls


# --- basics ---------------------------------------------------------------------------------


def test_yields_files_depth_first_sorted_with_metadata(tmp_path: Path) -> None:
    for name in ["b.txt", "a/z.txt", "a/b/c.txt", "c.md", "a.txt"]:
        write(tmp_path / name, "hello\n")
    result = run(tmp_path)
    assert result.paths == ["a/b/c.txt", "a/z.txt", "a.txt", "b.txt", "c.md"]
    first = result.found[0]
    assert first.path == tmp_path / "a/b/c.txt"
    assert first.path.is_absolute()
    assert first.size == 6
    assert first.mtime_ns == (tmp_path / "a/b/c.txt").stat().st_mtime_ns
    assert result.skipped == []


def test_paths_are_absolute_and_normalised_not_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "real/doc.txt")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path)
    found = list(walk([Path("alias/../alias")]))
    assert [f.path for f in found] == [tmp_path / "alias/doc.txt"]


def test_missing_root_raises_before_anything_is_yielded(tmp_path: Path) -> None:
    write(tmp_path / "ok/a.txt")
    with pytest.raises(FileNotFoundError) as info:
        walk([tmp_path / "ok", tmp_path / "missing"])  # not iterated: the check is eager
    assert info.value.filename == str(tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        walk([tmp_path / "ok/a.txt/below"])


def test_a_single_path_instead_of_a_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        walk(str(tmp_path))  # type: ignore[arg-type]  # the mistake under test
    with pytest.raises(TypeError):
        walk(tmp_path)  # type: ignore[arg-type]


def test_max_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_size"):
        DiscoveryOptions(max_size=0)


def test_file_roots_are_taken_as_given(tmp_path: Path) -> None:
    # Naming a file explicitly overrides hidden and ignore rules, but not content checks.
    write(tmp_path / ".gitignore", "*.log\n")
    write(tmp_path / "run.log")
    write(tmp_path / ".secret.txt")
    write(tmp_path / "blob.dat", b"\0\1\2")
    result = run(tmp_path, tmp_path / "run.log", tmp_path / ".secret.txt", tmp_path / "blob.dat")
    assert result.paths == ["run.log", ".secret.txt"]
    assert result.reasons == {"blob.dat": "binary"}


def test_hidden_or_default_pruned_root_directory_is_walked(tmp_path: Path) -> None:
    write(tmp_path / ".config/app.toml")
    write(tmp_path / "node_modules/pkg/README.md")
    result = run(tmp_path, tmp_path / ".config", tmp_path / "node_modules")
    assert result.paths == [".config/app.toml", "node_modules/pkg/README.md"]


def test_overlapping_roots_yield_each_file_once(tmp_path: Path) -> None:
    write(tmp_path / "a/b/x.txt")
    write(tmp_path / "a/y.txt")
    result = run(tmp_path, tmp_path / "a/b", tmp_path / "a", tmp_path / "a/y.txt")
    assert result.paths == ["a/b/x.txt", "a/y.txt"]
    assert result.reasons == {"a/b": "duplicate", "a/y.txt": "duplicate"}


# --- ignore files ---------------------------------------------------------------------------


def test_nested_gitignore_negation_anchored_and_directory_only(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "*.log\n/top.txt\nout/\ndocs/**/draft.md\n# comment\n")
    write(tmp_path / "sub/.gitignore", "!important.log\nlocal.txt\n")
    files = [
        "a.log",  # *.log
        "top.txt",  # /top.txt: anchored to the root
        "sub/top.txt",  # ... so not this one
        "out/gen.txt",  # out/ is a directory here
        "sub/out/gen.txt",  # unanchored directory pattern: any depth
        "docs/a/b/draft.md",  # **
        "docs/draft.txt",
        "sub/important.log",  # re-included by the deeper file
        "sub/debug.log",  # still ignored by the root file
        "sub/local.txt",  # only the deeper file names it
        "local.txt",
    ]
    for name in files:
        write(tmp_path / name)
    write(tmp_path / "other/out", "a file named out: `out/` only matches directories\n")
    result = run(tmp_path)
    assert result.paths == [
        "docs/draft.txt",
        "local.txt",
        "other/out",
        "sub/important.log",
        "sub/top.txt",
    ]
    for name in ["a.log", "top.txt", "out", "sub/out", "docs/a/b/draft.md", "sub/debug.log"]:
        assert result.reasons[name] == "ignored", name
    assert result.reasons["sub/local.txt"] == "ignored"
    assert result.details["sub/local.txt"] == f"{tmp_path}/sub/.gitignore:2: local.txt"
    assert result.details["a.log"] == f"{tmp_path}/.gitignore:1: *.log"
    # A pruned directory is one skip: nothing inside it is reported.
    assert "out/gen.txt" not in result.reasons


def test_trailing_double_star_keeps_the_directory_open_for_reinclusion(tmp_path: Path) -> None:
    # Git: "build/**" matches what is inside build/, not build/ itself, so a later "!" works.
    write(tmp_path / ".gitignore", "build/**\n!build/keep.txt\n")
    write(tmp_path / "build/keep.txt")
    write(tmp_path / "build/drop.txt")
    write(tmp_path / "build/deep/more.txt")
    result = run(tmp_path)
    assert result.paths == ["build/keep.txt"]
    assert result.reasons["build/deep"] == "ignored"  # strictly inside: pruned whole
    assert "build/deep/more.txt" not in result.reasons


def test_sleuthignore_overrides_gitignore_and_builtins(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "*.log\ngenerated/\n")
    write(
        tmp_path / ".sleuthignore",
        "!keep.log\n!generated/\nsecret.txt\n!node_modules/\n!.github/\n",
    )
    for name in [
        "keep.log",
        "drop.log",
        "generated/api.md",
        "secret.txt",
        "node_modules/pkg/README.md",
        ".github/workflows/ci.yml",
        ".env",
        "venv/lib/x.py",
    ]:
        write(tmp_path / name)
    result = run(tmp_path)
    assert result.paths == [
        ".github/workflows/ci.yml",
        "generated/api.md",
        "keep.log",
        "node_modules/pkg/README.md",
    ]
    assert result.reasons["drop.log"] == "ignored"
    assert result.reasons["secret.txt"] == "ignored"
    assert result.details["secret.txt"] == f"{tmp_path}/.sleuthignore:3: secret.txt"
    assert result.reasons[".env"] == "hidden"
    assert result.reasons["venv"] == "ignored"


def test_sleuthignore_reinclusion_of_a_directory_is_not_one_of_its_contents(
    tmp_path: Path,
) -> None:
    # "!docs/" re-includes the directory; it says nothing about the hidden file inside.
    write(tmp_path / ".sleuthignore", "!docs/\n")
    write(tmp_path / "docs/.draft.md")
    write(tmp_path / "docs/guide.md")
    result = run(tmp_path)
    assert result.paths == ["docs/guide.md"]
    assert result.reasons == {".sleuthignore": "hidden", "docs/.draft.md": "hidden"}


def test_nothing_reincludes_below_a_pruned_directory(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "build/\n")
    write(tmp_path / ".sleuthignore", "!build/keep.txt\n")
    write(tmp_path / "build/keep.txt")
    assert run(tmp_path).paths == []


def test_deeper_sleuthignore_beats_shallower(tmp_path: Path) -> None:
    write(tmp_path / ".sleuthignore", "*.txt\n")
    write(tmp_path / "sub/.sleuthignore", "!wanted.txt\n")
    write(tmp_path / "sub/wanted.txt")
    write(tmp_path / "sub/other.txt")
    write(tmp_path / "wanted.txt")
    assert run(tmp_path).paths == ["sub/wanted.txt"]


def test_git_info_exclude_applies_below_the_gitignore(tmp_path: Path) -> None:
    write(tmp_path / "repo/.git/info/exclude", "*.tmp\nnotes/\n")
    write(tmp_path / "repo/.gitignore", "!keep.tmp\n")
    for name in ["a.tmp", "keep.tmp", "notes/n.md", "sub/b.tmp", "doc.md"]:
        write(tmp_path / "repo" / name)
    write(tmp_path / "outside.tmp")
    result = run(tmp_path)
    assert result.paths == ["outside.tmp", "repo/doc.md", "repo/keep.tmp"]
    assert result.reasons["repo/.git"] == "ignored"
    assert result.details["repo/a.tmp"].endswith("repo/.git/info/exclude:1: *.tmp")


def test_respect_ignore_files_off_keeps_builtin_pruning(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "*.log\n")
    write(tmp_path / ".sleuthignore", "!node_modules/\n")
    write(tmp_path / "a.log")
    write(tmp_path / "node_modules/x.js")
    result = run(tmp_path, respect_ignore_files=False)
    assert result.paths == ["a.log"]
    assert result.reasons["node_modules"] == "ignored"


def test_malformed_pattern_line_is_dropped_like_git(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "!\n\\\n*.log\n")
    write(tmp_path / "a.log")
    write(tmp_path / "a.txt")
    assert run(tmp_path).paths == ["a.txt"]


def test_unreadable_ignore_file_is_reported_and_the_walk_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / ".gitignore", "*.log\n")
    write(tmp_path / "a.log")
    denied = str(tmp_path / ".gitignore")
    real = os.open

    def fake_open(path: Any, flags: int, *args: Any) -> int:
        if os.fspath(path) == denied:
            raise PermissionError(13, "Permission denied", path)
        return real(path, flags, *args)

    monkeypatch.setattr(os, "open", fake_open)
    result = run(tmp_path)
    assert result.paths == ["a.log"]
    # Reported twice: its rules were not applied, and (as a dot-file) it is not indexed.
    assert [(result.rel(s.path), s.reason) for s in result.skipped] == [
        (".gitignore", "unreadable"),
        (".gitignore", "hidden"),
    ]
    assert "ignore rules not applied" in result.skipped[0].detail


def test_symlinked_gitignore_is_not_read_like_git(tmp_path: Path) -> None:
    write(tmp_path / "rules.txt", "*.log\n")
    (tmp_path / ".gitignore").symlink_to(tmp_path / "rules.txt")
    write(tmp_path / "a.log")
    assert run(tmp_path).paths == ["a.log", "rules.txt"]
    assert not is_ignored(tmp_path / "a.log", tmp_path)


# --- built-in pruning -----------------------------------------------------------------------

PRUNED = [
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    "_darcs",
    "__pycache__",
    "node_modules",
    ".venv",
    "venv",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".sleuth",
]


@pytest.mark.parametrize("name", PRUNED)
def test_builtin_pruned_directory_is_never_listed(
    tmp_path: Path, name: str, scandir_calls: list[str]
) -> None:
    for index in range(20):
        write(tmp_path / name / f"pkg{index}/deep/file.txt")
    write(tmp_path / "kept.txt")
    # hidden=True: the name itself, not its dot, is what prunes it.
    result = run(tmp_path, hidden=True)
    assert result.paths == ["kept.txt"]
    assert result.reasons == {name: "ignored"}
    assert scandir_calls == [str(tmp_path)]


def test_ignored_directory_is_pruned_without_listing(
    tmp_path: Path, scandir_calls: list[str]
) -> None:
    write(tmp_path / ".gitignore", "dist/\n")
    for index in range(50):
        write(tmp_path / f"dist/chunk{index}/x.js")
    write(tmp_path / "src/main.py")
    result = run(tmp_path)
    assert result.paths == ["src/main.py"]
    assert [path for path in result.reasons if path.startswith("dist")] == ["dist"]
    assert not any(call.startswith(str(tmp_path / "dist")) for call in scandir_calls)


def test_vcs_directories_stay_pruned_even_when_hidden_is_on(tmp_path: Path) -> None:
    write(tmp_path / ".git/config")
    write(tmp_path / ".sleuthignore", "!.git/\n")
    write(tmp_path / "sub/.git", "gitdir: ../.git/modules/sub\n")  # a submodule's .git file
    write(tmp_path / "sub/code.py")
    result = run(tmp_path, hidden=True)
    assert result.paths == [".sleuthignore", "sub/code.py"]
    assert result.reasons[".git"] == "ignored"
    assert result.reasons["sub/.git"] == "ignored"


def test_default_names_as_plain_files_are_kept(tmp_path: Path) -> None:
    write(tmp_path / "venv", "just a file called venv\n")
    assert run(tmp_path).paths == ["venv"]


# --- hidden ---------------------------------------------------------------------------------


def test_hidden_entries_skipped_by_default_and_ignore_files_still_read(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "*.log\n")
    write(tmp_path / ".sleuthignore", "draft.md\n")
    write(tmp_path / ".env.txt")
    write(tmp_path / ".config/app.toml")
    write(tmp_path / "a.log")
    write(tmp_path / "draft.md")
    write(tmp_path / "doc.md")
    off = run(tmp_path)
    assert off.paths == ["doc.md"]
    assert off.reasons[".config"] == "hidden"
    assert off.reasons[".env.txt"] == "hidden"
    assert off.reasons[".gitignore"] == "hidden"
    assert "doc.md" not in off.reasons
    on = run(tmp_path, hidden=True)
    assert on.paths == [".config/app.toml", ".env.txt", ".gitignore", ".sleuthignore", "doc.md"]


# --- content and size -----------------------------------------------------------------------


def test_binary_sniffing_and_document_passthrough(tmp_path: Path, opened: list[str]) -> None:
    write(tmp_path / "blob.dat", b"header\0\1\2" + b"x" * 100)
    write(tmp_path / "late-nul.txt", b"word " * 1640 + b"\0")  # beyond the sniffed 8 KiB
    write(tmp_path / "report.pdf", b"%PDF-1.7\n\0\1\2binary")
    write(tmp_path / "letter.DOCX", b"PK\3\4\0\0")
    write(tmp_path / "photo.png", "not really a png, but the suffix decides\n")
    write(tmp_path / "notes.txt", "caf\u00e9\n")
    result = run(tmp_path)
    assert result.paths == ["late-nul.txt", "letter.DOCX", "notes.txt", "report.pdf"]
    assert result.reasons == {"blob.dat": "binary", "photo.png": "binary"}
    assert result.details["photo.png"] == ".png file"
    assert str(tmp_path / "photo.png") not in opened


def test_size_cap(tmp_path: Path, opened: list[str]) -> None:
    write(tmp_path / "exact.txt", "x" * 100)
    write(tmp_path / "big.txt", "x" * 101)
    write(tmp_path / "big.pdf", "x" * 101)
    result = run(tmp_path, max_size=100)
    assert result.paths == ["exact.txt"]
    assert result.reasons == {"big.pdf": "too-large", "big.txt": "too-large"}
    assert "101 bytes" in result.details["big.txt"]
    assert str(tmp_path / "big.txt") not in opened


def test_empty_file_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "empty.txt", "")
    write(tmp_path / "empty.pdf", "")
    result = run(tmp_path)
    assert result.paths == []
    assert result.reasons == {"empty.pdf": "empty", "empty.txt": "empty"}


# --- symlinks -------------------------------------------------------------------------------


def test_symlinks_are_not_followed_by_default(tmp_path: Path, scandir_calls: list[str]) -> None:
    write(tmp_path / "real/doc.txt")
    (tmp_path / "file-link.txt").symlink_to(tmp_path / "real/doc.txt")
    (tmp_path / "dir-link").symlink_to(tmp_path / "real", target_is_directory=True)
    result = run(tmp_path)
    assert result.paths == ["real/doc.txt"]
    assert result.reasons == {"dir-link": "symlink", "file-link.txt": "symlink"}
    assert result.details["dir-link"] == f"to {tmp_path / 'real'}"
    assert str(tmp_path / "dir-link") not in scandir_calls


@pytest.mark.parametrize("follow", [False, True])
def test_symlink_loop_terminates_and_is_reported(tmp_path: Path, follow: bool) -> None:
    write(tmp_path / "a/doc.txt")
    (tmp_path / "a/up").symlink_to("..")  # the walk's root
    (tmp_path / "a/self").symlink_to(".")  # its own directory
    (tmp_path / "a/ring").symlink_to("ring")  # never resolves: ELOOP
    result = run(tmp_path, follow_symlinks=follow)
    assert result.paths == ["a/doc.txt"]
    if follow:
        assert result.reasons == {
            "a/up": "symlink-loop",
            "a/self": "symlink-loop",
            "a/ring": "symlink-loop",
        }
    else:
        assert result.reasons == {"a/up": "symlink", "a/self": "symlink", "a/ring": "symlink"}


def test_follow_walks_linked_directories_outside_the_root(tmp_path: Path) -> None:
    write(tmp_path / "elsewhere/shared.md")
    write(tmp_path / "root/own.md")
    (tmp_path / "root/linked").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "root/single.md").symlink_to(tmp_path / "elsewhere/shared.md")
    result = run(tmp_path, tmp_path / "root", follow_symlinks=True)
    # Links come after real entries, so the real-looking path under the link dir wins
    # over the file link only by order of discovery.
    assert result.paths == ["root/own.md", "root/linked/shared.md"]
    assert result.reasons == {"root/single.md": "duplicate"}


def test_follow_yields_a_file_once_under_its_real_path(tmp_path: Path) -> None:
    write(tmp_path / "z-real/doc.txt")
    write(tmp_path / "z-real/sub/more.txt")
    (tmp_path / "a-link.txt").symlink_to(tmp_path / "z-real/doc.txt")
    (tmp_path / "b-link.txt").symlink_to(tmp_path / "z-real/doc.txt")
    (tmp_path / "c-dir").symlink_to(tmp_path / "z-real")
    (tmp_path / "d-sub").symlink_to(tmp_path / "z-real/sub")
    result = run(tmp_path, follow_symlinks=True)
    # The links sort first, but real paths are preferred.
    assert result.paths == ["z-real/doc.txt", "z-real/sub/more.txt"]
    assert result.reasons == {
        "a-link.txt": "duplicate",
        "b-link.txt": "duplicate",
        "c-dir": "duplicate",
        "d-sub": "duplicate",
    }
    assert result.details["a-link.txt"] == f"same file as {tmp_path / 'z-real/doc.txt'}"


def test_follow_applies_ignore_rules_to_links_by_their_own_name(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "cache/\n*.bak\n")
    write(tmp_path / "data/x.txt")
    (tmp_path / "cache").symlink_to(tmp_path / "data")  # a directory once followed
    (tmp_path / "old.bak").symlink_to(tmp_path / "missing")  # ignored before it is judged
    result = run(tmp_path, follow_symlinks=True)
    assert result.paths == ["data/x.txt"]
    assert result.reasons["cache"] == "ignored"
    assert result.reasons["old.bak"] == "ignored"


@pytest.mark.parametrize(("follow", "reason"), [(False, "symlink"), (True, "unreadable")])
def test_dangling_symlink(tmp_path: Path, follow: bool, reason: str) -> None:
    (tmp_path / "broken.txt").symlink_to(tmp_path / "nowhere.txt")
    result = run(tmp_path, follow_symlinks=follow)
    assert result.paths == []
    assert result.reasons == {"broken.txt": reason}
    if follow:
        assert result.details["broken.txt"] == f"broken symlink to {tmp_path / 'nowhere.txt'}"


def test_symlinked_root_is_followed_and_reported_under_its_own_path(tmp_path: Path) -> None:
    write(tmp_path / "real/doc.txt")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    result = run(tmp_path, tmp_path / "alias")
    assert result.paths == ["alias/doc.txt"]


# --- errors ---------------------------------------------------------------------------------


def deny_listing(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    real = os.scandir

    def fake_scandir(path: Any = ".") -> Any:
        if os.fspath(path) == str(denied):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", fake_scandir)


def test_unreadable_directory_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root ignores permission bits, so the refusal is simulated where the walker lists.
    write(tmp_path / "locked/secret.txt")
    write(tmp_path / "open/doc.txt")
    deny_listing(monkeypatch, tmp_path / "locked")
    result = run(tmp_path)
    assert result.paths == ["open/doc.txt"]
    assert result.reasons == {"locked": "unreadable"}
    assert result.details["locked"] == "Permission denied"


@pytest.mark.skipif(IS_ROOT, reason="root bypasses permission bits; see the simulated variant")
def test_unreadable_directory_for_real(tmp_path: Path) -> None:
    write(tmp_path / "locked/secret.txt")
    write(tmp_path / "open/doc.txt")
    (tmp_path / "locked").chmod(0)
    try:
        result = run(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert result.paths == ["open/doc.txt"]
    assert result.reasons == {"locked": "unreadable"}


def test_unreadable_file_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "secret.txt")
    write(tmp_path / "doc.txt")
    real = os.open
    denied = str(tmp_path / "secret.txt")

    def fake_open(path: Any, flags: int, *args: Any) -> int:
        if os.fspath(path) == denied:
            raise PermissionError(13, "Permission denied", path)
        return real(path, flags, *args)

    monkeypatch.setattr(os, "open", fake_open)
    result = run(tmp_path)
    assert result.paths == ["doc.txt"]
    assert result.reasons == {"secret.txt": "unreadable"}


@pytest.mark.skipif(IS_ROOT, reason="root bypasses permission bits; see the simulated variant")
def test_unreadable_file_for_real(tmp_path: Path) -> None:
    write(tmp_path / "secret.txt").chmod(0)
    write(tmp_path / "doc.txt")
    result = run(tmp_path)
    assert result.paths == ["doc.txt"]
    assert result.reasons == {"secret.txt": "unreadable"}


def test_unreadable_root_is_a_skip_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "doc.txt")
    deny_listing(monkeypatch, tmp_path)
    result = run(tmp_path)
    assert result.paths == []
    assert result.reasons == {".": "unreadable"}


def test_fifo_and_socket_are_never_opened(tmp_path: Path, opened: list[str]) -> None:
    os.mkfifo(tmp_path / "pipe")
    sock_path = tmp_path / "sock"
    server = None
    if len(os.fsencode(sock_path)) < 100:  # AF_UNIX path limit
        server = socket.socket(socket.AF_UNIX)
        server.bind(os.fspath(sock_path))
    write(tmp_path / "doc.txt")
    try:
        for follow in (False, True):
            result = run(tmp_path, follow_symlinks=follow)
            assert result.paths == ["doc.txt"]
            assert result.reasons["pipe"] == "not-a-file"
            assert result.details["pipe"] == "named pipe"
            if server is not None:
                assert result.reasons["sock"] == "not-a-file"
                assert result.details["sock"] == "socket"
        # Through a followed link, and as an explicit root, it is the same.
        (tmp_path / "pipe-link").symlink_to(tmp_path / "pipe")
        result = run(tmp_path, tmp_path, tmp_path / "pipe", follow_symlinks=True)
        assert result.reasons["pipe-link"] == "not-a-file"
        assert result.paths == ["doc.txt"]
    finally:
        if server is not None:
            server.close()
    assert not any(path.startswith(str(tmp_path / "pipe")) for path in opened)


def test_character_device_is_not_a_file() -> None:
    skipped: list[Skipped] = []
    assert list(walk([Path("/dev/null")], on_skip=skipped.append)) == []
    assert skipped == [Skipped(Path("/dev/null"), "not-a-file", "character device")]


def test_file_vanishing_between_listing_and_stat(tmp_path: Path) -> None:
    for name in ["a.txt", "b.txt", "c.txt"]:
        write(tmp_path / name)
    write(tmp_path / "d/inner.txt")
    skipped: list[Skipped] = []
    walker = walk([tmp_path], DiscoveryOptions(), skipped.append)
    first = next(walker)  # the directory has been listed by now
    (tmp_path / "b.txt").unlink()
    shutil.rmtree(tmp_path / "d")
    rest = list(walker)
    assert [f.path.name for f in [first, *rest]] == ["a.txt", "c.txt"]
    assert {(s.path.name, s.reason) for s in skipped} == {("b.txt", "vanished"), ("d", "vanished")}


def test_file_vanishing_between_stat_and_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "gone.txt")
    write(tmp_path / "kept.txt")
    real = os.open
    target = str(tmp_path / "gone.txt")

    def racing_open(path: Any, flags: int, *args: Any) -> int:
        if os.fspath(path) == target:
            Path(target).unlink()
        return real(path, flags, *args)

    monkeypatch.setattr(os, "open", racing_open)
    result = run(tmp_path)
    assert result.paths == ["kept.txt"]
    assert result.reasons == {"gone.txt": "vanished"}


def test_names_that_are_not_utf8_are_skipped(tmp_path: Path) -> None:
    # os.fsdecode turns the undecodable bytes into surrogates, and Path encodes them back.
    write(tmp_path / os.fsdecode(b"caf\xe9.txt"), b"latin-1 name\n")
    write(tmp_path / os.fsdecode(b"d\xffir") / "inner.txt", b"inside a badly named directory\n")
    assert os.fsdecode(b"caf\xe9.txt") in {p.name for p in tmp_path.iterdir()}
    write(tmp_path / "caf\u00e9.txt", "a proper UTF-8 name\n")
    result = run(tmp_path)
    assert result.paths == ["caf\u00e9.txt"]
    bad = {os.fsencode(s.path.name): s for s in result.skipped}
    assert set(bad) == {b"caf\xe9.txt", b"d\xffir"}
    assert all(s.reason == "bad-name" for s in bad.values())
    assert "\\xe9" in bad[b"caf\xe9.txt"].detail


# --- check_path / is_ignored ----------------------------------------------------------------


def build_rich_tree(base: Path) -> None:
    write(base / ".gitignore", "*.log\n/only-top.md\nout/\ncache/**\n!cache/keep.txt\n")
    write(base / ".sleuthignore", "!vendor.log\n!.well-known/\nprivate/\n")
    write(base / "sub/.gitignore", "!debug.log\n*.md\n!README.md\n")
    write(base / "repo/.git/info/exclude", "*.tmp\n")
    names = [
        "a.log",
        "vendor.log",
        "only-top.md",
        "out/x.txt",
        "cache/keep.txt",
        "cache/drop.txt",
        "cache/deeper/x.txt",
        ".well-known/security.txt",
        ".hidden/file.txt",
        ".hidden.txt",
        "private/p.txt",
        "sub/debug.log",
        "sub/error.log",
        "sub/only-top.md",
        "sub/README.md",
        "sub/out/y.txt",
        "node_modules/m/index.js",
        "__pycache__/c.pyc",
        "repo/a.tmp",
        "repo/b.txt",
        "repo/.git/HEAD",
        "plain.txt",
    ]
    for name in names:
        write(base / name)


def all_paths(base: Path) -> Iterator[Path]:
    for directory, dirs, files in os.walk(base):
        for name in dirs + files:
            yield Path(directory, name)


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("respect", [False, True])
def test_is_ignored_agrees_with_walk(tmp_path: Path, hidden: bool, respect: bool) -> None:
    build_rich_tree(tmp_path)
    options = DiscoveryOptions(hidden=hidden, respect_ignore_files=respect)
    skipped: list[Skipped] = []
    found = {f.path for f in walk([tmp_path], options, skipped.append)}
    pruned = {s.path for s in skipped if s.reason in ("ignored", "hidden")}
    assert found
    for path in all_paths(tmp_path):
        expected = any(p in pruned for p in [path, *path.parents])
        assert is_ignored(path, tmp_path, options) == expected, path
        if path.is_file() and not expected:
            assert path in found, path


def test_check_path_reports_the_pruned_ancestor(tmp_path: Path) -> None:
    build_rich_tree(tmp_path)
    skip = check_path(tmp_path / "sub/out/y.txt", tmp_path)
    assert skip == Skipped(tmp_path / "sub/out", "ignored", f"{tmp_path}/.gitignore:3: out/")
    assert check_path(tmp_path / "sub/README.md", tmp_path) is None
    assert check_path(tmp_path, tmp_path) is None


def test_check_path_of_a_deleted_path_uses_is_dir(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "gone/\n")
    assert check_path(tmp_path / "gone", tmp_path) is None  # unknown: taken as a file
    assert is_ignored(tmp_path / "gone", tmp_path, is_dir=True)


def test_check_path_outside_root_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not under"):
        check_path(tmp_path.parent / "elsewhere.txt", tmp_path)
    with pytest.raises(ValueError):
        check_path(Path(f"{tmp_path}-sibling/x.txt"), tmp_path)


def test_check_path_rereads_a_changed_gitignore(tmp_path: Path) -> None:
    ignore.clear_ignore_cache()
    write(tmp_path / "x.log")
    write(tmp_path / "x.txt")
    assert not is_ignored(tmp_path / "x.log", tmp_path)
    write(tmp_path / ".gitignore", "*.log\n")
    assert is_ignored(tmp_path / "x.log", tmp_path)
    write(tmp_path / ".gitignore", "*.log\n*.txt\n")  # a different size: a new identity
    assert is_ignored(tmp_path / "x.txt", tmp_path)
    (tmp_path / ".gitignore").unlink()
    assert not is_ignored(tmp_path / "x.txt", tmp_path)


def test_check_path_reads_each_ignore_file_once_while_unchanged(
    tmp_path: Path, opened: list[str]
) -> None:
    ignore.clear_ignore_cache()
    write(tmp_path / ".gitignore", "*.log\n")
    write(tmp_path / "sub/.sleuthignore", "*.tmp\n")
    for name in ["a.log", "b.txt", "sub/c.tmp", "sub/d.txt"]:
        assert is_ignored(tmp_path / name, tmp_path) == name.endswith((".log", ".tmp"))
    assert sorted(opened) == [str(tmp_path / ".gitignore"), str(tmp_path / "sub/.sleuthignore")]


def test_a_fifo_named_like_an_ignore_file_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / ".gitignore")
    write(tmp_path / "a.log")
    result = run(tmp_path, hidden=True)
    assert result.paths == ["a.log"]
    assert result.reasons == {".gitignore": "not-a-file"}
    assert not is_ignored(tmp_path / "a.log", tmp_path)


def test_check_path_bad_name(tmp_path: Path) -> None:
    path = tmp_path / os.fsdecode(b"caf\xe9.txt")
    skip = check_path(path, tmp_path)
    assert skip is not None
    assert skip.reason == "bad-name"


# --- classify -------------------------------------------------------------------------------


def test_classify_single_files(tmp_path: Path) -> None:
    doc = write(tmp_path / "doc.txt", "hello\n")
    assert classify(doc) == FoundFile(doc, 6, doc.stat().st_mtime_ns)
    blob = write(tmp_path / "b.dat", b"\0")
    assert classify(blob) == Skipped(blob, "binary", "NUL byte in the first 8 KiB")
    big = classify(write(tmp_path / "big.txt", "x" * 50), DiscoveryOptions(max_size=10))
    assert isinstance(big, Skipped)
    assert big.reason == "too-large"
    assert classify(tmp_path / "missing.txt") == Skipped(tmp_path / "missing.txt", "vanished")
    assert classify(tmp_path) == Skipped(tmp_path, "not-a-file", "a directory")


# --- agreement with git ---------------------------------------------------------------------


def git_untracked(base: Path) -> list[str]:
    """What git itself considers untracked and not ignored under ``base``."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(base),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "core.excludesFile=", *args],
            cwd=base,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    git("init", "-q", ".")
    output = git("ls-files", "--others", "--exclude-standard", "-z")
    return sorted(name for name in output.split("\0") if name)


def walked(base: Path) -> list[str]:
    found = walk([base], DiscoveryOptions(hidden=True))
    return sorted(f.path.relative_to(base).as_posix() for f in found)


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_matches_git_on_a_fixed_tree(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "*.log\n!keep.log\n/top/\nlib/**\n!lib/a/\n**/tmp\nx/*/y\n")
    write(tmp_path / "a/.gitignore", "!*.log\nsecret\n")
    # A deeper "!dir/" re-includes the directory, not the root's "*.log" inside it.
    write(tmp_path / "s/.gitignore", "!build/\n")
    # "Only markdown": ignore everything, re-include every directory and *.md.
    write(tmp_path / "md/.gitignore", "*\n!*/\n!*.md\n")
    for name in [
        "keep.log",
        "drop.log",
        "top/x.txt",
        "a/top/x.txt",
        "a/d.log",
        "a/secret",
        "a/b/secret",
        "lib/a/f.txt",
        "lib/b/f.txt",
        "lib/c.txt",
        "q/tmp",
        "q/tmp2",
        "x/m/y",
        "x/m/z",
        "x/m/n/y",
        "s/build/x.log",
        "s/build/x.txt",
        "md/a.md",
        "md/a.txt",
        "md/deep/er/b.md",
        "md/deep/er/b.txt",
    ]:
        write(tmp_path / name)
    expected = git_untracked(tmp_path)
    assert "s/build/x.txt" in expected
    assert "md/deep/er/b.md" in expected
    assert walked(tmp_path) == expected


NAMES = ["a", "b", "c.txt", "d.log"]
PATTERNS = [
    "a",
    "a/",
    "/a",
    "/a/",
    "b/",
    "*.log",
    "!d.log",
    "*.txt",
    "!c.txt",
    "a/**",
    "!a/c.txt",
    "**/b",
    "a/*",
    "!a/b/",
    "b/**/c.txt",
    "/b/a",
    "*",
    "/*",
    "!*/",
    "*/",
    "**/",
    "*/**",
    "!b",
    "!/b",
    "**/a/**",
    "a/**/",
    "?.txt",
    "[ab]",
    "!/a/b",
    "!**/d.log",
]

trees = st.recursive(
    st.just("file"),
    lambda children: st.dictionaries(st.sampled_from(NAMES), children, min_size=1, max_size=3),
    max_leaves=14,
)
ignore_sets = st.lists(st.sampled_from(PATTERNS), max_size=4)


def build(base: Path, tree: object, rules: Callable[[], list[str]]) -> None:
    assert isinstance(tree, dict)
    lines = rules()
    if lines:
        write(base / ".gitignore", "".join(line + "\n" for line in lines))
    for name, child in tree.items():
        if child == "file":
            write(base / name, f"{name}\n")
        else:
            build(base / name, child, rules)


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees.filter(lambda t: isinstance(t, dict)), data=st.data())
def test_matches_git_on_generated_trees(tree: object, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as temp:
        base = Path(temp)
        build(base, tree, lambda: data.draw(ignore_sets))
        assert walked(base) == git_untracked(base)


# --- speed ----------------------------------------------------------------------------------


def test_ten_thousand_files_walk_quickly(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "*.log\n/build/\nfoo/**\n")
    for directory in range(100):
        folder = tmp_path / f"d{directory:03}"
        folder.mkdir()
        for index in range(100):
            (folder / f"f{index:03}.txt").write_text("some text for the sniffer\n")
    start = time.perf_counter()
    count = sum(1 for _ in walk([tmp_path]))
    elapsed = time.perf_counter() - start
    assert count == 10_000
    # Typically ~0.3 s; the bound only catches accidental quadratic behaviour.
    assert elapsed < 2.0, f"walking 10,000 files took {elapsed:.2f}s"
