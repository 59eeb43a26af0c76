"""Which indexed files a walk may take as they are, without reading their first bytes again.

The junk and binary rules judge a file's first 16 KiB. A file the index holds with the same
size and mtime passed them on the same bytes, provided the rules were the same: the index
records the rules it was last walked under (``rules_key``: ``--all-text`` or not, and a version
bumped whenever the content rules change), and a walk under other rules reads every file.
"""

from __future__ import annotations

from sleuth.indexer.examine import DiscoveryOptions
from sleuth.indexer.walker import Unchanged
from sleuth.store.catalog import Catalog

RULES_VERSION = 1  # of the content rules in indexer.junk and the NUL sniff
_META = "walk_rules"


def rules_key(options: DiscoveryOptions) -> str:
    return f"v{RULES_VERSION}:" + ("all-text" if options.all_text else "junk")


def known_files(catalog: Catalog, options: DiscoveryOptions) -> Unchanged | None:
    """path -> (size, mtime_ns) of the indexed files, if they were walked under ``options``'
    rules (None otherwise: every file is read)."""
    if catalog.get_meta(_META) != rules_key(options):
        return None
    return catalog.file_stamps()


def note_rules(catalog: Catalog, options: DiscoveryOptions) -> None:
    """Record that the index now holds what a walk under ``options``' rules found."""
    if catalog.get_meta(_META) != rules_key(options):
        with catalog.transaction():
            catalog.set_meta(_META, rules_key(options))
