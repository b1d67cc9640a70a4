"""Time travel: a conversation as it was at a log position or a moment, rebuilt from its events alone
(no read-model table is touched)."""

import json
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import Application

from domain.conversations import Conversation
from domain.errors import ConversationNotFound, NotAMember
from domain.users import DELETED_NAME
from projections import shapes
from projections.shapes import iso, message_status


class Positions(Protocol):
    def version_at(self, aggregate_id: UUID, position: int) -> int: ...


def conversation_at(
    app: Application[Any],
    positions: Positions,
    conversation_id: UUID,
    at: int | datetime | None,
    viewer: UUID | None = None,
) -> dict[str, Any]:
    """Members (with markers and unread counts), and messages with their receipt states, as of `at`
    (a log position or a moment; None: now). With a `viewer`, only a member of the conversation may look."""
    events: list[Any] = list(app.events.get(conversation_id))
    if not events or not isinstance(events[0], Conversation.ConversationStarted):
        raise ConversationNotFound("No such conversation.")
    if viewer is not None:  # a member, now or once (a former member looks over the log too)
        latest: Conversation = app.repository.get(conversation_id)
        if str(viewer) not in latest.periods:
            raise NotAMember("You are not a member of this conversation.")
    if isinstance(at, int):
        version = positions.version_at(conversation_id, at)
        events = [e for e in events if e.originator_version <= version]
    elif at is not None:
        events = [e for e in events if e.timestamp <= at]
    if not events:
        raise ConversationNotFound("The conversation did not exist yet at that point.")
    started = events[0]
    messages: dict[Any, dict[str, Any]] = {}  # message id -> its row as of then (text, edits, deletion)
    reactions: dict[Any, dict[str, list[str]]] = {}
    for e in events[1:]:
        if isinstance(e, Conversation.MessageSent):
            messages[e.message_id] = {
                "id": str(e.message_id),
                "conversation_id": str(conversation_id),
                "seq": e.seq,
                "sender_id": str(e.sender_id),
                "body": e.body or "",
                "client_message_id": str(e.client_message_id),
                "sent_at": iso(e.timestamp),
                "reply_to": str(e.reply_to) if e.reply_to else None,
                "mentions": " ".join(str(u) for u in e.mentions),
                "edited_at": None,
                "deleted": 0 if e.body is not None else 1,  # None: deleted or erased since (its key is gone)
            }
        elif isinstance(e, SYSTEM_EVENTS):
            messages[e.message_id] = _system_row(e, conversation_id)
        elif isinstance(e, Conversation.MessageEdited) and e.message_id in messages and e.body is not None:
            row = messages[e.message_id]
            row.update(body=e.body, edited_at=iso(e.timestamp), mentions=" ".join(str(u) for u in e.mentions))
        elif isinstance(e, Conversation.MessageDeleted) and e.message_id in messages:
            messages[e.message_id].update(body="", edited_at=None, reply_to=None, mentions="", deleted=1)
            reactions.pop(e.message_id, None)
        elif isinstance(e, Conversation.ReactionAdded):
            reactions.setdefault(e.message_id, {}).setdefault(e.emoji, []).append(str(e.user_id))
        elif isinstance(e, Conversation.ReactionRemoved):
            users = reactions.get(e.message_id, {}).get(e.emoji, [])
            if str(e.user_id) in users:
                users.remove(str(e.user_id))
                if not users:
                    del reactions[e.message_id][e.emoji]
    rows = sorted(messages.values(), key=lambda r: r["seq"])
    by_id = {r["id"]: r for r in rows}
    # The members' markers as the aggregate held them then: its own rules (reading implies delivery)
    # replayed, not restated here.
    then: Conversation = app.repository.get(conversation_id, version=events[-1].originator_version)
    markers: list[dict[str, Any]] = [
        {
            "user_id": str(m),
            "last_delivered_seq": then.delivered.get(str(m), 0),
            "last_read_seq": then.read.get(str(m), 0),
            "from_seq": then.periods[str(m)][-1][0],
        }
        for m in then.member_ids
    ]
    members = []
    for member_id, marker in zip(then.member_ids, markers, strict=True):
        user: Any = app.repository.get(member_id)
        counted = [
            r
            for r in rows
            if r["seq"] > marker["last_read_seq"]
            and r["sender_id"] != str(member_id)
            and not r["deleted"]
            and r.get("kind") != "system"
        ]
        shown = {
            "id": str(member_id),
            "username": user.username,
            "display_name": user.display_name or DELETED_NAME,  # None: erased since (its key is gone)
            "created_at": iso(user.created_on),
            "deleted": user.username is None,
        }
        members.append(
            {
                "user": shapes.user(shown),
                "role": then.roles.get(str(member_id), "member"),
                "last_delivered_seq": marker["last_delivered_seq"],
                "last_read_seq": marker["last_read_seq"],
                "unread_count": len(counted),
                "mention_count": sum(1 for r in counted if str(member_id) in r["mentions"].split()),
            }
        )
    return {
        "conversation": {
            "id": str(conversation_id),
            "kind": started.kind,
            "title": then.title,
            "created_at": iso(started.timestamp),
        },
        "as_of": {"version": events[-1].originator_version, "timestamp": iso(events[-1].timestamp)},
        "members": members,
        "messages": [
            shapes.message(
                r,
                message_status(r["sender_id"], r["seq"], markers),
                shapes.quote(by_id[r["reply_to"]]) if r["reply_to"] in by_id else None,
                [shapes.reaction(emoji, users) for emoji, users in reactions.get(UUID(r["id"]), {}).items()],
            )
            for r in rows
        ],
    }


SYSTEM_EVENTS = (
    Conversation.MembersAdded,
    Conversation.MemberRemoved,
    Conversation.MemberLeft,
    Conversation.ConversationRenamed,
    Conversation.MemberRoleChanged,
)


def _system_row(e: Any, conversation_id: UUID) -> dict[str, Any]:
    """A system message as the read models hold it (projections/updates.py `_system_message`)."""
    if isinstance(e, Conversation.MembersAdded):
        change = shapes.system_change("member_added", str(e.actor_id), [str(u) for u in e.user_ids], None, None)
    elif isinstance(e, Conversation.MemberRemoved):
        change = shapes.system_change("member_removed", str(e.actor_id), [str(e.user_id)], None, None)
    elif isinstance(e, Conversation.MemberLeft):
        change = shapes.system_change("member_left", str(e.user_id), [str(e.user_id)], None, None)
    elif isinstance(e, Conversation.ConversationRenamed):
        change = shapes.system_change("renamed", str(e.actor_id), [], e.title, None)
    else:
        change = shapes.system_change("role_changed", str(e.actor_id), [str(e.user_id)], None, e.role)
    return {
        "id": str(e.message_id),
        "conversation_id": str(conversation_id),
        "seq": e.seq,
        "sender_id": change["actor_id"],
        "body": "",
        "client_message_id": str(e.message_id),
        "sent_at": iso(e.timestamp),
        "reply_to": None,
        "mentions": "",
        "edited_at": None,
        "deleted": 0,
        "kind": "system",
        "system": json.dumps(change),
    }
