"""People: the User aggregate and the Username index that keeps usernames unique."""

import re
import unicodedata
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput, UsernameTaken
from domain.messages import check_text

DELETED_NAME = "Deleted user"  # how an erased account appears everywhere (contract section 11)
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
        # Names and hashes read back as None once erased (domain/personal_data.py: their keys destroyed).
        self.username: str | None = username
        self.display_name: str | None = display_name
        self.password_hash: str | None = password_hash
        self.credential_version = 1  # the version of the event that set the password hash in use
        self.erased = False

    class PasswordChanged(Aggregate.Event):
        password_hash: str

    @event(PasswordChanged)
    def change_password(self, password_hash: str) -> None:
        self.password_hash = password_hash
        self.credential_version = self.version + 1  # (the body runs before the version moves on)

    class UserErased(Aggregate.Event):
        """The account is erased (contract section 11): its names and every password hash become
        unreadable in the log (their keys are destroyed once the read models have dropped them)."""

    def erase(self) -> bool:
        """False (nothing written) when already erased."""
        if self.erased:
            return False
        self._erase()
        return True

    @event(UserErased)
    def _erase(self) -> None:
        self.erased = True
        self.username = None
        self.display_name = DELETED_NAME
        self.password_hash = None


class Username(Aggregate):
    """Index aggregate: its id derives from the username, so a second claim conflicts in the store.
    An erased account releases its username, which a new account may then claim again."""

    class UsernameClaimed(Aggregate.Created):
        username: str
        user_id: UUID

    @staticmethod
    def create_id(username: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/parley/usernames/{username.casefold()}")

    @event(UsernameClaimed)
    def __init__(self, username: str, user_id: UUID) -> None:
        self.user_id: UUID | None = user_id

    class UsernameReleased(Aggregate.Event):
        """The account that held the name was erased: the name is free to claim again."""

    def release(self) -> None:
        if self.user_id is not None:
            self._release()

    @event(UsernameReleased)
    def _release(self) -> None:
        self.user_id = None

    class UsernameClaimedAgain(Aggregate.Event):
        username: str
        user_id: UUID

    def claim_again(self, username: str, user_id: UUID) -> None:
        if self.user_id is not None:
            raise UsernameTaken(f"The username {username!r} is taken.")
        self._claim_again(username, user_id)

    @event(UsernameClaimedAgain)
    def _claim_again(self, username: str, user_id: UUID) -> None:
        self.user_id = user_id
