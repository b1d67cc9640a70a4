"""The contract's shapes (section 3 of the wire contract), each declared once, and the one function
that builds each from read-model rows.

Each shape is a TypedDict that pydantic understands: the HTTP and socket documents
(`/api/openapi.json`, `/api/asyncapi.json`), the web client's TypeScript types and the tests'
contract checks are all generated from these declarations (interfaces/contract.py), while the hot
path builds plain dicts (a pydantic model's construction and dump cost about 9 us per Message against
0.8 us for the dict, several times per send). mypy checks every builder against its shape.

Fields of contract v2 for later issues (attachments) are sent with the values that hold until then.
"""

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, ConfigDict, Strict, WithJsonSchema, with_config
from typing_extensions import TypedDict  # pydantic needs this one below Python 3.12

Row = dict[str, Any]
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$")


def _uuid(value: str) -> str:
    if str(UUID(value)) != value:
        raise ValueError("a UUID in its canonical lower-case form")
    return value


def _utc(value: str) -> str:
    if not ISO_UTC.match(value):
        raise ValueError("an ISO 8601 timestamp in UTC (Z or +00:00)")
    return value


# Validated (by the tests and the documents; the hot path builds them without validating).
Timestamp = Annotated[str, AfterValidator(_utc), WithJsonSchema({"type": "string", "format": "date-time"})]
Uuid = Annotated[str, AfterValidator(_uuid), WithJsonSchema({"type": "string", "format": "uuid"})]
MessageStatus = Literal["sent", "delivered", "read"]
Role = Literal["owner", "admin", "member"]
Span = Annotated[tuple[int, int], Strict(False)]  # [start, end): a JSON array of two (a list, not a tuple)

STRICT = ConfigDict(extra="forbid", strict=True)


@with_config(STRICT)
class User(TypedDict):
    id: Uuid
    username: str | None
    display_name: str
    created_at: Timestamp
    deleted: bool


@with_config(STRICT)
class Connection(TypedDict):
    id: Uuid
    requester: User
    addressee: User
    status: Literal["pending", "connected", "declined", "removed"]
    created_at: Timestamp
    updated_at: Timestamp


@with_config(STRICT)
class Quote(TypedDict):
    id: Uuid
    seq: int
    sender_id: Uuid
    body: str
    deleted: bool


@with_config(STRICT)
class Reaction(TypedDict):
    emoji: str
    user_ids: list[Uuid]


@with_config(STRICT)
class SystemChange(TypedDict):
    type: Literal["member_added", "member_removed", "member_left", "renamed", "role_changed"]
    actor_id: Uuid
    user_ids: list[Uuid]
    title: str | None
    role: Role | None


@with_config(STRICT)
class Attachment(TypedDict):
    id: Uuid
    filename: str
    content_type: str
    size: int
    sha256: str
    width: int | None
    height: int | None
    url: str
    thumbnail_url: str | None


@with_config(STRICT)
class Message(TypedDict):
    id: Uuid
    conversation_id: Uuid
    seq: int
    sender_id: Uuid
    kind: Literal["text", "system"]
    body: str
    client_message_id: Uuid
    sent_at: Timestamp
    edited_at: Timestamp | None
    deleted: bool
    reply_to: Quote | None
    mentions: list[Uuid]
    reactions: list[Reaction]
    attachments: list[Attachment]
    system: SystemChange | None
    status: MessageStatus


@with_config(STRICT)
class Member(TypedDict):
    user: User
    role: Role
    last_delivered_seq: int
    last_read_seq: int
    online: bool


@with_config(STRICT)
class ConversationSummary(TypedDict):
    id: Uuid
    kind: Literal["direct", "group"]
    title: str | None
    members: list[Member]
    former_members: list[User]
    role: Role | None
    left: bool
    muted_until: Timestamp | None
    last_message: Message | None
    last_message_at: Timestamp | None
    unread_count: int
    mention_count: int
    created_at: Timestamp


@with_config(STRICT)
class MessageVersion(TypedDict):
    """One version of a message's text (`get_message_edits`): the original first, `at` = its `sent_at`."""

    body: str
    at: Timestamp


