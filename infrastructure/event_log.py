"""Reads of the library's event table that its API does not offer, one query per engine.

- Where each event of an aggregate sits in the log (its notification id): the event store returns an
  aggregate's events without their log positions; time travel to a position needs them.
- A window of the log as plain rows, for the projector's readers (the recorders' `select_window`,
  projections/ports.py: WindowedRecorder): the library's `select_notifications`
  builds a Notification and a UUID per row (on SQLite about 10 us per event returned with a topic
  filter, three times the query itself; on PostgreSQL, with its dict rows, a quarter of a reader's
  time), and reading the log is the larger half of a rebuild.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from projections.ports import SqlCursor, SqlDatabase, StoredRow


class Window(list[StoredRow]):
    """A window's rows, with where the keys of their sealed fields are read in one query (`keys`: a
    KeyReader, infrastructure/sealing.py), for the reader that opens them (projections/event_rows.py)."""

    def __init__(self, rows: Iterable[StoredRow], keys: "WindowKeys") -> None:
        super().__init__(rows)
        self.keys = keys


def sqlite_window(recorder: SQLiteApplicationRecorder, start: int, stop: int, topics: Sequence[str]) -> list[StoredRow]:
    """The events after `start` up to `stop` of these topics, in log order (the SQLite recorder numbers
    notifications by rowid and keeps ids as hex)."""
    statement = (
        f"SELECT rowid, originator_id, originator_version, topic, state FROM {recorder.events_table_name} "
        f"WHERE rowid > ? AND rowid <= ? AND topic IN ({', '.join('?' * len(topics))}) ORDER BY rowid"
    )
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, [start, stop, *topics])
        rows = cursor.fetchall()
    ids: dict[str, str] = {}  # an aggregate's id converted once per window (and one string object)
    return Window(
        [StoredRow(n, ids.get(i) or ids.setdefault(i, _hyphenated(i)), v, t, s) for n, i, v, t, s in rows],
        WindowKeys(recorder),
    )


def postgres_window(
    recorder: PostgresApplicationRecorder, start: int, stop: int, topics: Sequence[str]
) -> list[StoredRow]:
    """As the library's query, but rows as tuples with the id as text: its dict rows, Notifications and
    UUIDs were a quarter of a reader's time."""
    statement = SQL(
        "SELECT notification_id, originator_id::text, originator_version, topic, state FROM {schema}.{table} "
        "WHERE notification_id > %s AND notification_id <= %s AND topic = ANY(%s) ORDER BY notification_id"
    ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name))
    with recorder.datastore.get_connection() as connection, connection.cursor(row_factory=tuple_row) as cursor:
        cursor.execute(statement, [start, stop, list(topics)], prepare=True)
        return Window(map(StoredRow._make, cursor.fetchall()), WindowKeys(recorder))


def window_in(cur: SqlCursor, table: str, start: int, stop: int, topics: Sequence[str]) -> list[StoredRow]:
    """The same window, read on a transaction's own cursor (a save's: projections/in_save.py)."""
    if cur.engine == "postgres":
        rows = cur.execute(
            "SELECT notification_id AS n, originator_id::text AS id, originator_version AS v, topic, state "
            f"FROM {table} WHERE notification_id > ? AND notification_id <= ? AND topic = ANY(?) "
            "ORDER BY notification_id",
            (start, stop, list(topics)),
        ).fetchall()
        return [StoredRow(r["n"], r["id"], r["v"], r["topic"], bytes(r["state"])) for r in rows]
    rows = cur.execute(
        f"SELECT rowid AS n, originator_id AS id, originator_version AS v, topic, state FROM {table} "
        f"WHERE rowid > ? AND rowid <= ? AND topic IN ({', '.join('?' * len(topics))}) ORDER BY rowid",
        (start, stop, *topics),
    ).fetchall()
    return [StoredRow(r["n"], _hyphenated(r["id"]), r["v"], r["topic"], bytes(r["state"])) for r in rows]


def _hyphenated(hexa: Any) -> str:
    return f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:]}" if len(hexa) == 32 else str(UUID(hexa))


class EventPositions:
    def __init__(self, db: SqlDatabase, events_table: str) -> None:
        self.db = db
        if db.engine == "postgres":
            self._sql = f"SELECT originator_version, notification_id FROM {events_table} WHERE originator_id = ?"
            self._id: Callable[[UUID], str] = str
        else:  # the SQLite recorder keeps UUIDs as hex and numbers notifications by rowid
            self._sql = (
                f"SELECT originator_version, rowid AS notification_id FROM {events_table} WHERE originator_id = ?"
            )
            self._id = lambda value: UUID(str(value)).hex

    def version_at(self, aggregate_id: UUID, position: int) -> int:
        """The aggregate's version once the log had reached `position` (0: it did not exist yet)."""
        with self.db.transaction(commit=False) as cur:
            rows = cur.execute(self._sql + " ORDER BY originator_version", (self._id(aggregate_id),)).fetchall()
        versions = [r["originator_version"] for r in rows if r["notification_id"] <= position]
        return max(versions, default=0)


SQLITE_KEYS_AT_ONCE = 30_000  # below SQLite's default limit of host parameters (32,766)


class WindowKeys:
    """The keys of a window's sealed fields in one query (infrastructure/sealing.py: KeyReader), not
    one per 500 subjects: a window of the log holds tens of thousands of messages, each its own
    subject."""

    def __init__(self, recorder: SQLiteApplicationRecorder | PostgresApplicationRecorder) -> None:
        self.recorder = recorder

    def get_many(self, subjects: Iterable[bytes]) -> dict[bytes, bytes]:
        wanted = list(subjects)
        if not wanted:
            return {}
        recorder = self.recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            statement = "SELECT subject, key FROM subject_keys WHERE subject = ANY(%s)"  # as subject_keys.py
            with recorder.datastore.get_connection() as connection, connection.cursor(row_factory=tuple_row) as cur:
                cur.execute(statement, [wanted])
                return {bytes(s): bytes(k) for s, k in cur.fetchall()}
        found: dict[bytes, bytes] = {}
        with recorder.datastore.transaction(commit=False) as cursor:
            for i in range(0, len(wanted), SQLITE_KEYS_AT_ONCE):
                part = wanted[i : i + SQLITE_KEYS_AT_ONCE]
                cursor.execute(
                    f"SELECT subject, key FROM subject_keys WHERE subject IN ({', '.join('?' * len(part))})", part
                )
                found.update((bytes(row[0]), bytes(row[1])) for row in cursor.fetchall())
        return found
