"""Section ``footprint`` (issue 4): index bytes on disk per raw corpus byte, by part.

The split is sleuth's own (``sleuth status --json``, i.e. ``sleuth.store.footprint``):
catalog (SQLite rows minus the lexical tables), lexical (FTS5 shadow tables), graph+codes
(per-chunk codes and the usearch graph file, if any), cache (the recompute cache file as it
is now), other. As a cross-check, "files" is the plain sum of the index directory's file
sizes. The recompute cache is bounded (``sleuth.store.cache.cache_bound``: 2% of the
chunks); "cache at bound" is measured by filling a scratch ``VectorCache`` with
min(bound, chunks) real vectors.
"""

from __future__ import annotations

import json

from bench.cachesize import cache_bytes_at_bound
from bench.common import (
    HOME_DIR,
    Config,
    Json,
    emit,
    run_measured,
    sleuth_cmd,
    sleuth_env,
    table,
)
from bench.prepare import Prepared, prepare
from sleuth.store.cache import cache_bound
from sleuth.store.manifest import read_manifest

PARTS = ("catalog", "lexical", "text", "vectors", "cache", "other")


def cache_at_bound(prep: Prepared) -> Json:
    manifest = read_manifest(prep.compact)
    bound = cache_bound(len(prep.exact.ids), manifest.storage)
    entries = min(bound, len(prep.exact.ids))
    size = cache_bytes_at_bound(manifest.model.dims, prep.exact.vectors, manifest.storage)
    return {
        "bound_entries": bound,
        "entries": entries,
        "bytes": size,
        "bytes_per_entry": round(size / max(entries, 1), 1),
    }


def status_of(name: str) -> Json:
    done = run_measured(sleuth_cmd("status", "--index", name, "--json"), sleuth_env(HOME_DIR))
    if done.returncode != 0:
        raise RuntimeError(f"sleuth status {name} exited {done.returncode}: {done.stderr}")
    info: Json = json.loads(done.stdout)
    return info


def run(config: Config) -> Json:
    figures: Json = {}
    rows: list[list[object]] = []
    for family in config.families:
        prep = prepare(config, family)
        raw = prep.corpus.raw_bytes
        bound = cache_at_bound(prep)
        for storage, directory in (("compact", prep.compact), ("full", prep.full)):
            info = status_of(directory.name)
            parts: Json = info["footprint"]
            files = sum(p.stat().st_size for p in directory.iterdir() if p.is_file())
            without_cache = int(parts["total"]) - int(parts["cache"])
            entry: Json = {
                "raw_bytes": raw,
                "chunks": info.get("chunks"),
                "bytes": parts,
                "ratio": {k: round(int(parts[k]) / raw, 4) for k in (*PARTS, "total")},
                "total_without_cache": without_cache,
                "total_without_cache_ratio": round(without_cache / raw, 4),
                "directory_files_bytes": files,
                "vectors_bytes_per_chunk": round(int(parts["vectors"]) / max(info["chunks"], 1), 1),
            }
            if storage == "compact":
                entry["cache_at_bound"] = bound
                entry["total_with_cache_at_bound_ratio"] = round(
                    (without_cache + bound["bytes"]) / raw, 4
                )
            figures[f"{prep.corpus.name}/{storage}"] = entry
            r = entry["ratio"]
            rows.append(
                [
                    f"{prep.corpus.name} {storage}",
                    raw / 1e6,
                    entry["total_without_cache_ratio"],
                    r["catalog"],
                    r["lexical"],
                    r["vectors"],
                    entry["vectors_bytes_per_chunk"],
                    r["cache"],
                    entry.get("total_with_cache_at_bound_ratio"),
                ]
            )
    emit(
        table(
            "Footprint: index bytes / raw bytes (targets: total <= 0.25x, graph+codes <= 0.08x)",
            [
                "index",
                "raw MB",
                "total x",
                "catalog x",
                "lexical x",
                "graph+codes x",
                "B/chunk",
                "cache x now",
                "total x, cache full",
            ],
            rows,
        )
    )
    emit(
        "(total x excludes the recompute cache; 'cache full' adds the cache filled to its bound"
        " of cache_bound(chunks) vectors)"
    )
    return figures
