"""The library's SQLite recorder, with the read side's window of the log as plain rows, and the keys
of sealed personal data written in the events' own transaction (infrastructure/sealing.py)."""

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import EventStore, Mapper, StoredEvent, Transcoder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteFactory

from infrastructure.event_log import sqlite_window
from infrastructure.projection_in_save import AppliesInSave, applying_in_save
from infrastructure.sealing import INSERT_KEYS_SQLITE, SealedEventStore, SealingMapper, new_keys_of
from infrastructure.sql import SQLITE_WRITER_CACHE_KIB, SqlCursor
from infrastructure.subject_keys import SubjectKeys
from projections.ports import StoredRow


class WindowedSQLiteApplicationRecorder(AppliesInSave, SQLiteApplicationRecorder):
    insert_events = applying_in_save(SQLiteApplicationRecorder.insert_events)

    def select_window(self, start: int, stop: int, topics: Sequence[str]) -> list[StoredRow]:
        """The read side's port (projections/ports.py: WindowedRecorder)."""
        return sqlite_window(self, start, stop, topics)

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        """The keys of sealed fields, in the events' transaction, after the events (a conflicting event
        fails the save first, as it always did): infrastructure/sealing.py."""
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        keys = new_keys_of(stored_events)
        if keys:
            c.executemany(INSERT_KEYS_SQLITE, keys)
        if self.projection_in_save is not None and notification_ids:
            # then the read models, where this process applies its saves' events (projections/in_save.py),
            # written as the projector's connections write them (infrastructure/sql.py)
            c.execute(f"PRAGMA cache_size = -{SQLITE_WRITER_CACHE_KIB}")
            c.execute("PRAGMA secure_delete = ON")
            self.apply_in_save(SqlCursor(c.sqlite_cursor, "sqlite"), stored_events, notification_ids, kwargs)
        return notification_ids


class ParleySQLiteFactory(SQLiteFactory):
    """`PERSISTENCE_MODULE` for SQLite: the library's factory with the recorder above."""

    application_recorder_class = WindowedSQLiteApplicationRecorder

    def mapper(self, transcoder: Transcoder | None = None, mapper_class: Any = None) -> Mapper[Any]:
        return sealing_mapper(self, super().mapper(transcoder, mapper_class or SealingMapper))

    def event_store(self, mapper: Mapper[Any] | None = None, recorder: Any = None) -> EventStore[Any]:
        return sealed_event_store(self, mapper, recorder)


def sealing_mapper(factory: Any, mapper: Mapper[Any]) -> Mapper[Any]:
    """The mapper, with the keys of the factory's own database (their table made if missing)."""
    if isinstance(mapper, SealingMapper):
        keys = SubjectKeys(factory.datastore)
        if factory.env.get("CREATE_TABLE", "y").lower() in ("y", "yes", "t", "true", "on", "1"):
            keys.setup()
        mapper.keys = keys
    return mapper


def sealed_event_store(factory: Any, mapper: Mapper[Any] | None, recorder: Any) -> EventStore[Any]:
    """Application events through SealedEventStore (a save's keys together, reads preloaded); snapshots
    (which hold no personal field) through the library's store."""
    mapper = mapper or factory.mapper()
    recorder = recorder or factory.application_recorder()
    if isinstance(mapper, SealingMapper):
        return SealedEventStore(mapper=mapper, recorder=recorder)
    return EventStore(mapper=mapper, recorder=recorder)
