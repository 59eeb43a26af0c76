"""Pin the sleuth code a benchmark run measures.

The working tree may change while a long run is under way (other people commit to it), and a
CLI subprocess started an hour in would then run different code from the first one, or fail
on an index written by the older code. So a run starts by copying sleuth's four source
folders to ``_data/snapshot/<digest>/sleuth/`` (the model folder is linked, not copied) and
puts that folder first on ``sys.path`` and ``PYTHONPATH``: every import in this process and
in every ``python -m sleuth.cli`` child resolves there. ``sleuth`` is an implicit namespace
package, so ``sleuth.cli`` and friends are found in the snapshot before the editable install.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

from bench.common import DATA_DIR, REPO

PACKAGES = ("cli", "indexer", "extractors", "store")
SNAPSHOT_DIR = DATA_DIR / "snapshot"
KEEP = 3  # newest snapshots kept

_pinned: str | None = None


def _sources() -> list[Path]:
    files: list[Path] = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            if "models" in path.relative_to(REPO).parts:
                continue  # linked as a whole; its sha256 file is in the digest below
            files.append(path)
    return files


def _digest(files: list[Path], base: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda f: f.relative_to(base).as_posix()):
        digest.update(path.relative_to(base).as_posix().encode())
        digest.update(path.read_bytes())
    for path in sorted((REPO / "indexer" / "models").glob("*.sha256")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def fingerprint() -> str:
    """The digest of the pinned code (or of the working tree, when nothing is pinned)."""
    return _pinned or _digest(_sources(), REPO)


def pin() -> str:
    """Snapshot the working tree's sleuth code and make this process and its children use it."""
    global _pinned
    if _pinned is not None:
        return _pinned
    for _attempt in range(5):
        files = _sources()
        digest = _digest(files, REPO)
        target = SNAPSHOT_DIR / digest
        if not target.exists():
            tmp = SNAPSHOT_DIR / f".{digest}.{os.getpid()}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            for path in files:
                dst = tmp / "sleuth" / path.relative_to(REPO)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dst)
            (tmp / "sleuth" / "indexer" / "models").symlink_to(REPO / "indexer" / "models")
            copied = sorted(p for p in (tmp / "sleuth").rglob("*") if p.is_file())
            copied = [p for p in copied if "models" not in p.relative_to(tmp / "sleuth").parts]
            if _digest(copied, tmp / "sleuth") != digest:
                shutil.rmtree(tmp, ignore_errors=True)
                continue  # a file changed while being copied: take a new snapshot
            try:
                tmp.replace(target)
            except OSError:  # another run made the same snapshot meanwhile
                shutil.rmtree(tmp, ignore_errors=True)
        break
    else:
        raise SystemExit("sleuth's sources kept changing while being snapshotted; try again")
    root = str(target)
    sys.path.insert(0, root)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH", "")) if p
    )
    _prune(keep=target)
    _pinned = digest
    return digest


def _prune(keep: Path) -> None:
    olds = sorted(
        (p for p in SNAPSHOT_DIR.iterdir() if p.is_dir() and p != keep and p.name[0] != "."),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in olds[KEEP - 1 :]:
        shutil.rmtree(old, ignore_errors=True)
