"""What the application needs from the outside, as protocols; infrastructure/ provides them."""

from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str | None, password: str) -> bool: ...


class Presence(Protocol):
    def online(self, user_ids: list[UUID]) -> set[UUID]: ...


class MessageTexts(Protocol):
    """A message's text as the read models hold it now (None: not there). An edit that would not change
    it writes nothing; the sender's own earlier edits are reflected (each was acknowledged once the
    read models reached it), so the aggregate need not keep any text."""

    def current_body(self, message_id: UUID) -> str | None: ...


@dataclass(frozen=True)
class Holdings:
    """What an account holds, as the read models say (the aggregates keep no senders): for an erasure."""

    messages: dict[UUID, list[UUID]] = field(default_factory=dict)  # conversation -> its messages not deleted
    conversations: list[UUID] = field(default_factory=list)  # member of (now), sent or reacted in
    connections: list[UUID] = field(default_factory=list)  # pending or connected
    blocked: list[UUID] = field(default_factory=list)  # users it blocks
    blobs: list[str] = field(default_factory=list)  # digests of its uploads' bytes and thumbnails


class AccountHoldings(Protocol):
    def holdings(self, user_id: UUID, position: int | None) -> Holdings:
        """Once the read models reflect `position` (the log's head when the erasure began)."""
        ...


class BlobWriter(Protocol):
    """A blob being written: bytes go aside as they come; `commit` files them under their SHA-256."""

    def write(self, chunk: bytes) -> None: ...

    @property
    def size(self) -> int: ...

    def head(self) -> bytes:
        """The first bytes written (up to 64 KiB), to sniff the content type from."""
        ...

    def commit(self) -> str:
        """Durably file the bytes under their SHA-256 (lower-case hex), which it returns."""
        ...

    def abort(self) -> None: ...


class BlobStore(Protocol):
    """Attachment bytes, content-addressed (the key is the SHA-256 of the bytes). Blocking calls: the
    event loop calls them in a worker thread."""

    def writer(self) -> BlobWriter: ...

    def put(self, data: bytes) -> str:
        """Store small bytes whole (a thumbnail); their SHA-256."""
        ...

    def read(self, sha256: str) -> bytes | None:
        """The whole blob (for an image's inspection), or None when it is not there."""
        ...

    def chunks(self, sha256: str, chunk_size: int = 65536) -> "BlobReader | None": ...

    def remove(self, sha256: str) -> None:
        """Remove the bytes (no error when they are not there)."""
        ...

    def digests(self, older_than: float = 0.0) -> list[str]:
        """Every stored blob written at least `older_than` seconds ago (for the sweep)."""
        ...


class BlobReader(Protocol):
    size: int

    def read_chunk(self) -> bytes:
        """The next chunk, b"" at the end."""
        ...

    def close(self) -> None: ...
