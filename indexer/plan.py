"""What an index run has to do: the diff between the catalog and the disk.

Size and mtime decide "unchanged" cheaply; a content hash confirms a change (a touched file
is only re-stamped) and recognises a moved or renamed file, which keeps its chunks and vectors.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sleuth.extractors.registry import kind_for_path
from sleuth.indexer.discovery import FoundFile
from sleuth.store.records import FileRecord


@dataclass(frozen=True, slots=True)
class Candidate:
    """A file on disk that needs (re)indexing."""

    found: FoundFile
    root: str
    sha256: str


@dataclass(slots=True)
class Plan:
    index: list[Candidate] = field(default_factory=list)
    touch: list[FileRecord] = field(default_factory=list)
    moves: list[tuple[str, FileRecord]] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)
    unchanged: int = 0
    unreadable: list[tuple[Path, str]] = field(default_factory=list)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def root_of(path: str, roots: Sequence[str]) -> str:
    best = ""
    for root in roots:
        if (path == root or path.startswith(root.rstrip(os.sep) + os.sep)) and len(root) > len(
            best
        ):
            best = root
    return best or str(Path(path).parent)


def in_scope(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def make_plan(
    found: Sequence[FoundFile],
    known: dict[str, FileRecord],
    roots: Sequence[str],
    keep: Sequence[str] = (),
) -> Plan:
    """The work that makes the catalog match ``found`` under ``roots``.

    ``keep`` lists paths (files or folders) that could not be read this time: what the index
    holds under them stays, since an unreadable file is not a deleted one.
    """
    plan = Plan()
    seen: set[str] = set()
    fresh: list[Candidate] = []
    for item in found:
        path = str(item.path)
        seen.add(path)
        old = known.get(path)
        if old and old.size == item.size and old.mtime_ns == item.mtime_ns:
            plan.unchanged += 1
            continue
        try:
            sha = sha256_of(item.path)
        except OSError as exc:
            plan.unreadable.append((item.path, exc.strerror or str(exc)))
            continue
        root = root_of(path, roots)
        if old and old.sha256 == sha:
            plan.touch.append(_restamp(old, item, root))
            plan.unchanged += 1
        else:
            fresh.append(Candidate(item, root, sha))
    gone = {
        p: rec
        for p, rec in known.items()
        if p not in seen and in_scope(p, roots) and not in_scope(p, keep)
    }
    by_hash: dict[str, list[str]] = {}
    for path, rec in gone.items():
        by_hash.setdefault(rec.sha256, []).append(path)
    for cand in fresh:
        path = str(cand.found.path)
        olds = [p for p in by_hash.get(cand.sha256, ()) if _same_kind(p, path)]
        if path not in known and olds:
            old_path = olds[-1]
            by_hash[cand.sha256].remove(old_path)
            plan.moves.append((old_path, _restamp(gone.pop(old_path), cand.found, cand.root)))
        else:
            plan.index.append(cand)
    plan.removals = sorted(gone)
    return plan


def _same_kind(old: str, new: str) -> bool:
    """A rename keeps its chunks only if the new name is extracted the same way."""
    return (kind_for_path(Path(old)) or "text") == (kind_for_path(Path(new)) or "text")


def _restamp(old: FileRecord, item: FoundFile, root: str) -> FileRecord:
    return FileRecord(
        path=str(item.path),
        root=root,
        kind=old.kind,
        size=item.size,
        mtime_ns=item.mtime_ns,
        sha256=old.sha256,
        verbatim=old.verbatim,
        title=old.title,
    )
