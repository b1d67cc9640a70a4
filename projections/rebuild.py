"""Rebuild every read model from the events, online: build beside the live tables, catch up, swap.

Clients never see an empty or half-built read model: the new set (prefix `rb_`) is filled and indexed
while the live one keeps serving and following the log; then one transaction takes the write lock on
the live position, applies the last events to the new set, drops the old set and renames the new one
into its place. The live projector notices that its position moved and carries on from the new one.
"""

import contextlib
import gc
import time
from collections.abc import Callable, Iterator
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import OperationalError

from projections.ports import SqlDatabase
from projections.projector import Projector
from projections.tables import LIVE_PREFIX, TABLES, drop_tables, rename_tables

BUILD_PREFIX = "rb_"
# Positions of the log per transaction. Each batch rewrites every conversation and member it touches
# (in a busy log, nearly all of them): larger batches do that less often (on PostgreSQL, fewer dead row
# versions too), for memory that grows with the batch, not the log (a few tens of MB at this size).
REBUILD_BATCH = 40_000
SWAP_ATTEMPTS = 400


def rebuild(
    app: Application[Any],
    db: SqlDatabase,
    progress: Callable[[int], None] | None = None,
    batch_size: int = REBUILD_BATCH,
) -> Projector:
    """Return the projector of the new live set (at the head of the log when it was swapped in)."""
    fresh = Projector(app, db, BUILD_PREFIX, batch_size=batch_size)
    with db.transaction(commit=True) as cur:
        drop_tables(cur, BUILD_PREFIX)  # a rebuild that was interrupted starts over
    fresh.setup(indexes=False)
    with _few_collections():
        fresh.catch_up(progress)  # the bulk of the work, while the live set serves; then indexes it
    fresh.catch_up(progress)  # what arrived while it was indexed: less to apply under the lock
    applied = _swap(db, fresh)
    if progress and applied:
        progress(applied)
    live = Projector(app, db, LIVE_PREFIX, batch_size=batch_size)
    live.load_position()
    return live


@contextlib.contextmanager
def _few_collections() -> Iterator[None]:
    """The cyclic garbage collector, through the bulk load, as a server runs it (infrastructure/gc_tuning.py):
    what is alive at the start is frozen (no collection walks it again), and the young generation is
    collected every 50,000 allocations rather than 700. Each batch of 40,000 positions is a few hundred
    thousand objects with no cycles, unpickled and dropped: the default thresholds walked them (and
    the whole application) over and over, about a tenth of the writer's time."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


YOUNG_THRESHOLD = 50_000


def _swap(db: SqlDatabase, fresh: Projector) -> int:
    """Apply the last events to the new set and put it in the live set's place, in one transaction."""
    for attempt in range(SWAP_ATTEMPTS):
        try:
            with db.transaction(commit=True) as cur:
                # SQLite: BEGIN IMMEDIATE took the write lock, and readers keep their snapshot.
                if db.engine == "postgres":
                    # All live tables at once, or none: waiting for one while holding another could
                    # deadlock with a reader that holds the first and wants the second.
                    # (Those that exist: an earlier release's set lacks the newer ones.)
                    live = [f"{LIVE_PREFIX}{table}" for table in TABLES]
                    found = cur.execute(
                        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY(?)",
                        (live,),
                    ).fetchall()
                    existing = {row["tablename"] for row in found}
                    tables = ", ".join(name for name in live if name in existing)
                    cur.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE NOWAIT")
                applied = fresh.catch_up_within(cur)
                drop_tables(cur, LIVE_PREFIX)
                rename_tables(cur, db.engine, BUILD_PREFIX, LIVE_PREFIX)
                return applied
        except OperationalError:  # a reader or the live projector holds a table: try again shortly
            fresh.load_position()
            time.sleep(min(0.005 * (attempt + 1), 0.1))
    raise RuntimeError("could not take the live tables for the swap; the server is too busy: try again")
