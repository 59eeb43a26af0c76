"""Rebuilding the lexical index when removed chunks' tombstones pile up.

The contentless FTS5 table cannot forget a removed chunk's words (SQLite 3.40 needs the old
text for that), so queries skip dead rows and BM25's document counts drift. Once the dead rows
reach a quarter of the live ones, the table is rebuilt from the live chunks' text, read as a
query would (verbatim files from disk, derived text from the store: no extraction).
"""

from __future__ import annotations

from sleuth.indexer.chunking import chunk_input
from sleuth.indexer.source import read_texts
from sleuth.store.index import Index

MIN_DEAD = 1000
DEAD_SHARE = 0.25


def needs_compaction(index: Index) -> bool:
    dead = int(index.catalog.get_meta("dead_lexical", "0"))
    live = index.catalog.counts()[1]
    return dead >= MIN_DEAD and dead >= DEAD_SHARE * live


def compact_lexical(index: Index) -> int:
    """Rebuild the lexical table; returns the chunks whose text could not be re-read.

    Call with the write lock held. A chunk whose file changed since indexing keeps no lexical
    entry until the next index run re-embeds that file.
    """
    catalog = index.catalog
    texts = read_texts(catalog, catalog.iter_chunks())
    missing = 0
    with catalog.transaction():
        catalog.reset_lexical()
        for chunk_id, item in texts.items():
            if item.text is None:
                missing += 1
                continue
            catalog.add_lexical(chunk_id, chunk_input(item.chunk, item.text))
    return missing
