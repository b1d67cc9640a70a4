"""What the application needs from the outside, as protocols; infrastructure/ provides them."""

from typing import Protocol
from uuid import UUID


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str | None, password: str) -> bool: ...


class Presence(Protocol):
    def online(self, user_ids: list[UUID]) -> set[UUID]: ...
