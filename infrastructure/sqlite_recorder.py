"""The library's SQLite recorder, with the read side's window of the log as plain rows."""

from collections.abc import Sequence

from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteFactory

from infrastructure.event_log import sqlite_window
from projections.ports import StoredRow


class WindowedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    def select_window(self, start: int, stop: int, topics: Sequence[str]) -> list[StoredRow]:
        """The read side's port (projections/ports.py: WindowedRecorder)."""
        return sqlite_window(self, start, stop, topics)


class ParleySQLiteFactory(SQLiteFactory):
    """`PERSISTENCE_MODULE` for SQLite: the library's factory with the recorder above."""

    application_recorder_class = WindowedSQLiteApplicationRecorder
