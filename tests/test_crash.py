"""Crash safety of ``sleuth index``: SIGKILL at many points, Ctrl-C, and two writers at once.

A real ``sleuth`` process indexes, with the real model, a corpus of 40 small Markdown files of
21 sections each: 840 chunks, so a run commits about four batches of 256 (``commit_chunks``).
Each section holds one made-up word (``w<file>x<section>``) found nowhere else, so lexical
search can tell exactly which sections are indexed.

After every kill the index must open, pass ``sleuth status --check``, answer searches, still
hold everything committed before, and let the next run resume; the last run completes and the
index then equals what an uninterrupted run produces.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from clirun import sleuth
from fakes import FakeEmbedder

from sleuth.extractors.registry import extract
from sleuth.indexer.chunking import Chunker
from sleuth.indexer.embedder import LlamaEmbedder
from sleuth.indexer.pipeline import run_index
from sleuth.indexer.plan import sha256_of
from sleuth.store.index import Index, index_exists
from sleuth.store.lock import LOCK_FILE
from sleuth.store.paths import resolve_index

FILES = 40
SMALL = 20
SECTIONS = 20
RUN_TIMEOUT = 900  # a whole run: ~40 s on an idle 2-core machine, several times that if shared


def word(i: int, j: int, prefix: str = "w") -> str:
    return f"{prefix}{i}x{j}"


# Sections get some prose so that a run lasts long enough for the kills to land while it
# embeds, even on a fast machine; it varies per section so every chunk has its own vector.
_PROSE = [
    "river",
    "garden",
    "lamp",
    "window",
    "harbour",
    "violin",
    "orchard",
    "candle",
    "meadow",
    "bridge",
    "lantern",
    "pebble",
    "kettle",
    "thunder",
    "compass",
    "ladder",
    "saddle",
    "biscuit",
    "marble",
    "feather",
    "timber",
    "velvet",
    "canyon",
    "glacier",
    "ribbon",
    "parsley",
    "walnut",
    "trumpet",
    "blanket",
    "meadowlark",
    "cobble",
    "anchor",
]


def prose(i: int, j: int) -> str:
    pick = random.Random(i * 1000 + j).choices(_PROSE, k=72)
    return " ".join(pick)


def write_note(path: Path, i: int, prefix: str = "w") -> None:
    # Every section is over SMALL_SECTION tokens, so none is joined: SECTIONS + 1 chunks.
    parts = [f"# Note {i}\n\nIntro {word(i, 99, prefix)}. {prose(i, 99)}\n"]
    for j in range(SECTIONS):
        parts.append(f"\n## S{j}\n\n{word(i, j, prefix)} ok {prose(i, j)}\n")
    path.write_text("".join(parts))


def make_corpus(root: Path, count: int = FILES) -> Path:
    root.mkdir(parents=True)
    for i in range(count):
        write_note(root / f"n{i:02d}.md", i)
    return root


def expected_chunks(root: Path, embedder: LlamaEmbedder) -> int:
    """What an uninterrupted run stores: the chunker with the real tokenizer, no embedding."""
    chunker = Chunker(embedder.tokenize, embedder.max_tokens)
    return sum(len(chunker.split(extract(p), label=p.name)) for p in sorted(root.glob("*.md")))


@dataclass
class State:
    exists: bool
    generation: int = 0
    files: int = 0
    chunks: int = 0
    embedded: int = 0  # chunks with a code: a run commits text first, then codes


def directory() -> Path:
    return resolve_index("default").directory


def state() -> State:
    """What is committed, read the way any reader sees it (no lock, own snapshot)."""
    if not index_exists(directory()):
        return State(False)
    with Index.open(directory()) as index, index.snapshot():
        files, chunks = index.catalog.counts()
        embedded = chunks - index.catalog.pending_count()
        return State(True, index.generation, files, chunks, embedded)


def _terminal_sigint() -> None:
    """In the child: Ctrl-C as a terminal gives it, whatever the test process inherited
    (CI may run it with SIGINT ignored or blocked, and children inherit both)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sleuth.cli", "index", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        preexec_fn=_terminal_sigint,
    )


def signal_state(pid: int) -> str:
    """The kernel's view of a process's signals (ignored, blocked, caught masks)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return "gone"
    return " ".join(line.replace("\t", "") for line in lines if line.startswith("Sig"))


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str], limit: float) -> bool:
    """Poll ``condition`` until it holds (True) or ``proc`` exits or time runs out (False)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return condition()
        time.sleep(0.02)
    return False


def finish(proc: subprocess.Popen[str], sig: int | None = None) -> tuple[int, str, str]:
    if sig is not None and proc.poll() is None:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=RUN_TIMEOUT)
    return proc.returncode, out, err


