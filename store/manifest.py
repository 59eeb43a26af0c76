"""The manifest: what an index was built with, fixed at creation and checked on every open."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from sleuth.store.errors import StoreError
from sleuth.store.paths import private_fd

SCHEMA_VERSION = 5
MANIFEST_FILE = "manifest.json"
# fast (the default for a new index): codebook codes whose scores rank on their own, so only
# the doubtful candidates are re-embedded; compact: a 2.4x smaller codebook, every top
# candidate re-embedded; minimal: sign bits, the smallest; full: f16 vectors, never
# re-embedded at query time. (An old manifest without the field is compact.)
StorageMode = Literal["compact", "fast", "minimal", "full"]
STORAGE_MODES: tuple[StorageMode, ...] = ("compact", "fast", "minimal", "full")
CODEBOOK_MODES: tuple[StorageMode, ...] = ("compact", "fast")  # codes from a shipped codebook
# Modes coded by the model's codebook when one ships for it, else by sign bits (a custom model,
# or a minimal index made before its codebook shipped: the manifest's ``codebook`` is empty).
OPTIONAL_CODEBOOK_MODES: tuple[StorageMode, ...] = ("minimal",)


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    name: str
    sha256: str
    dims: int
    pooling: str

    def describe(self) -> str:
        return f"{self.name} ({self.dims} dims, {self.pooling} pooling, sha256 {self.sha256[:12]})"


# Measured (bench section ``graph``, CPU of the dense step on a quiet 2-core machine): a flat
# scan of codes read from the catalog costs 8.6 / 16.6 / 50 / 112 ms at 5k / 10k / 50k / 100k
# chunks, a graph walk 2.6 / 2.0 / 6.9 / 10.2 ms. The graph costs ~123 bytes per chunk, so it
# starts where the flat scan first costs 10 ms more than the walk.
DEFAULT_GRAPH_MIN_CHUNKS = 10_000


def default_graph_min_chunks() -> int:
    """Chunks above which an index gets a usearch graph (below, a flat scan of codes is faster).

    SLEUTH_GRAPH_MIN_CHUNKS overrides it when an index is created, e.g. to force a graph.
    """
    env = os.environ.get("SLEUTH_GRAPH_MIN_CHUNKS", "")
    return int(env) if env.isdigit() else DEFAULT_GRAPH_MIN_CHUNKS


@dataclass(frozen=True, slots=True)
class Manifest:
    model: ModelIdentity
    storage: StorageMode = "compact"
    max_tokens: int = 256
    overlap_tokens: int = 0  # informational: the chunker of the sleuth that created the index
    connectivity: int = 8
    codebook: str = ""  # sha256 of the codebook that coded the index ("" for none)
    graph_min_chunks: int = field(default_factory=lambda: default_graph_min_chunks())
    schema_version: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            raw = json.loads(text)
            model = ModelIdentity(**raw.pop("model"))
            manifest = cls(model=model, **raw)
        except (ValueError, TypeError, KeyError) as exc:
            raise StoreError(f"manifest is unreadable: {exc}") from exc
        if manifest.schema_version != SCHEMA_VERSION:
            raise StoreError(
                f"index schema version {manifest.schema_version} is not supported "
                f"(this sleuth reads version {SCHEMA_VERSION}); rebuild the index"
            )
        if manifest.storage not in STORAGE_MODES:
            raise StoreError(f"unknown storage mode {manifest.storage!r} in manifest")
        return manifest


def read_manifest(directory: Path) -> Manifest:
    try:
        text = (directory / MANIFEST_FILE).read_text(encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"cannot read manifest in {directory}: {exc.strerror}") from exc
    return Manifest.from_json(text)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never a torn one."""
    import tempfile  # here: every search reads a manifest, few write one (tempfile: ~5 ms)

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp asks for 0600, but the umask could narrow it further: say it outright.
        private_fd(fd)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_manifest(directory: Path, manifest: Manifest) -> None:
    write_atomic(directory / MANIFEST_FILE, manifest.to_json().encode("utf-8"))
