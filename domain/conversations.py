"""Conversations: who is in them, the gap-free sequence of their messages, and what happened to those
messages since (edits, deletions, reactions)."""

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.connections import pair_id
from domain.errors import Forbidden, InvalidInput, InvalidState, MessageNotFound, NotAMember
from domain.messages import ClientMessageKey, check_text
from domain.reactions import MAX_DISTINCT_REACTIONS

DIRECT, GROUP = "direct", "group"
TITLE_MAX_CHARS = 100


class Conversation(Aggregate):
    """Holds membership, the last seq and, for the messages that changed since they were sent, whether
    they are deleted and their reactions: never bodies, nor anything per message that did not change,
    so it stays small to load. Which message is whose comes from its `ClientMessageKey` (the message
    id's own stream), which the commands hand in.

    Text lives only in `MessageSent.body` and `MessageEdited.body`, so that a later per-message
    encryption of exactly those fields (destroying the key: crypto-shredding) leaves no text behind."""

    class_version = 2  # v2: `deleted` and `reactions` (a snapshot of v1 predates both: none of either)

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["deleted"] = {}
        state["reactions"] = {}

    class ConversationStarted(Aggregate.Created):
        kind: str
        title: str | None
        member_ids: list[UUID]
        started_by: UUID

    class MessageSent(Aggregate.Event):
        class_version = 2  # v2: reply_to and mentions
        message_id: UUID
        seq: int
        sender_id: UUID
        body: str
        client_message_id: UUID
        reply_to: UUID | None
        mentions: list[UUID]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reply_to"] = None
            state["mentions"] = []

    class MessageEdited(Aggregate.Event):
        message_id: UUID
        body: str
        mentions: list[UUID]

    class MessageDeleted(Aggregate.Event):
        message_id: UUID
        deleted_by: UUID

    class ReactionAdded(Aggregate.Event):
        message_id: UUID
        user_id: UUID
        emoji: str

    class ReactionRemoved(Aggregate.Event):
        message_id: UUID
        user_id: UUID
        emoji: str

    class MessagesDelivered(Aggregate.Event):
        user_id: UUID
        up_to_seq: int

    class MessagesRead(Aggregate.Event):
        user_id: UUID
        up_to_seq: int

    @staticmethod
    def create_id(kind: str, member_ids: list[UUID], started_by: UUID, title: str | None = None) -> UUID:
        """A direct conversation's id derives from its pair: a second start of it conflicts in the store."""
        if kind == DIRECT:
            return direct_conversation_id(member_ids[0], member_ids[1])
        return Aggregate.create_id()

    @classmethod
    def start(cls, started_by: UUID, others: list[UUID], title: str | None) -> "Conversation":
        others = list(dict.fromkeys(u for u in others if u != started_by))
        if not others:
            raise InvalidInput("Name at least one other person to start a conversation.")
        kind = DIRECT if len(others) == 1 else GROUP
        title = normalize_title(title) if kind == GROUP else None
        return cls(kind=kind, title=title, member_ids=[started_by, *others], started_by=started_by)

    @event(ConversationStarted)
    def __init__(self, kind: str, title: str | None, member_ids: list[UUID], started_by: UUID) -> None:
        self.kind = kind
        self.title = title
        self.member_ids = list(member_ids)
        self.started_by = started_by
        self.last_seq = 0
        self.delivered: dict[UUID, int] = {}  # each member's delivery marker (0 when absent)
        self.read: dict[UUID, int] = {}  # each member's read marker
        self.deleted: dict[str, bool] = {}  # message id -> True, for each deleted message
        self.reactions: dict[str, dict[str, list[str]]] = {}  # message id -> emoji -> user ids, in order

    def send(
        self,
        sender_id: UUID,
        message_id: UUID,
        body: str,
        client_message_id: UUID,
        reply_to: UUID | None = None,
        mentions: list[UUID] | None = None,
    ) -> int:
        self.check_member(sender_id)
        self._send(message_id, self.last_seq + 1, sender_id, body, client_message_id, reply_to, mentions or [])
        return self.last_seq

    @event(MessageSent)
    def _send(
        self,
        message_id: UUID,
        seq: int,
        sender_id: UUID,
        body: str,
        client_message_id: UUID,
        reply_to: UUID | None,
        mentions: list[UUID],
    ) -> None:
        self.last_seq = seq

    # -- what happens to a message after it is sent -------------------------------------------------
    def message_of(self, message_id: UUID, key: ClientMessageKey | None) -> ClientMessageKey:
        """The message `message_id` of this conversation (its key: sender and seq), else MessageNotFound."""
        if key is None or key.conversation_id != self.id:
            raise MessageNotFound("No such message in this conversation.")
        return key

    def is_deleted(self, message_id: UUID) -> bool:
        return str(message_id) in self.deleted

    def check_reply(self, message_id: UUID, key: ClientMessageKey | None) -> None:
        """A reply quotes a message of this conversation that is not deleted."""
        self.message_of(message_id, key)
        if self.is_deleted(message_id):
            raise InvalidState("You cannot reply to a deleted message.")

    def edit(self, editor_id: UUID, message: ClientMessageKey, body: str, mentions: list[UUID], current: str) -> bool:
        """The sender replaces the text of a message not deleted; False (nothing written) when `body`
        equals `current`, its text now."""
        self.check_member(editor_id)
        if message.sender_id != editor_id:
            raise Forbidden("Only its sender can edit a message.")
        if self.is_deleted(message.id):
            raise InvalidState("A deleted message cannot be edited.")
        if body == current:
            return False
        self._edit(message.id, body, mentions)
        return True

    @event(MessageEdited)
    def _edit(self, message_id: UUID, body: str, mentions: list[UUID]) -> None:
        pass  # the aggregate keeps no text

    def delete(self, user_id: UUID, message: ClientMessageKey) -> bool:
        """For everyone: by its sender, or by the owner of a group (its starter). False when already deleted."""
        self.check_member(user_id)
        owner = self.kind == GROUP and user_id == self.started_by
        if message.sender_id != user_id and not owner:
            raise Forbidden("Only its sender (or the group's owner) can delete a message.")
        if self.is_deleted(message.id):
            return False
        self._delete(message.id, user_id)
        return True

    @event(MessageDeleted)
    def _delete(self, message_id: UUID, deleted_by: UUID) -> None:
        self.deleted[str(message_id)] = True
        self.reactions.pop(str(message_id), None)

    def react(self, user_id: UUID, message: ClientMessageKey, emoji: str, add: bool) -> bool:
        """Add or remove the user's reaction `emoji` (already judged: domain/reactions.py); False when
        that changes nothing (added already, or not there)."""
        self.check_member(user_id)
        if self.is_deleted(message.id):
            raise InvalidState("A deleted message takes no reactions.")
        reactions = self.reactions.get(str(message.id), {})
        users = reactions.get(emoji, [])
        if add:
            if str(user_id) in users:
                return False
            if emoji not in reactions and len(reactions) >= MAX_DISTINCT_REACTIONS:
                raise InvalidState(f"A message takes at most {MAX_DISTINCT_REACTIONS} different reactions.")
            self._add_reaction(message.id, user_id, emoji)
        else:
            if str(user_id) not in users:
                return False
            self._remove_reaction(message.id, user_id, emoji)
        return True

    @event(ReactionAdded)
    def _add_reaction(self, message_id: UUID, user_id: UUID, emoji: str) -> None:
        self.reactions.setdefault(str(message_id), {}).setdefault(emoji, []).append(str(user_id))

    @event(ReactionRemoved)
    def _remove_reaction(self, message_id: UUID, user_id: UUID, emoji: str) -> None:
        reactions = self.reactions[str(message_id)]
        reactions[emoji].remove(str(user_id))
        if not reactions[emoji]:
            del reactions[emoji]
        if not reactions:
            del self.reactions[str(message_id)]

    def reactions_of(self, message_id: UUID) -> list[tuple[str, list[str]]]:
        """(emoji, user ids) in first-reaction order, user ids in reacting order."""
        return [(emoji, list(users)) for emoji, users in self.reactions.get(str(message_id), {}).items()]

    def mark_delivered(self, user_id: UUID, up_to_seq: int) -> bool:
        """Move the member's delivery marker forward, clamped to the last seq; False when it would not move."""
        self.check_member(user_id)
        seq = min(up_to_seq, self.last_seq)
        if seq <= self.delivered.get(user_id, 0):
            return False
        self._mark_delivered(user_id, seq)
        return True

    @event(MessagesDelivered)
    def _mark_delivered(self, user_id: UUID, up_to_seq: int) -> None:
        self.delivered[user_id] = up_to_seq

    def mark_read(self, user_id: UUID, up_to_seq: int) -> bool:
        """Move the member's read marker forward, clamped to the last seq; reading implies delivery."""
        self.check_member(user_id)
        seq = min(up_to_seq, self.last_seq)
        if seq <= self.read.get(user_id, 0):
            return False
        self._mark_read(user_id, seq)
        return True

    @event(MessagesRead)
    def _mark_read(self, user_id: UUID, up_to_seq: int) -> None:
        self.read[user_id] = up_to_seq
        self.delivered[user_id] = max(self.delivered.get(user_id, 0), up_to_seq)

    def check_member(self, user_id: UUID) -> None:
        if user_id not in self.member_ids:
            raise NotAMember("You are not a member of this conversation.")

    @property
    def pair(self) -> tuple[UUID, UUID]:
        """The two people of a direct conversation."""
        first, second = self.member_ids
        return first, second

    def other_member(self, user_id: UUID) -> UUID:
        """The other person of a direct conversation."""
        return next(m for m in self.member_ids if m != user_id)


def direct_conversation_id(a: UUID, b: UUID) -> UUID:
    return pair_id("direct-conversations", a, b)


def normalize_title(raw: str | None) -> str | None:
    if raw is None:
        return None
    title = " ".join(check_text(raw).split())
    if len(title) > TITLE_MAX_CHARS:
        raise InvalidInput(f"A title is at most {TITLE_MAX_CHARS} characters.")
    return title or None
