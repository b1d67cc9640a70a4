"""The recorders' side of applying a save's events to the read models in its own transaction
(projections/in_save.py): each recorder calls `apply_in_save` once the events (and their keys) are in,
and `applying_in_save` around its `insert_events` tells the projection whether the transaction
committed. SealedEventStore passes the save's domain events as `domain_events`."""

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from eventsourcing.persistence import StoredEvent

from infrastructure.event_log import window_in
from infrastructure.subject_keys import keys_in
from projections.ports import AppliedInSave, PreparedInSave, ProjectionInSave, Recorded, SqlCursor, StoredRow

F = TypeVar("F", bound=Callable[..., Any])


class _Pending(threading.local):
    prepared: PreparedInSave | None = None
    applied: AppliedInSave | None = None


class AppliesInSave:
    """A recorder mixin. `projection_in_save`: set by the composition root in a process that projects
    and broadcasts (interfaces/bootstrap.py); None elsewhere (the CLI, `--no-projections` servers)."""

    projection_in_save: ProjectionInSave | None = None
    events_table_name: str
    _pending = _Pending()

    def prepare_in_save(self, cursor: Callable[[], SqlCursor], kwargs: Any) -> None:
        """(PostgreSQL) Before the events' insert: see ProjectionInSave.prepare."""
        self._settle(committed=False)  # an earlier attempt of this insert that failed
        projection, domain_events = self.projection_in_save, kwargs.get("domain_events")
        if projection is not None and domain_events:
            self._pending.prepared = projection.prepare(cursor, domain_events)

    def apply_in_save(
        self, cur: SqlCursor, stored_events: Sequence[StoredEvent], notification_ids: Sequence[int] | None, kwargs: Any
    ) -> None:
        prepared, self._pending.prepared = self._pending.prepared, None
        self._settle(committed=False)  # an earlier attempt of this insert that failed
        projection, domain_events = self.projection_in_save, kwargs.get("domain_events")
        if (
            projection is None
            or not domain_events
            or not notification_ids
            or len(notification_ids) != len(stored_events)
        ):
            if prepared is not None:
                prepared.abandoned()
            return
        recorded = [
            Recorded(n, s.topic, e) for n, s, e in zip(notification_ids, stored_events, domain_events, strict=True)
        ]
        try:
            self._pending.applied = projection.apply(cur, recorded, LogIn(cur, self.events_table_name), prepared)
        except BaseException:
            if prepared is not None:
                prepared.abandoned()  # (the lock, unless apply took it over)
            raise

    def _settle(self, committed: bool) -> None:
        prepared, self._pending.prepared = self._pending.prepared, None
        if prepared is not None:  # prepared, then the insert failed
            prepared.abandoned()
        applied, self._pending.applied = self._pending.applied, None
        if applied is not None:
            if committed:
                applied.committed()
            else:
                applied.abandoned()


class LogIn:
    """(projections/ports.py: LogInSave) The log and its keys, read on the save's own cursor."""

    def __init__(self, cur: SqlCursor, events_table: str) -> None:
        self.cur = cur
        self.events_table = events_table

    def window(self, start: int, stop: int, topics: Sequence[str]) -> list[StoredRow]:
        return window_in(self.cur, self.events_table, start, stop, topics)

    def get_many(self, subjects: Iterable[bytes]) -> dict[bytes, bytes]:
        return keys_in(self.cur, subjects)


def applying_in_save(insert_events: F) -> F:
    """`insert_events`, telling what was applied in its transaction whether that committed."""

    def insert(self: AppliesInSave, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        try:
            notification_ids = insert_events(self, stored_events, **kwargs)
        except BaseException:
            self._settle(committed=False)
            raise
        self._settle(committed=True)
        return notification_ids

    insert.__name__ = insert.__qualname__ = "insert_events"
    insert.__doc__ = insert_events.__doc__
    return insert  # type: ignore[return-value]
