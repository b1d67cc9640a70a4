"""Rebuild every read model from the events: drop the tables, recreate them, apply the whole log."""

from collections.abc import Callable

from projections.projector import Projector
from projections.tables import drop_tables


def rebuild(projector: Projector, progress: Callable[[int], None] | None = None) -> int:
    """Return how many events were applied. The server must not be projecting meanwhile."""
    with projector.db.transaction(commit=True) as cur:
        drop_tables(cur, projector.prefix)
    projector.setup()
    return projector.catch_up(progress)
