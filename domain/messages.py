"""Message bodies and message identity: normalisation, and the key that makes sends idempotent."""

import unicodedata
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput

KEPT_CONTROL_CHARACTERS = frozenset("\n\t")


def check_text(raw: str) -> str:
    """Text must be encodable Unicode: lone surrogates (from a client's broken UTF-16) are refused."""
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("The text is not valid Unicode (it holds a lone surrogate).") from None
    return raw


def normalize_body(raw: str, max_chars: int, allow_empty: bool = False) -> str:
    """NFC, control characters (Cc) other than newline and tab removed, surrounding whitespace trimmed.
    `allow_empty`: a message with attachments needs no text."""
    text = unicodedata.normalize("NFC", check_text(raw))
    text = "".join(c for c in text if c in KEPT_CONTROL_CHARACTERS or unicodedata.category(c) != "Cc")
    text = text.strip()
    if not text and not allow_empty:
        raise InvalidInput("A message body cannot be empty.")
    if len(text) > max_chars:
        raise InvalidInput(f"A message body is at most {max_chars} characters.")
    return text


def message_id_for(sender_id: UUID, client_message_id: UUID) -> UUID:
    """A message's id derives from its sender and their client_message_id: a retry names the same message."""
    return uuid5(NAMESPACE_URL, f"/parley/messages/{sender_id}/{client_message_id}")


class ClientMessageKey(Aggregate):
    """Index aggregate whose id is the message id: a second send of one client_message_id conflicts."""

    class ClientMessageKeyClaimed(Aggregate.Created):
        sender_id: UUID
        client_message_id: UUID
        conversation_id: UUID
        seq: int

    @staticmethod
    def create_id(sender_id: UUID, client_message_id: UUID) -> UUID:
        return message_id_for(sender_id, client_message_id)

    @event(ClientMessageKeyClaimed)
    def __init__(self, sender_id: UUID, client_message_id: UUID, conversation_id: UUID, seq: int) -> None:
        self.sender_id = sender_id
        self.conversation_id = conversation_id
        self.seq = seq
