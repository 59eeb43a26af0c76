"""Which chunks the usearch graph holds, so that most commits need not rewrite it.

Saving the graph is a rewrite of the whole file: at 100k chunks (12 MB) every 256-chunk commit
of an index run, and every batch of a watcher, paid a full load and save. So the graph is
merged lazily. It holds the chunks up to ``upto`` (ids only grow, so the rest are one range of
ids, the *tail*, which searches scan flat from the catalog), and removed chunks stay in it as
*dead* entries until the next merge (searches never see them: a candidate without a catalog
row is dropped). A commit rewrites the graph only when the tail outgrows ``TAIL_MAX`` chunks or
the dead entries ``DEAD_SHARE`` of the graph. The state lives in the catalog's meta table, so
it changes in the same transaction as the rows it describes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sleuth.store.catalog import Catalog
from sleuth.store.codes import CODED

# A flat tail of this many codes costs a search a few milliseconds; merging it costs a writer
# one load and save of the graph.
TAIL_MAX = 8192
DEAD_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class GraphState:
    generation: int  # the vectors file that holds the graph
    upto: int  # highest chunk id the graph was given; higher ids are the tail
    dead: int  # chunks removed from the catalog but still in the graph
    previous: int  # the graph file before the last merge, kept for searches still using it
    size: int  # entries in the graph file, dead ones included

    def needs_merge(self, tail: int) -> bool:
        return tail > TAIL_MAX or self.dead > DEAD_SHARE * max(self.size, 1)


def read_state(catalog: Catalog, generation: int) -> GraphState | None:
    """The graph's state, or None when the index has no graph. An index from before lazy
    merging holds every chunk in the graph of its current generation."""
    if catalog.get_meta("graph") != "1":
        return None
    saved = int(catalog.get_meta("graph_generation", str(generation)))
    upto = int(catalog.get_meta("graph_upto", str(2**62)))
    dead = int(catalog.get_meta("graph_dead", "0"))
    previous = int(catalog.get_meta("graph_previous", str(saved)))
    size = int(catalog.get_meta("graph_size", "0"))
    return GraphState(saved, upto, dead, previous, size)


def adopt_old_graph(catalog: Catalog, generation: int) -> None:
    """Give a graph from before lazy merging (every chunk in it) its state; under the lock."""
    if catalog.get_meta("graph") == "1" and catalog.get_meta("graph_upto") == "":
        with catalog.transaction():
            top = catalog.db.execute("SELECT max(id) FROM chunks").fetchone()[0]
            size = catalog.counts()[1]
            write_state(catalog, GraphState(generation, int(top or 0), 0, generation, size))


def write_state(catalog: Catalog, state: GraphState) -> None:
    catalog.set_meta("graph", "1")
    catalog.set_meta("graph_generation", str(state.generation))
    catalog.set_meta("graph_upto", str(state.upto))
    catalog.set_meta("graph_dead", str(state.dead))
    catalog.set_meta("graph_previous", str(state.previous))
    catalog.set_meta("graph_size", str(state.size))


def mergeable(catalog: Catalog, upto: int) -> int:
    """How many chunks a merge would add to the graph: those above ``upto`` and below the
    first chunk still waiting for its code (the graph holds one range of ids).

    A rowid range, so it costs the tail, not the index: while a first index embeds a million
    chunks, counting every coded chunk above ``upto`` at each commit made it quadratic."""
    below = catalog.first_pending()
    if below is None:
        row = catalog.db.execute("SELECT count(*) FROM chunks WHERE id > ?", (upto,))
    else:
        row = catalog.db.execute(
            "SELECT count(*) FROM chunks WHERE id > ? AND id < ?", (upto, below)
        )
    return int(row.fetchone()[0])


def tail_codes(
    catalog: Catalog, upto: int, below: int | None = None
) -> tuple[list[int], list[bytes]]:
    """(ids, codes) of the coded chunks above ``upto`` (and below ``below``), by id."""
    sql = f"SELECT id, code FROM chunks WHERE id > ? AND id < ? AND {CODED} ORDER BY id"
    pairs = catalog.db.execute(sql, (upto, 2**62 if below is None else below)).fetchall()
    return [int(i) for i, _ in pairs], [bytes(c) for _, c in pairs]
