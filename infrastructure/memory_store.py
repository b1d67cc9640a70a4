"""The in-memory (POPO) event store of fast unit tests, sealing like the real ones: a save's keys are
kept only once its events are (as the SQL recorders write them in the events' transaction)."""

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, EventStore, Mapper, StoredEvent, Transcoder
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory

from infrastructure.sealing import MemoryKeys, SealedEventStore, SealingMapper, new_keys_of


class SealingPOPOApplicationRecorder(POPOApplicationRecorder):
    keys: MemoryKeys | None = None

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        notification_ids = super().insert_events(stored_events, **kwargs)  # raises on a conflict
        if self.keys is not None:
            self.keys.add(new_keys_of(stored_events))
        return notification_ids


class SealingPOPOFactory(POPOFactory):
    """`PERSISTENCE_MODULE` of the in-memory store (infrastructure/event_store.py: memory_env)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys = MemoryKeys()

    def mapper(self, transcoder: Transcoder | None = None, mapper_class: Any = None) -> Mapper[Any]:
        mapper = super().mapper(transcoder, mapper_class or SealingMapper)
        if isinstance(mapper, SealingMapper):
            mapper.keys = self.keys
        return mapper

    def application_recorder(self) -> ApplicationRecorder:
        recorder = SealingPOPOApplicationRecorder()
        recorder.keys = self.keys
        return recorder

    def event_store(self, mapper: Mapper[Any] | None = None, recorder: Any = None) -> EventStore[Any]:
        mapper = mapper or self.mapper()
        recorder = recorder or self.application_recorder()
        if isinstance(mapper, SealingMapper):
            return SealedEventStore(mapper=mapper, recorder=recorder)
        return EventStore(mapper=mapper, recorder=recorder)
