"""What an index run is told and what it reports: settings, progress, the summary.

Shared by ``sleuth index`` (indexer.pipeline) and the watcher (indexer.sync); this layer never
prints, the CLI renders these.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sleuth.extractors.base import ExtractionError
from sleuth.indexer.backfill import Embedding, Filled
from sleuth.indexer.discovery import DiscoveryOptions
from sleuth.indexer.junk import JUNK_REASONS
from sleuth.store.index import Batch, CommitResult
from sleuth.store.manifest import StorageMode


@dataclass(frozen=True, slots=True)
class Progress:
    files_done: int
    files_total: int
    chunks_done: int
    path: str = ""


@dataclass(slots=True)
class Summary:
    files_indexed: int = 0
    files_unchanged: int = 0
    files_skipped: int = 0
    files_removed: int = 0
    files_moved: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_reused: int = 0  # of chunks_added: unchanged text, code kept instead of embedded
    chunks_shared: int = 0  # of chunks_reused: same model input as another chunk, code copied
    bytes_indexed: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    pdf_engine_crashes: int = 0  # PDFs whose native engine died or hung (read by pypdf instead)
    chunks_waiting: int = 0  # committed, still without a code (stopped, or changed meanwhile)
    skipped: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "files_indexed": self.files_indexed,
            "files_unchanged": self.files_unchanged,
            "files_skipped": self.files_skipped,
            "files_removed": self.files_removed,
            "files_moved": self.files_moved,
            "chunks_added": self.chunks_added,
            "chunks_removed": self.chunks_removed,
            "chunks_reused": self.chunks_reused,
            "chunks_shared": self.chunks_shared,
            "bytes_indexed": self.bytes_indexed,
            "skipped": dict(sorted(self.skipped.items())),
            "seconds": round(self.seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
            "pdf_engine_crashes": self.pdf_engine_crashes,
            "chunks_waiting": self.chunks_waiting,
        }


@dataclass(frozen=True, slots=True)
class Reporter:
    on_progress: Callable[[Progress], None] = lambda _p: None
    on_warning: Callable[[str], None] = lambda _m: None
    on_plan: Callable[[int], None] = lambda _n: None
    should_stop: Callable[[], bool] = lambda: False
    on_embedding: Callable[[Embedding], None] = lambda _e: None


@dataclass(frozen=True, slots=True)
class IndexSettings:
    storage: StorageMode | None = None  # None: "fast" for a new index, as is for an old one
    discovery: DiscoveryOptions = field(default_factory=DiscoveryOptions)
    commit_chunks: int = 256


def count_filled(summary: Summary, filled: Filled) -> None:
    """Add an embedding pass over waiting chunks to ``summary``."""
    summary.embed_seconds += filled.embed_seconds
    summary.chunks_shared += filled.shared
    summary.chunks_reused += filled.shared
    summary.chunks_waiting = filled.waiting


def count_commit(summary: Summary, batch: Batch, result: CommitResult) -> None:
    """Add a committed batch to ``summary``."""
    summary.chunks_added += result.chunks_added
    summary.chunks_removed += result.chunks_removed
    summary.files_indexed += len(batch.upserts)


# Skips that are expected in any real folder: counted, but not worth a warning line each.
# Junk (lockfiles, minified, generated, ...) is left out by design and summed up at the end.
QUIET_SKIPS = frozenset({"binary", "empty", "duplicate", "symlink"}) | JUNK_REASONS


def extraction_reason(exc: ExtractionError) -> str:
    """The skip reason for a failed extraction: an I/O cause is named as such."""
    cause = exc.__cause__
    if isinstance(cause, FileNotFoundError):
        return "vanished"
    if isinstance(cause, OSError):
        return "unreadable"
    return "encrypted" if "encrypted" in str(exc).lower() else "extract-error"


def note_skip(summary: Summary, reporter: Reporter, path: Path, reason: str, detail: str) -> None:
    if reason in ("ignored", "hidden"):
        return  # by design, not a problem worth counting
    summary.files_skipped += 1
    summary.skipped[reason] += 1
    if reason not in QUIET_SKIPS:
        reporter.on_warning(f"skipped {path}: {reason}" + (f" ({detail})" if detail else ""))
