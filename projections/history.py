"""Time travel: a conversation as it was at a log position or a moment, rebuilt from its events alone
(no read-model table is touched)."""

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import Application

from domain.conversations import Conversation
from domain.errors import ConversationNotFound, NotAMember
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
    if viewer is not None and viewer not in events[0].member_ids:
        raise NotAMember("You are not a member of this conversation.")
    if isinstance(at, int):
        version = positions.version_at(conversation_id, at)
        events = [e for e in events if e.originator_version <= version]
    elif at is not None:
        events = [e for e in events if e.timestamp <= at]
    if not events:
        raise ConversationNotFound("The conversation did not exist yet at that point.")
    started = events[0]
    messages = [event for event in events[1:] if isinstance(event, Conversation.MessageSent)]
    # The members' markers as the aggregate held them then: its own rules (reading implies delivery)
    # replayed, not restated here.
    then: Conversation = app.repository.get(conversation_id, version=events[-1].originator_version)
    markers: list[dict[str, Any]] = [
        {"user_id": str(m), "last_delivered_seq": then.delivered.get(m, 0), "last_read_seq": then.read.get(m, 0)}
        for m in started.member_ids
    ]
    members = []
    for member_id, marker in zip(started.member_ids, markers, strict=True):
        user: Any = app.repository.get(member_id)
        unread = sum(1 for m in messages if m.seq > marker["last_read_seq"] and m.sender_id != member_id)
        shown = {
            "id": str(member_id),
            "username": user.username,
            "display_name": user.display_name,
            "created_at": iso(user.created_on),
        }
        members.append(
            {
                "user": shapes.user(shown),
                "last_delivered_seq": marker["last_delivered_seq"],
                "last_read_seq": marker["last_read_seq"],
                "unread_count": unread,
            }
        )
    return {
        "conversation": {
            "id": str(conversation_id),
            "kind": started.kind,
            "title": started.title,
            "created_at": iso(started.timestamp),
        },
        "as_of": {"version": events[-1].originator_version, "timestamp": iso(events[-1].timestamp)},
        "members": members,
        "messages": [
            shapes.message(
                {
                    "id": str(m.message_id),
                    "conversation_id": str(conversation_id),
                    "seq": m.seq,
                    "sender_id": str(m.sender_id),
                    "body": m.body,
                    "client_message_id": str(m.client_message_id),
                    "sent_at": iso(m.timestamp),
                },
                message_status(str(m.sender_id), m.seq, markers),
            )
            for m in messages
        ],
    }
