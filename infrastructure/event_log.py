"""Where each event of an aggregate sits in the log (its notification id), read from the event table.

The library's event store returns an aggregate's events without their log positions; time travel to
a position needs them. One query per engine, on the library's own tables.
"""

from uuid import UUID

from infrastructure.sql import SqlDatabase


class EventPositions:
    def __init__(self, db: SqlDatabase, events_table: str) -> None:
        self.db = db
        if db.engine == "postgres":
            self._sql = f"SELECT originator_version, notification_id FROM {events_table} WHERE originator_id = ?"
            self._id = str
        else:  # the SQLite recorder keeps UUIDs as hex and numbers notifications by rowid
            self._sql = f"SELECT originator_version, rowid AS notification_id FROM {events_table} WHERE originator_id = ?"
            self._id = lambda value: UUID(str(value)).hex

    def version_at(self, aggregate_id: UUID, position: int) -> int:
        """The aggregate's version once the log had reached `position` (0: it did not exist yet)."""
        with self.db.transaction(commit=False) as cur:
            rows = cur.execute(self._sql + " ORDER BY originator_version", (self._id(aggregate_id),)).fetchall()
        versions = [r["originator_version"] for r in rows if r["notification_id"] <= position]
        return max(versions, default=0)
