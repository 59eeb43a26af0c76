"""Errors raised by the store layer; the CLI turns them into one-line messages."""


class StoreError(Exception):
    """The index cannot do what was asked (missing, locked, corrupt, incompatible)."""


class IndexMissingError(StoreError):
    """No index of that name exists yet."""


class IndexLockedError(StoreError):
    """Another process is writing to the index."""
