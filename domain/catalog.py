"""The catalog of domain events: every event class with its meaning, rendered as docs/events.md.

Regenerate the page after changing an event: `python -m domain.catalog > docs/events.md`.
tests/unit/test_event_catalog.py fails while the page and the code disagree, or when an event class
of an aggregate is missing here.
"""

import dataclasses
import sys
import types
import typing
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate

from domain.blocks import Block
from domain.connections import Connection
from domain.conversations import Conversation
from domain.messages import ClientMessageKey
from domain.personal_data import PERSONAL_FIELDS
from domain.uploads import Upload
from domain.users import User, Username

COMMAND = "python -m domain.catalog > docs/events.md"


@dataclass(frozen=True)
class AggregateEntry:
    aggregate: type[Aggregate]
    id_rule: str
    events: dict[type[Aggregate.Event], str]  # event class -> its meaning, in stream order


CATALOG = (
    AggregateEntry(
        User,
        "`uuid4`, drawn at registration.",
        {
            User.UserRegistered: "A person opened an account: the lower-cased username, the cleaned display "
            "name and the password hash (never the password).",
            User.PasswordChanged: "The user changed their password (knowing the current one): the new password's "
            "hash, which replaces the earlier one for signing in (whose key is then destroyed).",
            User.UserErased: "The account was erased (`DELETE /api/users/me` or `parley users erase`), after its "
            "part of every conversation, its connections and blocks were ended by their own events: from here "
            "on it shows as `Deleted user`; the keys of its names and of every password hash are destroyed.",
        },
    ),
    AggregateEntry(
        Username,
        "`uuid5` of the case-folded username: a second claim of a name has the same id and conflicts in the store.",
        {
            Username.UsernameClaimed: "The username now belongs to `user_id`; saved in one transaction with "
            "that user's `UserRegistered`.",
            Username.UsernameReleased: "The account holding the username was erased: the name is free again.",
            Username.UsernameClaimedAgain: "A new account (`user_id`) claimed a released username; saved with "
            "its `UserRegistered`.",
        },
    ),
    AggregateEntry(
        Connection,
        "`uuid5` of the unordered pair of user ids: one stream per pair, reused by a request after a decline "
        "or removal.",
        {
            Connection.ConnectionRequested: "The pair's first request: `requester_id` asked `addressee_id` to "
            "connect; the connection is pending.",
            Connection.ConnectionRequestedAgain: "A new request after a decline or removal (either party may "
            "ask); pending again.",
            Connection.ConnectionAccepted: "The addressee accepted the pending request; the pair is connected.",
            Connection.ConnectionDeclined: "The addressee declined the pending request.",
            Connection.ConnectionRemoved: "`removed_by`, either party, ended a pending or connected relationship.",
        },
    ),
    AggregateEntry(
        Block,
        "`uuid5` of the ordered pair (blocker, blocked): blocking again finds the same stream.",
        {
            Block.UserBlocked: "`blocker_id` blocked `blocked_id` (first time): requests from them are refused "
            "as if the blocker did not exist, presence is hidden both ways; the pair's pending or connected "
            "connection is removed by a `ConnectionRemoved` saved in the same transaction.",
            Block.UserBlockedAgain: "The blocker blocked the same user again after an unblock.",
            Block.UserUnblocked: "The block ended; no connection comes back.",
        },
    ),
    AggregateEntry(
        Conversation,
        "direct: `uuid5` of the unordered pair, so a pair has one direct conversation; group: `uuid4`.",
        {
            Conversation.ConversationStarted: "A conversation began: `kind` is `direct` (two members, no "
            "title) or `group` (title optional); `member_ids` lists the starter first.",
            Conversation.MessageSent: "`sender_id` sent `body` (normalised) as number `seq`, the last seq + 1; "
            "`message_id` derives from the sender and `client_message_id`. `reply_to`: the message it quotes "
            "(of this conversation, not deleted), or null. `mentions`: the members it mentions, as the server "
            "decided when it was sent (a rebuild does not depend on later username changes). Version 1 "
            "events (before replies and mentions) are read with `reply_to` null and no mentions.",
            Conversation.MessageEdited: "The sender replaced message `message_id`'s text with `body` "
            "(normalised, different from the text it had); `mentions` recomputed from it. Every earlier "
            "version stays in the log (`get_message_edits`).",
            Conversation.MessageDeleted: "`deleted_by` (its sender, or the group's owner) deleted message "
            "`message_id` for everyone: it is a tombstone from here on. Carries no text: message text lives "
            "only in `MessageSent.body` and `MessageEdited.body`, so that erasure can make exactly those "
            "unrecoverable.",
            Conversation.ReactionAdded: "Member `user_id` reacted to message `message_id` with `emoji` (one "
            "fully-qualified emoji; at most 20 distinct per message).",
            Conversation.ReactionRemoved: "Member `user_id` took back their reaction `emoji` to message `message_id`.",
            Conversation.MessagesDelivered: "Member `user_id`'s delivery marker moved forward to `up_to_seq` "
            "(never past the last seq).",
            Conversation.MessagesRead: "Member `user_id` read up to `up_to_seq`; their delivery marker moves "
            "there too.",
            Conversation.MembersAdded: "`actor_id` (the group's owner or an admin) added `user_ids`: a system "
            "message `message_id` at `seq`, which starts each one's membership period; their markers start "
            "just below it.",
            Conversation.MemberRemoved: "`actor_id` removed `user_id`: a system message at `seq`, which ends their "
            "membership period (they keep reading it).",
            Conversation.MemberLeft: "`user_id` left the group: a system message at `seq`, which ends their period.",
            Conversation.ConversationRenamed: "`actor_id` renamed the group to `title`: a system message at `seq`.",
            Conversation.MemberRoleChanged: "`actor_id` made `user_id` an `owner` (ownership passing on when the "
            "owner leaves), `admin` or `member`: a system message at `seq`.",
            Conversation.MuteSet: "`user_id` muted the conversation for themselves `until` a moment (ISO 8601, UTC), "
            "or unmuted it (null).",
        },
    ),
    AggregateEntry(
        ClientMessageKey,
        "the message id: `uuid5` of (sender id, `client_message_id`), so a resend conflicts in the store.",
        {
            ClientMessageKey.ClientMessageKeyClaimed: "The sender's `client_message_id` was recorded as "
            "message `seq` of `conversation_id`; saved in one transaction with its `MessageSent`.",
        },
    ),
    AggregateEntry(
        Upload,
        "`uuid4`, drawn when the bytes are stored.",
        {
            Upload.UploadStored: "`uploader_id` uploaded a file: its `filename` (the client's, less any path, "
            "normalised), the `content_type` sniffed from its bytes, `size` in bytes, the `sha256` that "
            "addresses its bytes in the blob store, `width` and `height` for images (else null) and the "
            "digest of their thumbnail. Metadata only: the bytes are never in the log.",
            Upload.UploadAttached: "The upload was attached to message `message_id` of `conversation_id`, at "
            "`position` among its attachments; saved in one transaction with that `MessageSent` (before it in "
            "the log), and at most once (a second attaching conflicts in the store).",
        },
    ),
)

