"""People: the User aggregate and the Username index that keeps usernames unique."""

import re
import unicodedata
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput
from domain.messages import check_text

USERNAME_PATTERN = re.compile(r"[a-z0-9_.\-]{3,32}")
DISPLAY_NAME_MAX_CHARS = 64


def normalize_username(raw: str) -> str:
    """Usernames are 3-32 of `a-z 0-9 _ . -`, compared case-insensitively, stored lower-case."""
    username = raw.strip().lower()
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidInput("A username is 3 to 32 characters of a-z, 0-9, '_', '.' and '-'.")
    return username


def normalize_display_name(raw: str | None, username: str) -> str:
    if raw is None:
        return username
    name = "".join(c for c in unicodedata.normalize("NFC", check_text(raw)) if unicodedata.category(c) != "Cc")
    name = " ".join(name.split())
    if not name:
        return username
    if len(name) > DISPLAY_NAME_MAX_CHARS:
        raise InvalidInput(f"A display name is at most {DISPLAY_NAME_MAX_CHARS} characters.")
    return name


class User(Aggregate):
    class UserRegistered(Aggregate.Created):
        username: str
        display_name: str
        password_hash: str

    @event(UserRegistered)
    def __init__(self, username: str, display_name: str, password_hash: str) -> None:
        self.username = username
        self.display_name = display_name
        self.password_hash = password_hash

    class PasswordChanged(Aggregate.Event):
        password_hash: str

    @event(PasswordChanged)
    def change_password(self, password_hash: str) -> None:
        self.password_hash = password_hash


class Username(Aggregate):
    """Index aggregate: its id derives from the username, so a second claim conflicts in the store."""

    class UsernameClaimed(Aggregate.Created):
        username: str
        user_id: UUID

    @staticmethod
    def create_id(username: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/parley/usernames/{username.casefold()}")

    @event(UsernameClaimed)
    def __init__(self, username: str, user_id: UUID) -> None:
        self.username = username
        self.user_id = user_id
