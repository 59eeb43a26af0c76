"""The ``Index`` facade: keeps the catalog, the lexical index and the vector index consistent.

Commit protocol of a write batch (see ``Writer.commit``): catalog rows go into an open SQLite
transaction, the vector index is updated in memory and saved as the *next* generation file,
then the transaction that names that generation commits. A crash before the commit leaves the
previous generation live and an orphan file that the next writer deletes; after it, the new
file is complete on disk. Readers take the generation from their own SQLite snapshot.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import numpy as np

from sleuth.store.catalog import CATALOG_FILE, Catalog
from sleuth.store.errors import IndexMissingError, StoreError
from sleuth.store.lock import WriteLock
from sleuth.store.manifest import MANIFEST_FILE, Manifest, read_manifest, write_manifest
from sleuth.store.records import ChunkRecord, FileRecord
from sleuth.store.vectors import FloatArray, VectorIndex, vectors_file


def index_exists(directory: Path) -> bool:
    return (directory / MANIFEST_FILE).is_file() and (directory / CATALOG_FILE).is_file()


@dataclass(slots=True)
class Upsert:
    file: FileRecord
    chunks: Sequence[ChunkRecord]
    texts: Sequence[str]
    vectors: FloatArray


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

    def __init__(self, directory: Path, manifest: Manifest, catalog: Catalog) -> None:
        self.directory = directory
        self.manifest = manifest
        self.catalog = catalog

    @classmethod
    def open(cls, directory: Path, *, readonly: bool = True) -> Index:
        if not index_exists(directory):
            raise IndexMissingError(f"no index at {directory}")
        manifest = read_manifest(directory)
        return cls(directory, manifest, Catalog(directory / CATALOG_FILE, readonly=readonly))

    @classmethod
    def create(cls, directory: Path, manifest: Manifest) -> Index:
        """Create an empty index; the manifest is written last so a half-made index is ignored."""
        directory.mkdir(parents=True, exist_ok=True)
        with WriteLock(directory):
            catalog = Catalog(directory / CATALOG_FILE)
            with catalog.transaction():
                if catalog.get_meta("generation") == "":
                    empty = VectorIndex.create(
                        manifest.storage, manifest.model.dims, manifest.connectivity
                    )
                    empty.save(vectors_file(directory, 0))
                    catalog.set_meta("generation", "0")
            write_manifest(directory, manifest)
        return cls(directory, manifest, catalog)

    def close(self) -> None:
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

    def load_vectors(self, *, view: bool = True) -> VectorIndex:
        m = self.manifest
        path = vectors_file(self.directory, self.generation)
        return VectorIndex.load(path, m.storage, m.model.dims, m.connectivity, view=view)

    @contextlib.contextmanager
    def writer(self, *, wait: bool = False) -> Iterator[Writer]:
        lock = WriteLock(self.directory)
        lock.acquire(wait=wait)
        try:
            yield Writer(self)
        finally:
            lock.release()


class Writer:
    """Applies batches under the write lock (see the module docstring for the protocol)."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._remove_orphans()
        self.vectors = index.load_vectors(view=False)

    def _remove_orphans(self) -> None:
        live = self.index.generation
        for path in self.index.directory.glob("vectors.*.usearch"):
            number = path.name.split(".")[1]
            if number.isdigit() and int(number) not in (live, live - 1):
                path.unlink(missing_ok=True)
        for path in self.index.directory.glob(".vectors.*.tmp"):
            path.unlink(missing_ok=True)

    def commit(self, batch: Batch) -> CommitResult:
        if not batch:
            return CommitResult(0, 0)
        catalog = self.index.catalog
        directory = self.index.directory
        removed: list[int] = []
        added_keys: list[int] = []
        added_vectors: list[FloatArray] = []
        try:
            with catalog.transaction():
                next_generation = self.index.generation + 1
                for path in batch.removals:
                    removed += catalog.remove_file(path)
                for old, record in batch.moves:
                    catalog.move_file(old, record)
                for record in batch.touches:
                    catalog.touch_file(record.path, record.size, record.mtime_ns)
                for upsert in batch.upserts:
                    removed += catalog.remove_chunks_of(upsert.file.path)
                    file_id = catalog.upsert_file(upsert.file)
                    added_keys += catalog.add_chunks(file_id, upsert.chunks, upsert.texts)
                    added_vectors.append(upsert.vectors)
                self.vectors.remove(removed)
                if added_keys:
                    self.vectors.add(added_keys, np.concatenate(added_vectors, axis=0))
                self.vectors.save(vectors_file(directory, next_generation))
                catalog.set_meta("generation", str(next_generation))
        except BaseException:
            # The in-memory graph may hold changes the catalog rolled back: start again from disk.
            vectors_file(directory, self.index.generation + 1).unlink(missing_ok=True)
            self.vectors = self.index.load_vectors(view=False)
            raise
        vectors_file(directory, next_generation - 2).unlink(missing_ok=True)
        return CommitResult(len(added_keys), len(removed))

    def check(self) -> list[str]:
        return check_consistency(self.index, self.vectors)


def check_consistency(index: Index, vectors: VectorIndex | None = None) -> list[str]:
    """Problems that make catalog and vector index disagree; empty when they agree."""
    vectors = vectors or index.load_vectors(view=True)
    catalog_ids = set(index.catalog.all_chunk_ids())
    vector_ids = {int(k) for k in vectors.stored_keys()}
    problems: list[str] = []
    if missing := catalog_ids - vector_ids:
        problems.append(f"{len(missing)} chunks have no vector")
    if extra := vector_ids - catalog_ids:
        problems.append(f"{len(extra)} vectors have no chunk")
    return problems


def require_same_model(index: Index, manifest: Manifest) -> None:
    have, want = index.manifest.model, manifest.model
    if have.sha256 != want.sha256:
        raise StoreError(
            f"index was built with {have.describe()}, not {want.describe()}; "
            "use the same --model or create a new index with --index NAME"
        )
