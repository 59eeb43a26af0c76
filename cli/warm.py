"""Where ``search`` and ``similar`` get their :class:`Searcher`: opened for one command, or
lent warm (index open, model loaded, caches hot) by a long-lived process.

``sleuth serve``, ``sleuth mcp`` and ``sleuth ask`` run the ordinary command code with a
lender in place (:func:`lending`), so every flag behaves exactly as in a one-off process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from contextvars import ContextVar
from pathlib import Path
from typing import Protocol

from sleuth.cli.common import location, make_embedder, open_existing
from sleuth.indexer.search import Searcher


class Lender(Protocol):
    def lend(
        self, index_name: str | None, model: Path | None, threads: int | None
    ) -> AbstractContextManager[Searcher]: ...


_LENDER: ContextVar[Lender | None] = ContextVar("sleuth_lender", default=None)


@contextlib.contextmanager
def lending(lender: Lender) -> Iterator[None]:
    """Within the block (in this thread), commands search with ``lender``'s searchers; it may
    raise ``exitcodes.Decline``, which ``run`` passes on to the caller."""
    token = _LENDER.set(lender)
    try:
        yield
    finally:
        _LENDER.reset(token)


@contextlib.contextmanager
def searcher(index_name: str | None, model: Path | None, threads: int | None) -> Iterator[Searcher]:
    """A Searcher on the command's index: the lender's if one is in place, else a fresh one
    (index opened here, model loaded on the first query that needs it, all closed after)."""
    lender = _LENDER.get()
    if lender is not None:
        with lender.lend(index_name, model, threads) as lent:
            yield lent
        return
    index = open_existing(location(index_name))
    fresh = Searcher(index, lambda: make_embedder(model, threads))
    try:
        yield fresh
    finally:
        fresh.close()
        index.close()