@with_config(STRICT)
class SearchResult(TypedDict):
    message: Message
    conversation_id: Uuid
    highlights: list[Span]  # [start, end) code-point offsets into message.body


# -- the payloads of the server events the read side emits --------------------------------------------
@with_config(STRICT)
class Presence(TypedDict):
    user_id: Uuid
    status: Literal["online", "offline"]
    last_seen_at: Timestamp


@with_config(STRICT)
class MessagesDelivered(TypedDict):
    conversation_id: Uuid
    user_id: Uuid
    up_to_seq: int
    delivered_at: Timestamp


@with_config(STRICT)
class MessagesRead(TypedDict):
    conversation_id: Uuid
    user_id: Uuid
    up_to_seq: int
    read_at: Timestamp


@with_config(STRICT)
class ReactionsUpdated(TypedDict):
    conversation_id: Uuid
    message_id: Uuid
    reactions: list[Reaction]


SHAPES: tuple[type, ...] = (
    User,
    Connection,
    Quote,
    Reaction,
    SystemChange,
    Attachment,
    Message,
    MessageVersion,
    Member,
    ConversationSummary,
    SearchResult,
    Presence,
    MessagesDelivered,
    MessagesRead,
    ReactionsUpdated,
)


def iso(moment: datetime) -> Timestamp:
    """Fixed-width ISO 8601 in UTC: sorts as text the same as in time."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# -- the one builder of each shape ------------------------------------------------------------------
def user(row: Row, prefix: str = "") -> User:
    return {
        "id": row[f"{prefix}id"],
        "username": row[f"{prefix}username"],
        "display_name": row[f"{prefix}display_name"],
        "created_at": row[f"{prefix}created_at"],
        "deleted": bool(row[f"{prefix}deleted"]),
    }


def connection(row: Row) -> Connection:
    return {
        "id": row["id"],
        "requester": user(row, "requester_"),
        "addressee": user(row, "addressee_"),
        "status": row["status"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


QUOTE_CHARS = 200  # a Quote shows the first 200 code points of the quoted message's body


def message(
    row: Row,
    status: MessageStatus,
    quote: "Quote | None" = None,
    reactions: "list[Reaction] | None" = None,
    attachments: "list[Attachment] | None" = None,
) -> Message:
    """From a `messages` row (or anything with its columns: id, conversation_id, seq, sender_id, body,
    client_message_id, sent_at, and optionally mentions (ids, space-separated), edited_at, deleted, kind,
    system (JSON)), the Quote of the message it replies to, and its reactions. A deleted one is a tombstone."""
    if row.get("kind") == "system":
        return system_message(row, json.loads(row["system"]), status)
    if row.get("deleted"):
        return {
            "id": row["id"],
            "conversation_id": row["conversation_id"],
            "seq": row["seq"],
            "sender_id": row["sender_id"],
            "kind": "text",
            "body": "",
            "client_message_id": row["client_message_id"],
            "sent_at": row["sent_at"],
            "edited_at": None,
            "deleted": True,
            "reply_to": None,
            "mentions": [],
            "reactions": [],
            "attachments": [],
            "system": None,
            "status": status,
        }
    mentions = row.get("mentions")
    return {
        "id": row["id"],
        "conversation_id": row["conversation_id"],
        "seq": row["seq"],
        "sender_id": row["sender_id"],
        "kind": "text",
        "body": row["body"],
        "client_message_id": row["client_message_id"],
        "sent_at": row["sent_at"],
        "edited_at": row.get("edited_at"),
        "deleted": False,
        "reply_to": quote,
        "mentions": mentions.split(" ") if mentions else [],
        "reactions": reactions or [],
        "attachments": attachments or [],
        "system": None,
        "status": status,
    }


def system_change(kind: Any, actor_id: str, user_ids: list[str], title: str | None, role: Any) -> SystemChange:
    return {"type": kind, "actor_id": actor_id, "user_ids": user_ids, "title": title, "role": role}


def system_message(row: Row, system: SystemChange, status: MessageStatus = "sent") -> Message:
    """A system message: body "", sent by its actor, its own id as client_message_id."""
    return {
        "id": row["id"],
        "conversation_id": row["conversation_id"],
        "seq": row["seq"],
        "sender_id": row["sender_id"],
        "kind": "system",
        "body": "",
        "client_message_id": row["id"],
        "sent_at": row["sent_at"],
        "edited_at": None,
        "deleted": False,
        "reply_to": None,
        "mentions": [],
        "reactions": [],
        "attachments": [],
        "system": system,
        "status": status,
    }


def attachment(row: Row, url: str, thumbnail_url: str | None) -> Attachment:
    """From an `attachments` row and its signed paths."""
    return {
        "id": row["id"],
        "filename": row["filename"],
        "content_type": row["content_type"],
        "size": row["size"],
        "sha256": row["sha256"],
        "width": row["width"],
        "height": row["height"],
        "url": url,
        "thumbnail_url": thumbnail_url,
    }


def quote(row: Row) -> Quote:
    """A quoted message as it is now: the start of its body, or "" once deleted."""
    deleted = bool(row["deleted"])
    return {
        "id": row["id"],
        "seq": row["seq"],
        "sender_id": row["sender_id"],
        "body": "" if deleted else row["body"][:QUOTE_CHARS],
        "deleted": deleted,
    }


def reaction(emoji: str, user_ids: list[str]) -> Reaction:
    return {"emoji": emoji, "user_ids": user_ids}


def reactions_updated(conversation_id: str, message_id: str, reactions: list[Reaction]) -> ReactionsUpdated:
    return {"conversation_id": conversation_id, "message_id": message_id, "reactions": reactions}


def message_version(body: str, at: Timestamp) -> MessageVersion:
    return {"body": body, "at": at}


def message_status(sender_id: str, seq: int, members: list[Row]) -> MessageStatus:
    """For the sender's eyes: read once every other member read it, delivered once every other got it."""
    others = [
        m
        for m in members
        if m["user_id"] != sender_id
        and m.get("from_seq", 1) <= seq
        and (m.get("visible_to") is None or seq <= m["visible_to"])
    ]
    if all(m["last_read_seq"] >= seq for m in others):
        return "read"
    if all(m["last_delivered_seq"] >= seq for m in others):
        return "delivered"
    return "sent"


