"""Section ``throughput`` (issue 2): model load time and embedding throughput.

Chunks: consecutive whole lines of corpus S's files (in selection order), packed up to 200
model tokens (special tokens included), keeping only chunks of at least 180 tokens. Each
configuration (threads x micro-batch size) loads its own model, embeds 2 chunks to warm up,
then embeds all chunks in calls of 32 texts, as the indexing pipeline does. Timings include
tokenisation, as in the pipeline. Load time is measured in fresh processes (import of
llama_cpp + model load) and in-process (model load only).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench.common import REPO, Config, Json, emit, loadavg, log, percentile, table
from bench.corpora import corpus_s
from sleuth.indexer.embedder import LlamaEmbedder

TARGET_TOKENS = 200
MIN_TOKENS = 180
CONFIGS = ((1, 256), (1, 512), (2, 256), (2, 512))
SLICE = 32  # texts per embed() call, like sleuth.indexer.pipeline.EMBED_SLICE
QUERY = "how do I parse command line arguments"

_LOAD_SNIPPET = """
import json, time
t0 = time.perf_counter()
import llama_cpp
t1 = time.perf_counter()
from sleuth.indexer.embedder import LlamaEmbedder
e = LlamaEmbedder()
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1}))
"""


def make_chunks(config: Config, count: int, model: LlamaEmbedder) -> list[tuple[str, int]]:
    """``count`` real ~200-token texts with their token counts."""
    corpus = corpus_s(config)
    out: list[tuple[str, int]] = []
    for rel in corpus.files:
        if not rel.endswith(".py"):
            continue
        current = ""
        tokens = 0
        for line in (corpus.root / rel).read_text(encoding="utf-8").splitlines(keepends=True):
            candidate = current + line
            n = len(model.tokenize(candidate))
            if n > TARGET_TOKENS:
                if tokens >= MIN_TOKENS:
                    out.append((current, tokens))
                    if len(out) >= count:
                        return out
                current, tokens = line, len(model.tokenize(line))
            else:
                current, tokens = candidate, n
    return out


def load_times(reps: int) -> list[dict[str, float]]:
    times = []
    for _ in range(reps):
        done = subprocess.run(
            [sys.executable, "-c", _LOAD_SNIPPET],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        times.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return times


def run(config: Config) -> Json:
    count = 24 if config.quick else 64
    rounds = 1 if config.quick else 2
    reps = 3
    log(f"throughput: {reps} cold loads, {len(CONFIGS)} configs x {rounds} rounds x {count} chunks")
    cold = load_times(reps)
    t0 = time.perf_counter()
    probe = LlamaEmbedder()
    warm_load = time.perf_counter() - t0
    chunks = make_chunks(config, count, probe)
    texts = [t for t, _ in chunks]
    tokens = sum(n for _, n in chunks)
    del probe

    runs: dict[str, list[Json]] = {f"t{t}-b{b}": [] for t, b in CONFIGS}
    for round_no in range(rounds):
        for threads, batch in CONFIGS:
            t0 = time.perf_counter()
            embedder = LlamaEmbedder(threads=threads, batch_size=batch)
            load = time.perf_counter() - t0
            embedder.embed(texts[:2])
            load_before = loadavg()
            t0 = time.perf_counter()
            for start in range(0, len(texts), SLICE):
                embedder.embed(texts[start : start + SLICE])
            seconds = time.perf_counter() - t0
            query_times = []
            for _ in range(10):
                q0 = time.perf_counter()
                embedder.embed([QUERY])
                query_times.append(time.perf_counter() - q0)
            runs[f"t{threads}-b{batch}"].append(
                {
                    "round": round_no,
                    "load_s": round(load, 3),
                    "seconds": round(seconds, 2),
                    "chunks_per_s": round(len(texts) / seconds, 2),
                    "tokens_per_s": round(tokens / seconds, 1),
                    "query_embed_p50_ms": round(percentile(query_times, 50) * 1000, 1),
                    "loadavg": load_before,
                }
            )
            log(f"  threads={threads} batch={batch}: {len(texts) / seconds:.1f} chunks/s")
            del embedder

    summary: dict[str, Json] = {}
    rows = []
    for threads, batch in CONFIGS:
        key = f"t{threads}-b{batch}"
        rates = [r["chunks_per_s"] for r in runs[key]]
        toks = [r["tokens_per_s"] for r in runs[key]]
        qms = [r["query_embed_p50_ms"] for r in runs[key]]
        summary[key] = {
            "threads": threads,
            "batch_size": batch,
            "chunks_per_s_mean": round(sum(rates) / len(rates), 2),
            "chunks_per_s_runs": rates,
            "tokens_per_s_mean": round(sum(toks) / len(toks), 1),
            "query_embed_p50_ms": round(sum(qms) / len(qms), 1),
        }
        rows.append(
            [
                f"{threads} thread{'s' if threads > 1 else ''}, batch {batch}",
                summary[key]["chunks_per_s_mean"],
                " / ".join(f"{r:.1f}" for r in rates),
                summary[key]["tokens_per_s_mean"],
                summary[key]["query_embed_p50_ms"],
            ]
        )
    cold_import = [c["import_s"] for c in cold]
    cold_load = [c["load_s"] for c in cold]
    emit(
        table(
            "Model load (all-MiniLM-L6-v2 Q8_0 GGUF)",
            ["what", "p50 s", "min s", "max s"],
            [
                [
                    "import llama_cpp (fresh process)",
                    percentile(cold_import, 50),
                    min(cold_import),
                    max(cold_import),
                ],
                [
                    "load model (fresh process)",
                    percentile(cold_load, 50),
                    min(cold_load),
                    max(cold_load),
                ],
                ["load model (again, in-process)", warm_load, warm_load, warm_load],
            ],
        )
    )
    mean_tokens = tokens / len(texts)
    emit(
        table(
            f"Embedding throughput: {len(texts)} chunks of {mean_tokens:.0f} tokens (mean), "
            f"{rounds} round(s)",
            ["config", "chunks/s", "per round", "tokens/s", "query ms p50"],
            rows,
        )
    )
    return {
        "chunks": len(texts),
        "mean_tokens": round(mean_tokens, 1),
        "rounds": rounds,
        "load": {
            "fresh_process_import_s": [round(x, 3) for x in cold_import],
            "fresh_process_load_s": [round(x, 3) for x in cold_load],
            "in_process_load_s": round(warm_load, 3),
        },
        "configs": summary,
        "runs": runs,
    }
