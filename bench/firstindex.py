"""Section ``firstindex`` (issue 14): how soon a first index of pyfaq answers lexically.

``sleuth index`` runs over the whole pyfaq corpus (one file per passage) from an empty
SLEUTH_HOME with the real model, as a subprocess. Meanwhile this process asks
``sleuth search --mode lexical --batch --json -k 10`` a fixed sample of the FAQ questions
every ``POLL_SECONDS``, each time in a fresh CLI process, and ``sleuth status --json`` for
the number of files searchable. Once every file is in, one more round gives the reference
answers: a round before it "answers correctly" for a question whose top 10 is already the
reference's (the same files in the same order), and the relevant passage's presence in the
reference top 10 says how good that answer is. Then the run is interrupted (Ctrl-C) and the
chunks it embedded by then are counted: the rest would follow at the model's speed.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from bench.common import DATA_DIR, Config, Json, emit, sleuth_cmd, sleuth_env, table
from bench.corpora import corpus_pyfaq

POLL_SECONDS = 1.0
SAMPLE = 12  # FAQ questions asked each round
LIMIT_SECONDS = 120.0  # the reading step must be done by then, or the section gives up


def _ask(env: dict[str, str], questions: list[str]) -> tuple[float, dict[str, list[str]]]:
    """(seconds the CLI took, question -> files of its top 10)."""
    t0 = time.perf_counter()
    done = subprocess.run(
        sleuth_cmd("search", "-", "--batch", "--mode", "lexical", "--json", "-k", "10"),
        input="\n".join(questions),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    answers: dict[str, list[str]] = {q: [] for q in questions}
    for line in done.stdout.splitlines():
        record = json.loads(line)
        answers.setdefault(str(record["query"]), []).append(Path(record["path"]).name)
    return seconds, answers


def _files(env: dict[str, str]) -> int:
    done = subprocess.run(
        sleuth_cmd("status", "--json"), env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or not done.stdout.strip():
        return 0
    return int(json.loads(done.stdout)["files"])


def run(config: Config) -> Json:
    labelled = corpus_pyfaq(config)
    corpus = labelled.corpus
    rng = random.Random(14)
    qids = sorted(rng.sample(sorted(labelled.queries), min(SAMPLE, len(labelled.queries))))
    questions = [labelled.queries[q] for q in qids]
    relevant = {
        labelled.queries[q]: {f for f, d in labelled.doc_of_file.items() if d in labelled.qrels[q]}
        for q in qids
    }
    home = DATA_DIR / "firstindex-home"
    shutil.rmtree(home, ignore_errors=True)
    env = sleuth_env(home, config.threads)
    rounds: list[tuple[float, int, dict[str, list[str]]]] = []  # (at, files, answers)
    start = time.perf_counter()
    indexer = subprocess.Popen(
        sleuth_cmd("index", str(corpus.root), "--quiet"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        total = len(corpus.files)
        searchable_at = None
        while time.perf_counter() - start < LIMIT_SECONDS and indexer.poll() is None:
            files = _files(env)
            at = time.perf_counter() - start
            _, answers = _ask(env, questions)
            rounds.append((at, files, answers))
            if files >= total:
                searchable_at = at
                break
            time.sleep(POLL_SECONDS)
        _, reference = _ask(env, questions)
        stopped_at = time.perf_counter() - start
    finally:
        indexer.send_signal(signal.SIGINT)
        code = indexer.wait(timeout=120)
    embedded = _embedded(home)
    first_answer = next((at for at, _, a in rounds if any(a.values())), None)
    correct_at = next(
        (at for at, _, a in rounds if all(a[q] == reference[q] for q in questions)), None
    )
    found = sum(1 for q in questions if relevant[q] & set(reference[q][:10]))
    rows = [
        [f"{at:.1f}", f"{files:,}", sum(1 for q in questions if a[q] == reference[q])]
        for at, files, a in rounds
    ]
    emit(
        table(
            f"first index of {corpus.name} ({total:,} files): lexical answers while it runs",
            ["seconds", "files searchable", f"of {len(questions)} final"],
            rows,
        )
    )
    emit(
        f"first lexical answer {_s(first_answer)}; every file searchable {_s(searchable_at)}; "
        f"all {len(questions)} questions answered as by the finished lexical index "
        f"{_s(correct_at)} (target: within 10 s); relevant passage in the lexical top 10 for "
        f"{found} of {len(questions)}; interrupted at {stopped_at:.1f} s with {embedded:,} "
        f"chunks embedded, exit {code}"
    )
    return {
        "files": total,
        "first_answer_s": first_answer,
        "searchable_s": searchable_at,
        "correct_s": correct_at,
        "relevant_in_top10": found,
        "questions": len(questions),
        "embedded_when_stopped": embedded,
        "exit": code,
        "rounds": rows,
    }


def _s(value: float | None) -> str:
    return "never" if value is None else f"at {value:.1f} s"


def _embedded(home: Path) -> int:
    catalogs = list((home / "indexes").glob("*/catalog.sqlite3"))
    if not catalogs:
        return 0
    db = sqlite3.connect(f"file:{catalogs[0]}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT count(*) FROM chunks WHERE length(code)>0").fetchone()[0])
    finally:
        db.close()