COMMON_FIELDS = {  # the library's fields; a new one in an upgrade must be described here before rendering
    "originator_id": "the id of the aggregate whose stream holds the event",
    "originator_version": "the event's position in that stream: 1, 2, 3... (unique per aggregate)",
    "timestamp": "when the event was created, in UTC",
    "originator_topic": "created events only: the topic of the aggregate class, `module:QualName`",
}


def event_classes() -> list[type[Aggregate.Event]]:
    return [cls for entry in CATALOG for cls in entry.events]


def topic(cls: type) -> str:
    """The topic the library stores with each event (`eventsourcing.utils.get_topic`)."""
    return getattr(cls, "TOPIC", f"{cls.__module__}:{cls.__qualname__}")


def class_version(cls: type) -> int:
    return getattr(cls, "class_version", 1)


def own_fields(cls: type) -> list[dataclasses.Field[Any]]:
    common = {f.name for f in dataclasses.fields(Aggregate.Created)}
    return [f for f in dataclasses.fields(cls) if f.name not in common]


def type_name(annotation: Any) -> str:
    """`UUID`, `list[UUID]`, `str | None`: annotations as written in the code."""
    if isinstance(annotation, str):
        return annotation
    if annotation is type(None):
        return "None"
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return " | ".join(type_name(arg) for arg in args)
    if args:
        return f"{typing.get_origin(annotation).__name__}[{', '.join(type_name(arg) for arg in args)}]"
    return getattr(annotation, "__name__", repr(annotation))


