"""Errors raised by the indexer layer."""


class ModelError(Exception):
    """The embedding model cannot be found, read or run."""


class IndexingError(Exception):
    """Indexing cannot start or go on (bad root, no model, …)."""
