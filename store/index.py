"""The ``Index`` facade: keeps the catalog, the lexical index and the vector index consistent.

Commit protocol of a write batch (see ``Writer.commit``): catalog rows, lexical postings and
per-chunk codes go into one open SQLite transaction; if the collection is large enough to have
a usearch graph and the commit merges into it (see ``sleuth.store.graph_state``: most commits
do not), the graph is saved as the *next* generation file; then the transaction that names
that file commits. A crash before the commit leaves the previous graph live and an orphan file
that the next writer deletes; after it, the new file is complete on disk. Readers take the
graph's state from their own SQLite snapshot.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType

import numpy as np

from sleuth.store import codebook
from sleuth.store.catalog import CATALOG_FILE, Catalog
from sleuth.store.errors import IndexMissingError, StoreError
from sleuth.store.filepaths import prune_dirs
from sleuth.store.footprint import Footprint, measure
from sleuth.store.graph_state import (
    GraphState,
    adopt_old_graph,
    mergeable,
    read_state,
    tail_codes,
    write_state,
)
from sleuth.store.lock import WriteLock
from sleuth.store.manifest import (
    CODEBOOK_MODES,
    MANIFEST_FILE,
    OPTIONAL_CODEBOOK_MODES,
    Manifest,
    read_manifest,
    write_manifest,
)
from sleuth.store.paths import is_loose, make_private_dir, tighten
from sleuth.store.records import ChunkRecord, FileRecord
from sleuth.store.texts import put_text, text_problems
from sleuth.store.vectors import Coder, FloatArray, Graph, coder_for, vectors_file


def make_coder(manifest: Manifest) -> Coder:
    """The coder of an index's storage mode; an index coded by a codebook must find the one
    it was coded with (it ships with sleuth, keyed by the model)."""
    optional = manifest.storage in OPTIONAL_CODEBOOK_MODES
    if manifest.storage not in CODEBOOK_MODES and not (optional and manifest.codebook):
        return coder_for(manifest.storage, manifest.model.dims)
    book = codebook.shipped(manifest.model.sha256, manifest.storage)
    if book is None or book.sha256 != manifest.codebook:
        raise StoreError(
            f"this {manifest.storage} index was coded with a codebook this sleuth does not "
            "have; rebuild it (sleuth drop, then sleuth index)"
        )
    return coder_for(manifest.storage, manifest.model.dims, book)


def index_exists(directory: Path) -> bool:
    return (directory / MANIFEST_FILE).is_file() and (directory / CATALOG_FILE).is_file()


@dataclass(slots=True)
class Upsert:
    """A file's new chunks. ``vectors`` has a row for each chunk not in ``reused``, in order;
    ``reused`` maps a chunk's position to the code it already had (same text, same context).
    ``text`` is stored (compressed, see ``store.texts``) in the same transaction as the chunks."""

    file: FileRecord
    chunks: Sequence[ChunkRecord]
    texts: Sequence[str]
    vectors: FloatArray
    reused: dict[int, bytes] = field(default_factory=dict)
    # The extracted text the chunks point into, for a file that is not read verbatim.
    text: str | None = None
    # No vectors yet: the chunks not in ``reused`` are committed with an empty code, to be
    # embedded later (``Writer.fill_codes``); lexical search sees them at once.
    deferred: bool = False
    # The pipeline asks for the codes twice (to remember them for sharing, then to commit):
    # encode once. Keyed by the coder, which is the index's for the whole run.
    _coded: tuple[Coder, list[bytes]] | None = field(default=None, init=False, repr=False)

    def codes(self, coder: Coder) -> list[bytes]:
        if self._coded is not None and self._coded[0] is coder:
            return self._coded[1]
        fresh = iter(coder.encode(self.vectors)) if len(self.vectors) else iter(())
        codes = [
            self.reused[i] if i in self.reused else b"" if self.deferred else bytes(next(fresh))
            for i in range(len(self.chunks))
        ]
        self._coded = (coder, codes)
        return codes


@dataclass(slots=True)
class Batch:
    """Changes that become visible together or not at all."""

    upserts: list[Upsert] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)
    moves: list[tuple[str, FileRecord]] = field(default_factory=list)
    touches: list[FileRecord] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.upserts or self.removals or self.moves or self.touches)

    @property
    def chunk_count(self) -> int:
        return sum(len(u.chunks) for u in self.upserts)


@dataclass(frozen=True, slots=True)
class CommitResult:
    chunks_added: int
    chunks_removed: int


class Index:
    """An open index directory. Reading needs no lock; writing goes through ``writer()``."""

    def __init__(
        self, directory: Path, manifest: Manifest, catalog: Catalog, coder: Coder | None = None
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self.catalog = catalog
        self.coder = coder or make_coder(manifest)

    @classmethod
    def open(cls, directory: Path, *, readonly: bool = True) -> Index:
        if not index_exists(directory):
            raise IndexMissingError(f"no index at {directory}")
        # Indexes made before sleuth was private by default: a writer tightens every time
        # (a handful of files), a reader only when one stat says the folder is open to others.
        if not readonly or is_loose(directory):
            tighten(directory)
        manifest = read_manifest(directory)
        coder = make_coder(manifest)
        return cls(directory, manifest, Catalog(directory / CATALOG_FILE, readonly=readonly), coder)

    @classmethod
    def create(cls, directory: Path, manifest: Manifest) -> Index:
        """Create an empty index; the manifest is written last so a half-made index is ignored."""
        make_private_dir(directory)
        with WriteLock(directory):
            catalog = Catalog(directory / CATALOG_FILE)
            with catalog.transaction():
                if catalog.get_meta("generation") == "":
                    catalog.set_meta("generation", "0")
            write_manifest(directory, manifest)
        return cls(directory, manifest, catalog)

    def close(self) -> None:
        if not self.catalog.readonly:
            # Give the write-ahead log's space back, unless a reader is using it right now.
            self.catalog.checkpoint(truncate=True)
        self.catalog.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def generation(self) -> int:
        return int(self.catalog.get_meta("generation", "0"))

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """A consistent read view: the generation and the rows come from one SQLite snapshot."""
        db = self.catalog.db
        db.execute("BEGIN")
        try:
            yield
        finally:
            db.execute("COMMIT")

    def footprint(self) -> Footprint:
        chunks = self.catalog.counts()[1]
        state = self.graph_state
        generation = state.generation if state is not None else self.generation
        return measure(self.directory, generation, chunks * self.coder.size)

    @property
    def graph_active(self) -> bool:
        return self.catalog.get_meta("graph") == "1"

    @property
    def graph_state(self) -> GraphState | None:
        return read_state(self.catalog, self.generation)

    def load_graph(self, *, view: bool = True) -> Graph:
        state = self.graph_state
        generation = state.generation if state is not None else self.generation
        return Graph.load(vectors_file(self.directory, generation), self.coder, view=view)

    @contextlib.contextmanager
    def writer(self, *, wait: bool = False, timeout: float = 0.0) -> Iterator[Writer]:
        lock = WriteLock(self.directory)
        lock.acquire(wait=wait, timeout=timeout)
        try:
            yield Writer(self)
        finally:
            # PASSIVE never waits for readers, so searches cannot stall the next writer.
            self.catalog.checkpoint(truncate=False)
            lock.release()


class Writer:
    """Applies batches under the write lock (see the module docstring for the protocol)."""

    def __init__(self, index: Index) -> None:
        self.index = index
        adopt_old_graph(index.catalog, index.generation)
        self._remove_orphans()
        # Loaded when a commit first merges into it (most commits only touch the catalog).
        self.graph: Graph | None = None

    def _kept_files(self) -> set[int]:
        """Graph files searches may still read: the live one, the one before the last merge
        while searches that read the catalog just before it may still run (two generations,
        as for any older file), and any of the last three generations."""
        live = self.index.generation
        state = self.index.graph_state
        kept = {live - 2, live - 1, live}
        if state is not None:
            kept.add(state.generation)
            if live - state.generation <= 2:  # as long as any older generation is kept
                kept.add(state.previous)
        return kept

    def _remove_orphans(self) -> None:
        kept = self._kept_files()
        for path in self.index.directory.glob("vectors.*.usearch"):
            number = path.name.split(".")[1]
            if number.isdigit() and int(number) not in kept:
                path.unlink(missing_ok=True)
        for path in self.index.directory.glob(".vectors.*.tmp"):
            path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _next_generation(self, removed: list[int]) -> Iterator[None]:
        """One transaction that ends by stepping the graph and the generation; ``removed``
        (chunk ids) may still grow inside the block."""
        index = self.index
        next_generation = index.generation + 1
        try:
            with index.catalog.transaction():
                yield
                self._update_graph(removed, next_generation)
                index.catalog.set_meta("generation", str(next_generation))
        except BaseException:
            # The in-memory graph may hold changes the catalog rolled back: start again from disk.
            vectors_file(index.directory, next_generation).unlink(missing_ok=True)
            self.graph = None
            raise
        # Graph files of earlier merges: a build merges every TAIL_MAX chunks.
        self._remove_orphans()

    def commit(self, batch: Batch) -> CommitResult:
        if not batch:
            return CommitResult(0, 0)
        index = self.index
        catalog = index.catalog
        removed: list[int] = []
        added = 0
        with self._next_generation(removed):
            for path in batch.removals:
                removed += catalog.remove_file(path)
            for old, record in batch.moves:
                removed += catalog.move_file(old, record)
            for record in batch.touches:
                catalog.touch_file(record.path, record.size, record.mtime_ns)
            for upsert in batch.upserts:
                removed += catalog.remove_chunks_of(upsert.file.path)
                file_id = catalog.upsert_file(upsert.file)
                if upsert.text is not None:
                    put_text(catalog.db, file_id, upsert.text)
                rows = upsert.codes(index.coder)
                added += len(catalog.add_chunks(file_id, upsert.chunks, upsert.texts, rows))
            if batch.removals or batch.moves:
                prune_dirs(catalog.db)
        return CommitResult(added, len(removed))

    def fill_codes(self, pairs: Sequence[tuple[int, bytes]]) -> int:
        """Give chunks committed without a code their codes (``Upsert.deferred``), in one
        transaction with the graph's step; returns how many still waited for one (a chunk
        removed since, or coded by another writer, is left alone)."""
        with self._next_generation([]):
            done = self.index.catalog.set_codes(pairs)
        return done

    def _update_graph(self, removed: list[int], generation: int) -> None:
        """Keep the graph's state in step; create the graph once the collection outgrows a
        flat scan, and merge the tail and the dead entries into it when they pile up."""
        index = self.index
        catalog = index.catalog
        state = index.graph_state
        if state is None:
            if catalog.counts()[1] - catalog.pending_count() <= index.manifest.graph_min_chunks:
                return
            self.graph = Graph.create(index.coder, index.manifest.connectivity)
            upto = self._add_tail(0)
            self.graph.save(vectors_file(index.directory, generation))
            write_state(catalog, GraphState(generation, upto, 0, generation, len(self.graph)))
            return
        dead = state.dead + sum(1 for k in removed if k <= state.upto)
        state = replace(state, dead=dead)
        # Not catalog.counts(): a count of every chunk at every commit is O(n) each time.
        if not state.needs_merge(mergeable(catalog, state.upto)):
            write_state(catalog, state)
            return
        if self.graph is None:
            self.graph = index.load_graph(view=False)
        stored = self.graph.stored_keys()
        live = np.asarray(catalog.all_chunk_ids(), np.int64)
        self.graph.remove([int(k) for k in np.setdiff1d(stored, live)])
        upto = self._add_tail(state.upto)
        self.graph.save(vectors_file(index.directory, generation))
        merged = GraphState(generation, max(upto, state.upto), 0, state.generation, len(self.graph))
        write_state(catalog, merged)

    def _add_tail(self, upto: int) -> int:
        """Add the chunks above ``upto`` to the loaded graph; returns the highest id added."""
        assert self.graph is not None
        catalog = self.index.catalog
        # Chunks from the first one still waiting for its code on stay in the tail: the
        # graph holds one range of ids, and the tail's flat scan sees each once it is coded.
        ids, codes = tail_codes(catalog, upto, below=catalog.first_pending())
        if ids:
            self.graph.add(ids, np.frombuffer(b"".join(codes), np.uint8).reshape(len(ids), -1))
        return max(ids, default=upto)

    def check(self) -> list[str]:
        return check_consistency(self.index)


def check_consistency(index: Index) -> list[str]:
    """Problems that make the catalog, its codes and the graph disagree; empty when they agree."""
    problems: list[str] = []
    ids, codes = index.catalog.codes()
    size = index.coder.size
    if bad := sum(1 for c in codes if len(c) != size):
        problems.append(f"{bad} chunks have a code of the wrong size")
    problems += text_problems(index.catalog.db)
    state = index.graph_state
    if state is not None:
        graph_ids = {int(k) for k in index.load_graph(view=True).stored_keys()}
        catalog_ids = {i for i in ids if i <= state.upto}  # the tail is scanned flat
        if missing := catalog_ids - graph_ids:
            problems.append(f"{len(missing)} chunks are missing from the graph")
        if (extra := len(graph_ids - catalog_ids)) != state.dead:
            problems.append(f"{extra} graph entries have no chunk, {state.dead} recorded")
    return problems


def require_same_model(index: Index, manifest: Manifest) -> None:
    have, want = index.manifest.model, manifest.model
    if have.sha256 != want.sha256:
        raise StoreError(
            f"index was built with {have.describe()}, not {want.describe()}; "
            "use the same --model or create a new index with --index NAME"
        )