def check_after_kill(label: str, before: State) -> State:
    """The index opens, is consistent, searchable, and kept all that was committed."""
    now = state()
    status = sleuth("status", "--check", "--json")
    if not now.exists:
        assert not before.exists, f"{label}: the index disappeared"
        assert status.code == 2 and "no index" in status.err, (label, status)
        return now
    assert status.code == 0, (label, status.err)
    info = status.json_lines()[0]
    assert info["consistent"] is True, (label, info["problems"])
    assert (info["files"], info["chunks"]) == (now.files, now.chunks)
    assert now.files >= before.files, f"{label}: committed files were lost"
    assert now.embedded >= before.embedded, f"{label}: committed codes were lost"
    assert now.generation >= before.generation
    with Index.open(directory()) as index:
        paths = sorted(index.catalog.files())
        for path in paths:  # whole files only: every section of a committed file is there
            assert len(index.catalog.chunk_ids_of(path)) == SECTIONS + 1, (label, path)
    # Lexical search finds a committed file's word, and only that file.
    if paths:
        i = int(Path(paths[-1]).stem[1:])
        found = sleuth("search", word(i, 7), "--mode", "lexical", "--json")
        assert found.code == 0, (label, found.err)
        assert [h["path"] for h in found.json_lines()] == [paths[-1]], label
    return now


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return make_corpus(tmp_path / "corpus")


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """20 files, 420 chunks: two batches, for tests that need fewer kill points."""
    return make_corpus(tmp_path / "corpus", SMALL)


