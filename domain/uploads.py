"""Uploads: a file someone stored, attached to at most one message of theirs within a day.

The events hold metadata only (name, sniffed type, size, digest, image dimensions), never bytes: the
bytes live in a blob store, addressed by their SHA-256. The upload's own stream makes "attached
once" the store's business: two sends attaching one upload both write its next version, and the
second conflicts."""

from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError
from domain.messages import normalize_body

UNATTACHED_LIFETIME = timedelta(hours=24)  # an upload not attached by then is swept, bytes and all
MAX_ATTACHMENTS = 10
FILENAME_MAX_CHARS = 255


class UploadNotFound(DomainError):
    """No upload with this id that the caller may attach (not theirs, attached already, or too old)."""


class Upload(Aggregate):
    class UploadStored(Aggregate.Created):
        uploader_id: UUID
        filename: str
        content_type: str
        size: int
        sha256: str
        width: int | None
        height: int | None
        thumbnail_sha256: str | None

    class UploadAttached(Aggregate.Event):
        conversation_id: UUID
        message_id: UUID
        position: int  # its place among the message's attachments (0-based)

    @event(UploadStored)
    def __init__(
        self,
        uploader_id: UUID,
        filename: str,
        content_type: str,
        size: int,
        sha256: str,
        width: int | None,
        height: int | None,
        thumbnail_sha256: str | None,
    ) -> None:
        self.uploader_id = uploader_id
        self.sha256 = sha256
        self.thumbnail_sha256 = thumbnail_sha256
        self.message_id: UUID | None = None

    def check_attachable(self, user_id: UUID, now: datetime) -> None:
        """The caller's own upload, not attached yet, younger than a day."""
        if self.uploader_id != user_id or self.message_id is not None:
            raise UploadNotFound(f"No upload {self.id} of yours is waiting to be attached.")
        if now - self.created_on >= UNATTACHED_LIFETIME:
            raise UploadNotFound(f"The upload {self.id} is older than 24 hours; upload it again.")

    def attach(self, conversation_id: UUID, message_id: UUID, position: int) -> None:
        self._attach(conversation_id, message_id, position)

    @event(UploadAttached)
    def _attach(self, conversation_id: UUID, message_id: UUID, position: int) -> None:
        self.message_id = message_id


def normalize_filename(raw: str) -> str:
    """The client's name less any path (either slash), normalised like a body (NFC, control characters
    removed, trimmed), at most 255 code points (longer names keep their start); "file" when nothing is left."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = normalize_body(name, 1 << 30, allow_empty=True)
    return name[:FILENAME_MAX_CHARS].strip() or "file"
