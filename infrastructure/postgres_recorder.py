"""The library's PostgreSQL recorders, failing fast when the database is gone.

eventsourcing 9.5 retries every failed insert and select 10 times (0.2 s apart), each waiting for a
pooled connection up to the connect timeout: with PostgreSQL down, a send to a conversation not yet
in the cache (its events must be read) hung for about 14 s, an insert for most of a minute. Here each
call is tried again once, and only when it failed at once (a pooled connection that died while idle,
replaced on the second try); a failure that took its time (no connection could be had) is final. So a
client learns within the connect timeout (2 s) plus a little that nothing was stored, and can retry
with the same client_message_id when the database is back. Every recorder the application makes
fails fast: the events' and the snapshots' (a cold aggregate load reads its snapshot first).
"""

import functools
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from eventsourcing.persistence import EventStore, InterfaceError, Mapper, OperationalError, StoredEvent, Transcoder
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder, PostgresFactory
from psycopg.sql import SQL, Identifier

from infrastructure.event_log import postgres_window
from infrastructure.projection_in_save import AppliesInSave, applying_in_save
from infrastructure.sealing import INSERT_KEYS_POSTGRES, SealingMapper, new_keys_of
from infrastructure.sql import SqlCursor
from infrastructure.sqlite_recorder import sealed_event_store, sealing_mapper
from projections.ports import StoredRow

F = TypeVar("F", bound=Callable[..., Any])
QUICK_FAILURE_SECONDS = 0.5  # a failure faster than this is a broken connection: worth one more try
RETRY_WAIT_SECONDS = 0.05


def fail_fast(method: F) -> F:
    """The library's method without its retry decorator, tried again once after a quick failure."""
    undecorated = getattr(method, "__wrapped__", method)

    @functools.wraps(undecorated)
    def tried(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return undecorated(*args, **kwargs)
        except (InterfaceError, OperationalError):
            if time.monotonic() - started > QUICK_FAILURE_SECONDS:
                raise
        time.sleep(RETRY_WAIT_SECONDS)
        return undecorated(*args, **kwargs)

    return tried  # type: ignore[return-value]


class FailFastPostgresAggregateRecorder(PostgresAggregateRecorder):
    insert_events = fail_fast(PostgresAggregateRecorder.insert_events)
    select_events = fail_fast(PostgresAggregateRecorder.select_events)


class FailFastPostgresApplicationRecorder(AppliesInSave, PostgresApplicationRecorder):
    """Also: the read models updated in the save's transaction where this process projects
    (projections/in_save.py); events are inserted from four plain arrays (one per column) rather than one array of the
    library's composite type, which psycopg dumps field by field as text in Python (5-7% of the server's
    CPU per send at 200 pairs, by py-spy); the same rows, in the same order, with their notification ids."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.insert_columns_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::{id_type}[], %s::bigint[], %s::text[], %s::bytea[]) "
            "RETURNING notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=Identifier(self.datastore.originator_id_type),
        )

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        # what the read models' update reads first, pipelined before the insert: their rows come back
        # with its notification ids, not in round trips of their own (projections/in_save.py)
        self.prepare_in_save(lambda: SqlCursor(curs.connection.cursor(), "postgres", copy=False), kwargs)
        columns = (
            [s.originator_id for s in stored_events],
            [s.originator_version for s in stored_events],
            [s.topic for s in stored_events],
            [s.state for s in stored_events],
        )
        curs.execute(self.insert_columns_statement, columns, prepare=True)

    insert_events = applying_in_save(fail_fast(PostgresApplicationRecorder.insert_events))
    select_events = fail_fast(PostgresApplicationRecorder.select_events)
    select_notifications = fail_fast(PostgresApplicationRecorder.select_notifications)
    max_notification_id = fail_fast(PostgresApplicationRecorder.max_notification_id)

    def select_window(self, start: int, stop: int, topics: Sequence[str]) -> list[StoredRow]:
        """The read side's port (projections/ports.py: WindowedRecorder)."""
        return postgres_window(self, start, stop, topics)

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        """The keys of sealed fields, in the events' transaction, once the events went in (the library
        calls this after the pipeline's sync: a conflicting event has failed the save by then, as it
        always did), in one statement on a cursor of their own (infrastructure/sealing.py); then the
        read models, where this process applies its saves' events itself (still in the pipeline:
        statements whose results are not needed share round trips)."""
        notification_ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        keys = new_keys_of(stored_events)
        with curs.connection.cursor() as own:
            if keys:
                own.execute(INSERT_KEYS_POSTGRES, [[k[0] for k in keys], [k[1] for k in keys]], prepare=True)
            self.apply_in_save(SqlCursor(own, "postgres", copy=False), stored_events, notification_ids, kwargs)
        return notification_ids


class FailFastPostgresFactory(PostgresFactory):
    """`PERSISTENCE_MODULE` for PostgreSQL: the library's factory with the recorders above."""

    aggregate_recorder_class = FailFastPostgresAggregateRecorder
    application_recorder_class = FailFastPostgresApplicationRecorder

    def mapper(self, transcoder: Transcoder | None = None, mapper_class: Any = None) -> Mapper[Any]:
        return sealing_mapper(self, super().mapper(transcoder, mapper_class or SealingMapper))

    def event_store(self, mapper: Mapper[Any] | None = None, recorder: Any = None) -> EventStore[Any]:
        return sealed_event_store(self, mapper, recorder)
