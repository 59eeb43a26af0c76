"""Embedding speed of whichever llama-cpp-python the running interpreter has (one build).

Run by bench/llama_builds.sh in one venv per build, each in its own process so a build that
crashes on this CPU is reported instead of ending the comparison. Needs only llama_cpp and the
shipped GGUF: no sleuth import, so a venv holding just the wheel under test is enough.
Inputs: stdlib source cut into ~350-token pieces, embedded one per decode, 2 threads.
"""

from __future__ import annotations

import json
import sys
import sysconfig
import time
from pathlib import Path

MODEL = Path(__file__).resolve().parents[1] / "indexer" / "models" / "all-minilm-l6-v2.Q8_0.gguf"
TARGET = 350
COUNT = 60


def inputs(llm: object) -> list[list[int]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    out: list[list[int]] = []
    for path in sorted(stdlib.glob("*.py")):
        tokens = llm.tokenize(path.read_bytes()[:20000], add_bos=True)  # type: ignore[attr-defined]
        for start in range(0, len(tokens) - TARGET, TARGET):
            out.append(tokens[start : start + TARGET])
            if len(out) == COUNT:
                return out
    return out


def main() -> None:
    import llama_cpp

    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    llm = llama_cpp.Llama(
        model_path=str(MODEL),
        embedding=True,
        n_ctx=512,
        n_batch=512,
        n_ubatch=512,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    pieces = inputs(llm)
    llm.embed(llm.detokenize(pieces[0]).decode("utf-8", "replace"))  # warm-up
    texts = [llm.detokenize(p).decode("utf-8", "replace") for p in pieces]
    tokens = sum(len(llm.tokenize(t.encode("utf-8"), add_bos=True)) for t in texts)
    t0 = time.perf_counter()
    for text in texts:
        llm.embed(text)
    seconds = time.perf_counter() - t0
    info = llama_cpp.llama_print_system_info()
    print(
        json.dumps(
            {
                "tok_s": round(tokens / seconds),
                "chunks_s": round(len(texts) / seconds, 2),
                "inputs": len(texts),
                "threads": threads,
                "system_info": info.decode() if isinstance(info, bytes) else str(info),
            }
        )
    )


if __name__ == "__main__":
    main()
