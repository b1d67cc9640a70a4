"""What the application needs from the outside, as protocols; infrastructure/ provides them."""

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
