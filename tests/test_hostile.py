"""``sleuth index`` on a hostile folder: 133 real-world PDFs from the pypdf and pikepdf source
distributions (encrypted, fuzzed, truncated, scanned, multi-megabyte) plus every kind of junk
(see ``hostile_corpus``), indexed by a real ``sleuth`` process with the real model.

Expected: exit 0, no traceback, every skip counted by its reason in the ``--json`` summary,
every file accounted for exactly once, nothing from an unreadable place indexed, and the text
of every PDF that the extractor can read findable by ``sleuth search``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clirun import sleuth
from fakes import FakeEmbedder
from hostile_corpus import (
    Junk,
    NetworkDown,
    add_junk,
    distinctive_words,
    drop_dac_override,
    extract_pdfs,
    fetch_sdists,
    permissions_enforced,
    unlock,
)

from sleuth.extractors.base import ExtractionError
from sleuth.extractors.registry import extract
from sleuth.indexer.pipeline import run_index
from sleuth.store.paths import resolve_index

MAX_SIZE = "200K"
MAX_BYTES = 200 * 1024
INDEX_TIMEOUT = 1200  # seconds; ~15 s on an idle 2-core machine, several times that when shared


@pytest.fixture(scope="module")
def sdists() -> list[Path]:
    try:
        return fetch_sdists()
    except NetworkDown as exc:
        pytest.skip(f"pypdf/pikepdf sdists are not cached and the network is down: {exc}")


@dataclass
class HostileRun:
    root: Path
    home: Path
    pdfs: list[Path]
    junk: Junk
    readable: dict[Path, str]  # PDF (within the cap) -> extracted text
    failed: dict[Path, str]  # PDF (within the cap) -> extraction error
    enforced: bool  # the child really is refused the unreadable entries
    code: int
    summary: dict[str, Any]
    stderr: str
    seconds: float
    extract_seconds: float

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("SLEUTH_INDEX", "SLEUTH_MODEL")}
        return {**env, "SLEUTH_HOME": str(self.home), "NO_COLOR": "1", **extra}


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sleuth.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=INDEX_TIMEOUT,
        preexec_fn=drop_dac_override,  # root is refused mode-000 entries, like anyone else
        check=False,
    )


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile") / "corpus"


@pytest.fixture(scope="module")
def pdf_files(sdists: list[Path], corpus_root: Path) -> list[Path]:
    """Every PDF of both sdists, under ``corpus_root/pdfs``."""
    return extract_pdfs(sdists, corpus_root / "pdfs")


@pytest.fixture(scope="module")
def hostile(pdf_files: list[Path], corpus_root: Path) -> Iterator[HostileRun]:
    root, pdfs = corpus_root, pdf_files
    base = root.parent
    junk = add_junk(root, MAX_BYTES)
    home = base / "home"
    home.mkdir()

    started = time.perf_counter()
    readable: dict[Path, str] = {}
    failed: dict[Path, str] = {}
    for pdf in pdfs:
        if pdf.stat().st_size > MAX_BYTES:
            continue
        try:
            readable[pdf] = extract(pdf).text
        except ExtractionError as exc:
            failed[pdf] = str(exc)
    extract_seconds = time.perf_counter() - started

    run = HostileRun(
        root, home, pdfs, junk, readable, failed, False, -1, {}, "", 0.0, extract_seconds
    )
    assert junk.unreadable_dir is not None
    run.enforced = permissions_enforced(junk.unreadable_dir)
    started = time.perf_counter()
    done = run_cli(["index", str(root), "--json", "--max-size", MAX_SIZE], run.env(), base)
    run.seconds = time.perf_counter() - started
    run.code, run.stderr = done.returncode, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    run.summary = json.loads(lines[-1]) if lines else {}
    print(
        f"\nhostile corpus: {len(pdfs)} PDFs ({len(readable)} readable within {MAX_SIZE}, "
        f"{len(failed)} not, {len(pdfs) - len(readable) - len(failed)} over the cap); "
        f"extract {extract_seconds:.1f}s, index {run.seconds:.1f}s\n"
        f"summary: {json.dumps(run.summary)}"
    )
    yield run
    unlock(junk)


def _expected_skips(run: HostileRun) -> Counter[str]:
    """Each skip reason and how often it must appear, computed without sleuth's walker."""
    want: Counter[str] = Counter()
    for reason, paths in run.junk.expected.items():
        want[reason] += len(paths)
    if not run.enforced:  # root with its capabilities: the "unreadable" entries are read
        want["unreadable"] = 0
    for pdf in run.pdfs:
        if pdf.stat().st_size > MAX_BYTES:
            want["too-large"] += 1
    for error in run.failed.values():
        want["encrypted" if "encrypted" in error.lower() else "extract-error"] += 1
    return +want


