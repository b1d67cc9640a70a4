"""The library's SQLite recorder, with the read side's window of the log as plain rows, and the keys
of sealed personal data written in the events' own transaction (infrastructure/sealing.py)."""

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import EventStore, Mapper, StoredEvent, Transcoder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteFactory

from infrastructure.event_log import sqlite_window
from infrastructure.sealing import INSERT_KEYS_SQLITE, SealedEventStore, SealingMapper, new_keys_of
from infrastructure.subject_keys import SubjectKeys
from projections.ports import StoredRow


class WindowedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    def select_window(self, start: int, stop: int, topics: Sequence[str]) -> list[StoredRow]:
        """The read side's port (projections/ports.py: WindowedRecorder)."""
        return sqlite_window(self, start, stop, topics)

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        keys = new_keys_of(stored_events)
        if keys:
            c.executemany(INSERT_KEYS_SQLITE, keys)
        return super()._insert_events(c, stored_events, **kwargs)


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
