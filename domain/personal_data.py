"""Personal data in the log: which event fields hold it, and whose it is (the field's *subject*).

The event store seals each of these fields under a key of its subject's own, kept outside the log
(infrastructure/sealing.py). Destroying a subject's key makes every copy of its fields in the log
unreadable while no stored event changes ("crypto-shredding", contract section 11): a message is its
own subject (deleting it for everyone destroys its key: its text and every edit version), a user's
names are the user's, each password hash is a credential of its own (a password change destroys the
one before), an upload's name and content digests are the upload's. Reading a field whose key is gone
gives None: the tombstone every reader of the log (projections, time travel, exports) shows.

What no field here holds stays plain: ids, times, counts, emoji, roles, group titles."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from domain.conversations import Conversation
from domain.uploads import Upload
from domain.users import User, Username


def credential_subject(user_id: UUID, version: int) -> UUID:
    """The subject of the password hash set by the user's event of this version (1: registration)."""
    return uuid5(user_id, f"credential/{version}")


def credentials_before(user_id: UUID, version: int) -> list[UUID]:
    """Every credential a user may have had before their event of `version`."""
    return [credential_subject(user_id, v) for v in range(1, version)]


@dataclass(frozen=True)
class PersonalField:
    name: str
    subject: Callable[[Any], UUID]
    new_subject: bool  # the event starts the subject: its key is made, not looked up
    whose: str  # the subject, in words (docs/events.md)


def _own(event: Any) -> UUID:
    return UUID(str(event.originator_id))


def _message(event: Any) -> UUID:
    return UUID(str(event.message_id))


def _claimant(event: Any) -> UUID:
    return UUID(str(event.user_id))


def _credential(event: Any) -> UUID:
    return credential_subject(_own(event), event.originator_version)


PERSONAL_FIELDS: dict[type, tuple[PersonalField, ...]] = {
    User.UserRegistered: (
        PersonalField("username", _own, True, "the user"),
        PersonalField("display_name", _own, True, "the user"),
        PersonalField("password_hash", _credential, True, "this credential"),
    ),
    User.PasswordChanged: (PersonalField("password_hash", _credential, True, "this credential"),),
    # saved with the claimant's UserRegistered: its key is the one made for that event
    Username.UsernameClaimed: (PersonalField("username", _claimant, False, "the user `user_id`"),),
    Username.UsernameClaimedAgain: (PersonalField("username", _claimant, False, "the user `user_id`"),),
    Conversation.MessageSent: (PersonalField("body", _message, True, "the message"),),
    Conversation.MessageEdited: (PersonalField("body", _message, False, "the message"),),
    Upload.UploadStored: (
        PersonalField("filename", _own, True, "the upload"),
        PersonalField("sha256", _own, True, "the upload"),
        PersonalField("thumbnail_sha256", _own, True, "the upload"),
    ),
}
