"""What may have changed on disk since the index last matched it, as the watcher collects it.

Plain values and path tests shared by the event collector (:mod:`sleuth.indexer.collector`)
and the syncer that applies them (:mod:`sleuth.indexer.sync`).
"""

# ruff: noqa: PTH120

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(slots=True)
class Changes:
    """What may have changed since the index was last brought up to date."""

    files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)
    full: bool = False
    reason: str = ""  # why a full reconcile: "start", "overflow", "observer-error", …

    def __bool__(self) -> bool:
        return self.full or bool(self.files or self.dirs)

    def __len__(self) -> int:
        return len(self.files) + len(self.dirs)

    def merge(self, other: Changes) -> None:
        if other.full and not self.full:
            self.full, self.reason = True, other.reason
        self.files |= other.files
        self.dirs |= other.dirs

    def take(self) -> Changes:
        """Move everything into a new value and leave this one empty."""
        taken = Changes(self.files, self.dirs, self.full, self.reason)
        self.files, self.dirs, self.full, self.reason = set(), set(), False, ""
        return taken


def under(path: str, dirs: set[str] | frozenset[str]) -> bool:
    """Whether ``path`` is one of ``dirs`` or lies below one of them."""
    current = path
    while True:
        if current in dirs:
            return True
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent


def root_of_watch(path: str, roots: Sequence[str]) -> str | None:
    """The deepest root that ``path`` is, or lies under; None outside every root."""
    best: str | None = None
    for root in roots:
        if (path == root or path.startswith(root.rstrip(os.sep) + os.sep)) and (
            best is None or len(root) > len(best)
        ):
            best = root
    return best
