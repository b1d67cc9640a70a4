"""Rebuild every read model from the events, online: build beside the live tables, catch up, swap.

Clients never see an empty or half-built read model: the new set (prefix `rb_`) is filled while the
live one keeps serving and following the log; then one transaction takes the write lock on the live
position, applies the last events to the new set, drops the old set and renames the new one into its
place. The live projector notices that its position moved and carries on from the new one.
"""

from collections.abc import Callable

from eventsourcing.application import Application

from infrastructure.sql import SqlDatabase
from projections.projector import Projector
from projections.tables import LIVE_PREFIX, create_indexes, drop_tables, rename_tables

BUILD_PREFIX = "rb_"


def rebuild(
    app: Application, db: SqlDatabase, progress: Callable[[int], None] | None = None, batch_size: int = 1000
) -> Projector:
    """Return the projector of the new live set (at the head of the log when it was swapped in)."""
    fresh = Projector(app, db, BUILD_PREFIX, batch_size=batch_size)
    with db.transaction(commit=True) as cur:
        drop_tables(cur, BUILD_PREFIX)  # a rebuild that was interrupted starts over
    fresh.setup(indexes=False)
    fresh.catch_up(progress)  # the bulk of the work, while the live set serves
    with db.transaction(commit=True) as cur:
        if db.engine == "postgres":  # live projector and readers wait here until the swap commits
            cur.execute(f"LOCK TABLE {LIVE_PREFIX}position IN ACCESS EXCLUSIVE MODE")
        else:  # SQLite: the first write takes the database's write lock
            cur.execute(f"CREATE TABLE IF NOT EXISTS {LIVE_PREFIX}position (projection TEXT PRIMARY KEY, notification_id BIGINT NOT NULL)")
        applied = fresh.catch_up_within(cur)
        drop_tables(cur, LIVE_PREFIX)
        rename_tables(cur, db.engine, BUILD_PREFIX, LIVE_PREFIX)
        create_indexes(cur, LIVE_PREFIX)
    if progress and applied:
        progress(applied)
    live = Projector(app, db, LIVE_PREFIX, batch_size=batch_size)
    live.load_position()
    return live
