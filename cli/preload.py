"""Load the model on the second core while a one-off ``search`` or ``similar`` starts up.

A cold query needs the model for its own embedding, and loading it (llama.cpp reading the
GGUF and building a context: ~120 ms) ran after ~0.3 s of imports (numpy, typer, usearch) and
the opening of the index, all on one core. Both halves of the load release the GIL (they are
ctypes calls), so a thread started before those imports does the load alongside them.

A repeated query whose embeddings are all cached needs no model, and paid ~50 ms for the
unneeded load: most of it loading llama.cpp's libraries and binding, which hold the GIL. So a
``search`` whose query is in the index's cache loads nothing ahead (the model still loads on
demand if a candidate turns out uncached). Measured with 12 fresh processes each, 2 cores: a
new query on corpus S's ``fast`` index 0.62 s p50 without the preload, 0.53 s with; the same
query again on the PDF corpus 0.37-0.42 s without, 0.40 s with. Only the common case is
preloaded: the shipped model (no ``--model``, no ``SLEUTH_MODEL``) for a mode that embeds, on
2 cores or more. Whatever the command then asks for is checked against what was loaded
(:func:`take`); a mismatch loads as before and drops the preloaded model. A preload that fails
is dropped the same way, so the command reports the error itself.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sleuth.indexer.native_model import NativeModel

_COMMANDS = ("search", "similar")


class _Preload:
    def __init__(self, threads: int | None, peek: tuple[Path, str] | None) -> None:
        self.threads = threads
        self.peek = peek  # (index directory, query): a cached query needs no model
        self.native: NativeModel | None = None
        self.thread = threading.Thread(target=self._load, name="sleuth-preload", daemon=True)

    def _load(self) -> None:
        # Not the embedder module: it imports numpy, whose import would hold the GIL the
        # main thread needs for its own imports.
        try:
            from sleuth.store.cache_file import holds_query

            if self.peek is not None and holds_query(*self.peek):
                return
            from sleuth.indexer.model import resolve_model
            from sleuth.indexer.native_model import DEFAULT_BATCH, NativeModel, default_threads

            path = resolve_model().path
            self.native = NativeModel(path, DEFAULT_BATCH, self.threads or default_threads())
        except Exception:  # the command loads again and reports it
            self.native = None


_pending: _Preload | None = None


def start(args: list[str]) -> None:
    """Start loading the shipped model if the command line ``args`` will need it."""
    global _pending
    # One core: the load would only take turns with the imports it is meant to overlap.
    if _pending is not None or (os.cpu_count() or 1) < 2 or not wanted(args, os.environ):
        return
    _pending = _Preload(_threads(args), _peek(args))
    _pending.thread.start()
    # A native load still running when the interpreter is torn down (a usage error exits
    # at once) could be cut off by the library's own exit handlers: wait for it.
    atexit.register(_pending.thread.join)


def take(model: Path | None, threads: int | None) -> NativeModel | None:
    """The preloaded model if it is the one a command asks for (``model`` None: the shipped
    one, unless ``SLEUTH_MODEL`` names another), else None. Once only."""
    global _pending
    pending, _pending = _pending, None
    if pending is None:
        return None
    pending.thread.join()
    if pending.native is None:
        return None
    if model is None and not os.environ.get("SLEUTH_MODEL") and threads == pending.threads:
        return pending.native
    pending.native.close()
    return None


def wanted(args: list[str], environ: os._Environ[str] | dict[str, str]) -> bool:
    from sleuth.cli.client import option_value

    if not args or args[0] not in _COMMANDS or environ.get("SLEUTH_MODEL"):
        return False
    options = args[: args.index("--")] if "--" in args else args  # then the query's text
    if any(a in ("-h", "--help", "--model") or a.startswith("--model=") for a in options):
        return False
    return option_value(args, "--mode") != "lexical"


def _peek(args: list[str]) -> tuple[Path, str] | None:
    """Where to look for ``search``'s query among the cached ones, if it can be known."""
    from sleuth.cli.client import index_name, query_text
    from sleuth.store.errors import StoreError
    from sleuth.store.paths import resolve_index

    query = query_text(args) if args[0] == "search" else None
    if query is None:
        return None
    try:
        return resolve_index(index_name(args)).directory, query
    except (StoreError, ValueError, OSError):  # the command itself reports a bad name
        return None


def _threads(args: list[str]) -> int | None:
    from sleuth.cli.client import option_value

    value = option_value(args, "--threads")
    if value is None or not value.isdigit() or not 0 < int(value) <= 256:
        return None
    return int(value)
