"""Where an index's recompute cache lives, and a look into it that needs neither numpy nor a
write: whether a query's embedding is there (:mod:`sleuth.cli.preload` asks, before it loads
a model that a repeated query would not use)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

CACHE_FILE = "recompute-cache.sqlite3"


def holds_query(directory: Path, text: str) -> bool:
    """Whether ``directory``'s cache holds the embedding of the query ``text``; False when the
    cache is missing or unreadable (the search then finds out for itself)."""
    path = directory / CACHE_FILE
    if not path.is_file():
        return False
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=0.2)
        try:
            row = db.execute("SELECT 1 FROM query WHERE text=?", (text,)).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return False
    return row is not None