@pytest.mark.slow
def test_corpus_is_as_hostile_as_promised(hostile: HostileRun) -> None:
    assert len(hostile.pdfs) > 130
    over_cap = [p for p in hostile.pdfs if p.stat().st_size > MAX_BYTES]
    assert len(over_cap) >= 5
    encrypted = {p for p in hostile.pdfs if b"/Encrypt" in p.read_bytes()}
    malformed = {p for p, e in hostile.failed.items() if "no text" not in e} - encrypted
    assert len(encrypted) + len(malformed) > 25, (sorted(encrypted), sorted(malformed))
    assert hostile.enforced or os.geteuid() != 0, "could not make a directory unreadable"


@pytest.mark.slow
def test_exit_zero_without_traceback(hostile: HostileRun) -> None:
    assert hostile.code == 0, hostile.stderr[-3000:]
    assert "Traceback" not in hostile.stderr
    # Every line is one of sleuth's own messages (nothing leaked from pypdf or Python).
    strays = [line for line in hostile.stderr.splitlines() if not line.startswith("sleuth: ")]
    assert strays == []


@pytest.mark.slow
def test_every_skip_counted_by_reason(hostile: HostileRun) -> None:
    summary = hostile.summary
    assert summary["skipped"] == dict(sorted(_expected_skips(hostile).items()))
    assert summary["files_skipped"] == sum(summary["skipped"].values())
    # Every file is accounted for exactly once: indexed or skipped.
    entries = len(hostile.pdfs) + sum(len(v) for v in hostile.junk.expected.values())
    if not hostile.enforced:
        entries += len(hostile.junk.hidden_away) - len(hostile.junk.expected["unreadable"])
    entries += len(hostile.junk.searchable)
    assert summary["files_indexed"] + summary["files_skipped"] == entries
    assert summary["files_indexed"] == len(hostile.readable) + len(hostile.junk.searchable) + (
        0 if hostile.enforced else len(hostile.junk.hidden_away)
    )
    assert summary["chunks_added"] >= summary["files_indexed"]
    assert summary["files_removed"] == summary["files_moved"] == 0


@pytest.mark.slow
def test_skip_warnings_name_the_files(hostile: HostileRun) -> None:
    for pdf, error in hostile.failed.items():
        assert f"skipped {pdf}: " in hostile.stderr, error
    for path in hostile.junk.expected.get("too-large", ()):
        assert f"skipped {path}: too-large" in hostile.stderr


