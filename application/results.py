"""What a command reports back: which aggregate it touched, and the log position to wait for."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class Recorded:
    id: UUID
    position: int | None  # the notification id of the last event written, or None when nothing changed


@dataclass(frozen=True)
class MessageRecorded:
    message_id: UUID
    conversation_id: UUID
    seq: int
    sender_id: UUID
    body: str
    client_message_id: UUID
    sent_at: datetime | None  # None when this was a retry of an earlier send (read the original)
    position: int | None

    @property
    def is_retry(self) -> bool:
        return self.sent_at is None