def member(row: Row, online: bool) -> Member:
    return {
        "user": user(row, "user_"),
        "role": row["role"],
        "last_delivered_seq": row["last_delivered_seq"],
        "last_read_seq": row["last_read_seq"],
        "online": online,
    }


def summary(
    conversation: Row,
    members: list[Member],
    last_message: Message | None,
    unread_count: int,
    mention_count: int = 0,
    *,
    role: Role | None = None,
    former_members: list[User] | None = None,
    left: bool = False,
    muted_until: Timestamp | None = None,
) -> ConversationSummary:
    """A conversation as one member (or former member: `left`) sees it (`unread_count` is theirs)."""
    return {
        "id": conversation["id"],
        "kind": conversation["kind"],
        "title": conversation["title"],
        "members": members,
        "former_members": former_members or [],
        "role": None if left else role,
        "left": left,
        "muted_until": muted_until,
        "last_message": last_message,
        "last_message_at": conversation["last_message_at"],
        "unread_count": unread_count,
        "mention_count": mention_count,
        "created_at": conversation["created_at"],
    }


def presence(user_id: Any, status: Literal["online", "offline"], at: Timestamp) -> Presence:
    return {"user_id": str(user_id), "status": status, "last_seen_at": at}


def messages_delivered(conversation_id: str, user_id: str, up_to_seq: int, at: Timestamp) -> MessagesDelivered:
    return {"conversation_id": conversation_id, "user_id": user_id, "up_to_seq": up_to_seq, "delivered_at": at}


def messages_read(conversation_id: str, user_id: str, up_to_seq: int, at: Timestamp) -> MessagesRead:
    return {"conversation_id": conversation_id, "user_id": user_id, "up_to_seq": up_to_seq, "read_at": at}