@pytest.mark.slow
def test_index_is_consistent(hostile: HostileRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLEUTH_HOME", str(hostile.home))
    result = sleuth("status", "--check", "--json")
    assert result.code == 0, result.err
    info = result.json_lines()[0]
    assert info["consistent"] is True
    assert info["files"] == hostile.summary["files_indexed"]
    assert info["chunks"] == hostile.summary["chunks_added"]


@pytest.mark.slow
def test_every_readable_pdf_is_searchable(
    hostile: HostileRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLEUTH_HOME", str(hostile.home))
    words = distinctive_words(hostile.readable)
    wordless = sorted(str(p) for p in hostile.readable if p not in words)
    assert len(wordless) <= 2, wordless  # a PDF whose text holds no word at all
    targets = {**words, **hostile.junk.searchable}
    missing: list[str] = []
    casefold_bug: list[str] = []
    started = time.perf_counter()
    for path, word in sorted(targets.items()):
        result = sleuth(
            "search", word, "--mode", "lexical", "--json", "--path-prefix", str(path), "-k", "3"
        )
        paths = {hit["path"] for hit in result.json_lines()} if result.code == 0 else set()
        if str(path) not in paths:
            problem = f"{path.relative_to(hostile.root)} ({word!r}: exit {result.code})"
            # See test_query_words_are_not_lowercased_differently_from_the_index.
            folds_apart = any(not c.isascii() and c.lower() != c for c in word)
            (casefold_bug if folds_apart else missing).append(problem)
    print(
        f"\n{len(targets)} targeted searches in {time.perf_counter() - started:.1f}s; "
        f"lost to the case-folding bug: {casefold_bug}"
    )
    assert missing == []
    assert len(casefold_bug) <= 1  # fpdf2_occulta.pdf: its only word is Cherokee


@pytest.mark.slow
def test_unreadable_entries_stay_out(hostile: HostileRun, monkeypatch: pytest.MonkeyPatch) -> None:
    if not hostile.enforced:
        pytest.skip("running as root with CAP_DAC_OVERRIDE: nothing is unreadable")
    monkeypatch.setenv("SLEUTH_HOME", str(hostile.home))
    for path, word in hostile.junk.hidden_away.items():
        result = sleuth("search", word, "--mode", "lexical", "--json")
        assert result.code == 1, (path, result.out)


@pytest.mark.slow
def test_follow_rerun_survives_loops_and_embeds_nothing(hostile: HostileRun) -> None:
    """Again with --follow: the loops are detected, and nothing already indexed changes."""
    args = ["index", str(hostile.root), "--json", "--max-size", MAX_SIZE, "--follow"]
    started = time.perf_counter()
    done = run_cli(args, hostile.env(), hostile.root.parent)
    seconds = time.perf_counter() - started
    print(f"\n--follow re-run: {seconds:.1f}s: {done.stdout.strip()}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    summary = json.loads(done.stdout.splitlines()[-1])
    assert summary["files_indexed"] == 0
    assert summary["chunks_added"] == summary["chunks_removed"] == 0
    assert summary["files_removed"] == 0
    assert summary["files_unchanged"] == hostile.summary["files_indexed"]
    skipped = summary["skipped"]
    # self-link, the two-link ring, loops/up -> .., loops/to-root -> the root.
    assert skipped.get("symlink-loop") == 5, skipped
    assert "symlink" not in skipped
    dangling = 1
    unreadable = len(hostile.junk.expected["unreadable"]) if hostile.enforced else 0
    assert skipped.get("unreadable", 0) == dangling + unreadable, skipped


def test_aes_encrypted_pdfs_are_opened_or_reported_as_encrypted(pdf_files: list[Path]) -> None:
    encrypted = [p for p in pdf_files if b"/Encrypt" in p.read_bytes()]
    assert len(encrypted) >= 20
    wrong: list[str] = []
    for pdf in encrypted:
        try:
            extract(pdf)
        except ExtractionError as exc:
            if "encrypted" not in str(exc).lower() and "no text" not in str(exc):
                wrong.append(f"{pdf.name}: {exc}")
    assert wrong == []
    # Owner-password-only files open with the empty user password (pdf.py says so).
    for name in ("r5-empty-password.pdf", "r6-empty-password.pdf", "r6-owner-password.pdf"):
        (pdf,) = [p for p in encrypted if p.name == name]
        assert "pdf encryption test" in extract(pdf).text


def test_query_words_are_not_lowercased_differently_from_the_index(tmp_path: Path) -> None:
    # fpdf2_occulta.pdf from the pikepdf sdist holds just "\ue000 \u13a0x".
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "cherokee.txt").write_text("The syllable \u13a0x appears here.\n")
    run_index(resolve_index(None).directory, [notes], FakeEmbedder())
    result = sleuth("search", "\u13a0x", "--mode", "lexical", "--json")
    assert result.code == 0, result.err
    assert [hit["path"] for hit in result.json_lines()] == [str(notes / "cherokee.txt")]


def test_every_hostile_pdf_extracts_or_fails_cleanly_even_over_the_cap(
    pdf_files: list[Path],
) -> None:
    """All 133 PDFs, the multi-megabyte ones too, through PDFium's child and pypdf's fallback."""
    from sleuth.extractors import pdfium

    pdfium.take_crashes()
    outcomes: Counter[str] = Counter()
    for pdf in pdf_files:
        try:
            extract(pdf)
            outcomes["text"] += 1
        except ExtractionError:
            outcomes["error"] += 1
    crashes = pdfium.take_crashes()
    print(f"\n{dict(outcomes)}; PDF engine crashes (fell back to pypdf): {crashes}")
    assert sum(outcomes.values()) == len(pdf_files)
    assert outcomes["text"] > 60