def render() -> str:
    lines = HEADER.replace("{command}", COMMAND).splitlines()
    for field in dataclasses.fields(Aggregate.Created):
        lines.append(f"| `{field.name}` | `{type_name(field.type)}` | {COMMON_FIELDS[field.name]} |")
    for entry in CATALOG:
        module = entry.aggregate.__module__
        lines += ["", f"## {entry.aggregate.__name__} (`{module.replace('.', '/')}.py`)", "", f"Id: {entry.id_rule}"]
        for cls, meaning in entry.events.items():
            kind = "created event" if issubclass(cls, Aggregate.Created) else "event"
            lines += [
                "",
                f"### {cls.__name__}",
                "",
                meaning,
                "",
                f"- {kind}, topic `{topic(cls)}`, class_version {class_version(cls)}",
            ]
            fields = [f"`{f.name}: {type_name(f.type)}`" for f in own_fields(cls)]
            lines.append(f"- fields: {', '.join(fields)}" if fields else "- no fields of its own")
            if cls in PERSONAL_FIELDS:
                sealed = [f"`{p.name}` ({p.whose})" for p in PERSONAL_FIELDS[cls]]
                lines.append(f"- sealed personal data, each under the key of: {', '.join(sealed)}")
    lines += CHANGING.replace("{command}", COMMAND).splitlines()
    return "\n".join(lines) + "\n"


HEADER = """\
# Domain events

<!-- Generated from domain/catalog.py: do not edit by hand. -->

Every event Parley stores, per aggregate, with its shape and version. This page is generated from the
event classes in `domain/` and the descriptions in `domain/catalog.py`; after changing either, run

    {command}

`tests/unit/test_event_catalog.py` fails while this page and the code disagree, and when an event class
of an aggregate is missing from the catalog.

## How events are stored and versioned

- An event is stored as its **topic**, `module:QualName` of its class (such as
  `domain.connections:Connection.ConnectionRemoved`), and its fields as JSON. The topic is how the
  library finds the class again, so moving or renaming an event class, its aggregate or its module
  strands every stored event unless the old topic is registered for the new class at import time:
  `eventsourcing.utils.register_topic(old_topic, NewClass)`.
- **Personal data is sealed** (`domain/personal_data.py`, `infrastructure/sealing.py`): the fields
  marked "sealed" below are stored as `{"_sealed_": [subject, ciphertext]}`, AES-256-GCM under a key of
  their subject's own, kept in the `subject_keys` table beside the log. When the data must go (a message
  deleted for everyone, an account erased, a password replaced) the key is destroyed and the field reads
  as null from then on, in every reader of the log; no stored event is rewritten. Events stored before
  sealing existed keep their plain values (they read as before).
- Each event class has a **`class_version`** (1 when not set), stored with the event when above 1. When
  a stored event's version is older than its class's, the library runs the class's static methods
  `upcast_v1_v2(state)`, `upcast_v2_v3(state)`, ... on the stored fields before building the event, so
  old events are read in today's shape. Stored events are never rewritten.

## Every event carries

| field | type | meaning |
| --- | --- | --- |"""

CHANGING = """
## Changing an event

Today's class must read every shape ever stored under its topic.

1. Change the event class, bump its `class_version` (2 when it was unset), and add a static method that
   brings an event of the previous version up to date, for example a new field with its default:

   ```python
   class ConnectionRemoved(Aggregate.Event):
       class_version = 2
       removed_by: UUID
       reason: str

       @staticmethod
       def upcast_v1_v2(state: dict) -> None:
           state["reason"] = "removed"
   ```

   The `@event` method that records it takes the new field as a parameter. Later changes add
   `upcast_v2_v3` and so on; a released upcaster is never edited. A renamed field is
   `state["new"] = state.pop("old")`; a dropped one is `state.pop("old")`.
2. Regenerate this page: `{command}`.
3. Add a test that reads an event written in the old shape through the store:
   `tests/unit/test_upcasting.py` is the example (a v1 class writes to an SQLite file, the v2 class
   reads the same stream back through its upcaster).
4. A snapshotted aggregate (`Conversation`, every 500 events) stores its attributes under its own topic:
   a change to those attributes needs `class_version` and `upcast_vN_vN+1` on the aggregate class too."""


if __name__ == "__main__":
    sys.stdout.write(render())
