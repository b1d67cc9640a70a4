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
    reply_to: UUID | None = None
    mentions: tuple[UUID, ...] = ()
    attachment_ids: tuple[UUID, ...] = ()

    @property
    def is_retry(self) -> bool:
        return self.sent_at is None


@dataclass(frozen=True)
class MessageChanged:
    """An edit, deletion or reaction: `changed` False when it wrote nothing (already so)."""

    conversation_id: UUID
    message_id: UUID
    changed: bool
    position: int | None
    reactions: tuple[tuple[str, tuple[str, ...]], ...] = ()  # after a reaction: (emoji, user ids), in order


@dataclass(frozen=True)
class UploadRecorded:
    """A stored upload's metadata, as its `UploadStored` event holds it."""

    id: UUID
    uploader_id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    width: int | None
    height: int | None
    thumbnail_sha256: str | None
    created_at: datetime
    position: int | None