@pytest.fixture
def reaper() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes to SIGKILL if a test fails half-way (only the ones the test started)."""
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.model
def test_sigkill_at_many_points_then_resume(
    corpus: Path,
    tmp_path: Path,
    real_embedder: LlamaEmbedder,
    reaper: list[subprocess.Popen[str]],
) -> None:
    want_chunks = expected_chunks(corpus, real_embedder)
    assert want_chunks == FILES * (SECTIONS + 1)
    assert want_chunks > 3 * 256  # several commit batches per run
    log: list[str] = []
    before = state()
    landed = progressed = 0

    # 1. At fixed delays: interpreter start-up, model load, index creation, walk, embedding.
    for delay in (0.2, 0.5, 1.0, 2.0, 3.5, 6.0):
        proc = start(str(corpus), "--json", cwd=tmp_path)
        reaper.append(proc)
        time.sleep(delay)
        alive = proc.poll() is None
        code, _, err = finish(proc, signal.SIGKILL)
        assert alive or code == 0, err
        landed += alive
        before = check_after_kill(f"kill at {delay}s", before)
        log.append(
            f"{delay:>5.1f}s: alive={alive} generation={before.generation} files={before.files}"
        )

    # 2. Relative to commits: right after a batch lands, and a little later (mid-embedding).
    for offset in (0.0, 0.3, 1.5):
        proc = start(str(corpus), "--json", cwd=tmp_path)
        reaper.append(proc)
        base = state()
        t0 = time.monotonic()
        committed = wait_for(lambda b=base: state().generation > b.generation, proc, RUN_TIMEOUT)
        time.sleep(offset)
        alive = proc.poll() is None
        code, _, err = finish(proc, signal.SIGKILL)
        assert alive or code == 0, err
        landed += alive
        progressed += committed and alive
        after = check_after_kill(f"kill {offset}s after a commit", before)
        kept = after.files > before.files or after.embedded > before.embedded
        assert kept or not alive, "a commit was observed but not kept"
        before = after
        log.append(
            f"commit+{offset}s ({time.monotonic() - t0:.1f}s): alive={alive} "
            f"generation={before.generation} files={before.files}"
        )

    # 3. The re-run completes, and the result is what an uninterrupted run gives.
    t0 = time.monotonic()
    code, out, err = finish(start(str(corpus), "--json", cwd=tmp_path))
    assert code == 0, err
    assert "Traceback" not in err
    summary = json.loads(out.splitlines()[-1])
    log.append(f"final run {time.monotonic() - t0:.1f}s: {summary}")
    print("\n" + "\n".join(log))
    final = check_after_kill("after the final run", before)
    assert (final.files, final.chunks) == (FILES, want_chunks)
    assert summary["files_indexed"] == FILES - before.files
    assert summary["files_unchanged"] == before.files
    assert landed >= 6, log  # most kills hit a running indexer, not a finished one
    assert progressed >= 2, log  # and some of them after it had committed in that run
    # Vectors belong to their chunks: a chunk's own text finds it by meaning alone.
    chunker = Chunker(real_embedder.tokenize, real_embedder.max_tokens)
    for i in (0, FILES // 2, FILES - 1):
        path = corpus / f"n{i:02d}.md"
        text = chunker.split(extract(path), label=path.name)[4].embed_text
        found = sleuth("search", text, "--mode", "semantic", "--json", "-k", "5")
        assert found.code == 0, found.err
        assert str(path) in {h["path"] for h in found.json_lines()}, (text, found.out)


@pytest.mark.slow
@pytest.mark.model
def test_sigkill_while_reindexing_edits_moves_and_deletions(
    small_corpus: Path, tmp_path: Path, reaper: list[subprocess.Popen[str]]
) -> None:
    """Kills while old chunks are being replaced, after removals and moves were committed."""
    corpus = small_corpus
    code, _, err = finish(start(str(corpus), "--json", cwd=tmp_path))
    assert code == 0, err
    full = state()
    edited = range(4, 18)  # 14 files, 294 chunks: two batches
    old_sha = {i: sha256_of(corpus / f"n{i:02d}.md") for i in edited}
    for i in edited:
        write_note(corpus / f"n{i:02d}.md", i, prefix="v")
    (corpus / "n00.md").unlink()
    (corpus / "n01.md").unlink()
    (corpus / "n02.md").rename(corpus / "renamed-02.md")
    (corpus / "n03.md").rename(corpus / "renamed-03.md")

    before = full
    for label in (
        "after the removals and moves",  # the first commit of the first run: nothing embedded
        "after a batch of edits",  # the next run's first commit: 256 chunks replaced
    ):
        proc = start(str(corpus), "--json", cwd=tmp_path)
        reaper.append(proc)
        base = state()
        assert wait_for(lambda b=base: state().generation > b.generation, proc, RUN_TIMEOUT), label
        code, _, err = finish(proc, signal.SIGKILL)
        assert code == -signal.SIGKILL, f"{label}: the run ended before the kill ({err})"
        now = state()
        assert now.generation > before.generation, label
        status = sleuth("status", "--check", "--json")
        assert status.code == 0 and status.json_lines()[0]["consistent"], status.err
        with Index.open(directory()) as index:
            files = index.catalog.files()
        assert str(corpus / "n00.md") not in files  # removals were committed first
        assert str(corpus / "renamed-02.md") in files  # and so were the moves
        assert str(corpus / "n02.md") not in files
        assert now.files == SMALL - 2
        # Each edited file is entirely old or entirely new, never a mix or nothing; the new
        # ones answer searches (the old ones are stale on disk: search skips them).
        for i in edited:
            path = corpus / f"n{i:02d}.md"
            record = files[str(path)]
            assert record.sha256 in (old_sha[i], sha256_of(path)), (label, path)
            with Index.open(directory()) as index:
                assert len(index.catalog.chunk_ids_of(str(path))) == SECTIONS + 1
            new = sleuth("search", word(i, 5, "v"), "--mode", "lexical", "--json")
            assert new.code == (0 if record.sha256 != old_sha[i] else 1), (label, path)
        before = now

    code, out, err = finish(start(str(corpus), "--json", cwd=tmp_path))
    assert code == 0, err
    summary = json.loads(out.splitlines()[-1])
    assert summary["files_removed"] == summary["files_moved"] == 0  # done by a killed run
    final = state()
    assert (final.files, final.chunks) == (SMALL - 2, (SMALL - 2) * (SECTIONS + 1))
    status = sleuth("status", "--check", "--json")
    assert status.code == 0 and status.json_lines()[0]["consistent"], status.err
    for i in edited:
        found = sleuth("search", word(i, 5, "v"), "--mode", "lexical", "--json")
        assert [h["path"] for h in found.json_lines()] == [str(corpus / f"n{i:02d}.md")]
        assert sleuth("search", word(i, 5), "--mode", "lexical", "--json").code == 1
    found = sleuth("search", word(3, 5), "--mode", "lexical", "--json")
    assert [h["path"] for h in found.json_lines()] == [str(corpus / "renamed-03.md")]


@pytest.mark.slow
@pytest.mark.model
def test_ctrl_c_mid_run_stops_cleanly_and_keeps_commits(
    small_corpus: Path, tmp_path: Path, reaper: list[subprocess.Popen[str]]
) -> None:
    corpus = small_corpus
    proc = start(str(corpus), "--json", cwd=tmp_path)
    reaper.append(proc)
    assert wait_for(lambda: state().generation >= 1, proc, RUN_TIMEOUT)
    committed = state()
    assert committed.files > 0
    t0 = time.monotonic()
    code, out, err = finish(proc, signal.SIGINT)
    stop_seconds = time.monotonic() - t0
    assert code != 0, "the run finished before Ctrl-C; the corpus is too small"
    assert code == 130, err
    assert "Traceback" not in err
    assert len(err.splitlines()) <= 1, err  # see test_ctrl_c_says_interrupted
    assert out == ""  # no summary claims a finished run
    assert stop_seconds < 30
    after = check_after_kill("Ctrl-C", committed)
    assert after.files >= committed.files
    # The next run picks up where the interrupted one stopped.
    code, out, err = finish(start(str(corpus), "--json", cwd=tmp_path))
    assert code == 0, err
    summary = json.loads(out.splitlines()[-1])
    assert summary["files_unchanged"] == after.files
    assert state().files == SMALL


@pytest.mark.model
def test_ctrl_c_says_interrupted(
    corpus: Path, tmp_path: Path, reaper: list[subprocess.Popen[str]]
) -> None:
    proc = start(str(corpus), "--json", cwd=tmp_path)
    reaper.append(proc)
    lock = directory() / LOCK_FILE
    assert wait_for(lambda: _holder(lock) == proc.pid, proc, RUN_TIMEOUT)
    code, _, err = finish(proc, signal.SIGINT)
    assert code == 130, err
    assert err.splitlines() == ["sleuth: error: interrupted"]


def _holder(lock: Path) -> int | None:
    """The pid a writer writes into the lock file once it holds the lock."""
    try:
        text = lock.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


@pytest.mark.parametrize("delay", [0.15, 0.3])
def test_ctrl_c_during_startup_is_clean(delay: float, small_corpus: Path, tmp_path: Path) -> None:
    # A corpus to embed, so the run is still going when Ctrl-C lands: start-up alone can now
    # be over in 0.3 s (an empty folder is indexed without loading the model at all).
    proc = start(str(small_corpus), "--json", cwd=tmp_path)
    time.sleep(delay)
    state = signal_state(proc.pid)
    code, _, err = finish(proc, signal.SIGINT)
    assert "Traceback" not in err
    # A Ctrl-C inside an import is held until it ends (cli.interrupts).
    assert code == 130, f"{err!r}; child's signals when it was sent: {state}"
    assert err.splitlines() == ["sleuth: error: interrupted"]


@pytest.mark.slow
@pytest.mark.model
def test_second_writer_gets_exit_2_and_one_line(
    corpus: Path, tmp_path: Path, reaper: list[subprocess.Popen[str]]
) -> None:
    first = start(str(corpus), "--json", cwd=tmp_path)
    reaper.append(first)
    lock = directory() / LOCK_FILE

    assert wait_for(lambda: _holder(lock) == first.pid, first, RUN_TIMEOUT)
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.md").write_text("# X\n\nsomething else entirely\n")
    for roots in ([str(corpus)], [str(other)]):
        second = start(*roots, "--json", cwd=tmp_path)
        reaper.append(second)
        code, out, err = finish(second)
        assert first.poll() is None, "the first writer finished too early for this test"
        assert code == 2, err
        assert out == ""
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("sleuth: error: another sleuth process")
        assert f"pid {first.pid}" in lines[0]
    code, _, _ = finish(first, signal.SIGKILL)
    # The refused writer touched nothing; the killed one left a consistent index.
    status = sleuth("status", "--check", "--json")
    assert status.code == 0 and status.json_lines()[0]["consistent"], status.err
    with Index.open(directory()) as index:
        assert not any(p.startswith(str(other)) for p in index.catalog.files())
    # The lock died with its holder: a new writer gets it at once.
    code, _, err = finish(start(str(other), "--json", cwd=tmp_path))
    assert code == 0, err
    assert str(other / "x.md") in state_files()


def state_files() -> set[str]:
    with Index.open(directory()) as index:
        return set(index.catalog.files())


def test_lock_file_left_by_a_dead_writer_does_not_block(tmp_path: Path) -> None:
    """A lock file that outlived its writer (a dead pid in it) is not a held lock."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("alpha bravo")
    directory().mkdir(parents=True)
    (directory() / LOCK_FILE).write_text("999999")
    summary = run_index(directory(), [notes], FakeEmbedder())
    assert summary.files_indexed == 1


@pytest.mark.parametrize("delay", [0.05, 0.3, 1.0])
def test_a_run_started_with_ctrl_c_ignored_keeps_ignoring_it(delay: float, tmp_path: Path) -> None:
    """As for a background job of a script: SIGINT is the caller's to ignore, at any point."""
    root = tmp_path / "one"
    root.mkdir()
    (root / "a.md").write_text("# One file\n\nEnough text to need the model once.\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sleuth.cli", "index", str(root), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    time.sleep(delay)
    code, out, err = finish(proc, signal.SIGINT)
    assert (code, err) == (0, ""), err
    assert json.loads(out)["files_indexed"] == 1
