"""Setup's self-check: embed one sentence in a child process and compare it with the vector the
original model gives (``python -m sleuth.indexer.selfcheck``; ``make setup`` ends with it).

A llama.cpp build compiled for instructions this CPU cannot run does not raise: it kills the
process on the first decode (SIGSEGV in the AMX kernels, SIGILL elsewhere). So the embedding
happens in a child, and the parent turns its death or a wrong vector into one clear line.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources

from sleuth.indexer.llama_build import cpu_flags

MIN_COSINE = 0.995  # the shipped Q8_0 model measures >= 0.999 against the original
REBUILD = "rm -rf .venv ~/.cache/sleuth/wheels && make setup"
_CHILD = (
    "import json, sys\n"
    "from sleuth.indexer.embedder import LlamaEmbedder\n"
    "from sleuth.indexer.llama_build import build_info\n"
    "sentence = sys.stdin.read()\n"
    "vector = LlamaEmbedder(threads=1).embed([sentence])[0]\n"
    "print(json.dumps({'vector': [float(x) for x in vector], 'build': build_info().describe()}))\n"
)


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    message: str


def _expected() -> tuple[str, list[float]]:
    data = json.loads(
        resources.files("sleuth.indexer").joinpath("models/selfcheck.json").read_text("utf-8")
    )
    return str(data["sentence"]), [float(x) for x in data["vector"]]


def _died(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"died by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"died by signal {-returncode}"
    return f"exited with status {returncode}"


def check(python: str | None = None, timeout: float = 300.0) -> Outcome:
    sentence, want = _expected()
    flags = " ".join(cpu_flags()) or "unknown"
    try:
        proc = subprocess.run(
            [python or sys.executable, "-c", _CHILD],
            input=sentence,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Outcome(False, f"the embedding child hung for {timeout:.0f} s")
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [""])[-1][:200]
        detail = f" ({last})" if last and proc.returncode > 0 else ""
        return Outcome(
            False,
            f"embedding one sentence with llama.cpp {_died(proc.returncode)}{detail}; "
            f"this CPU has: {flags}; rebuild the portable build with: {REBUILD}",
        )
    try:
        reply = json.loads(proc.stdout)
        got = [float(x) for x in reply["vector"]]
        build = str(reply["build"])
    except (ValueError, KeyError, TypeError):
        return Outcome(False, f"the embedding child printed no vector: {proc.stdout[:200]!r}")
    cosine = _cosine(got, want) if len(got) == len(want) else 0.0
    if cosine < MIN_COSINE:
        return Outcome(
            False,
            f"llama.cpp ({build}) embeds wrongly on this CPU (cosine {cosine:.4f} to the "
            f"reference, need {MIN_COSINE}); this CPU has: {flags}; rebuild with: {REBUILD}",
        )
    return Outcome(True, f"embedding works ({build}; cosine {cosine:.4f} to the reference)")


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = sum(x * x for x in a) ** 0.5
    nb = sum(y * y for y in b) ** 0.5
    return dot / (na * nb) if na and nb else 0.0


def main() -> int:
    outcome = check()
    prefix = "sleuth self-check: " if outcome.ok else "sleuth self-check failed: "
    print(prefix + outcome.message, file=sys.stderr)
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
