"""Conversations: who is in them, the gap-free sequence of their messages, and what happened to those
messages since (edits, deletions, reactions)."""

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.connections import pair_id
from domain.errors import Forbidden, InvalidInput, InvalidState, MessageNotFound, NotAMember
from domain.messages import ClientMessageKey, check_text
from domain.reactions import MAX_DISTINCT_REACTIONS

DIRECT, GROUP = "direct", "group"
OWNER, ADMIN, MEMBER = "owner", "admin", "member"
TITLE_MAX_CHARS = 100
MAX_MEMBERS = 256
SYSTEM_MESSAGES = UUID("5d0b7a8e-4f1c-4c53-9a57-6a4b1d2f0c17")  # namespace of system message ids


class Conversation(Aggregate):
    """Holds membership, the last seq and, for the messages that changed since they were sent, whether
    they are deleted and their reactions: never bodies, nor anything per message that did not change,
    so it stays small to load. Which message is whose comes from its `ClientMessageKey` (the message
    id's own stream), which the commands hand in.

    Text lives only in `MessageSent.body` and `MessageEdited.body`, so that a later per-message
    encryption of exactly those fields (destroying the key: crypto-shredding) leaves no text behind."""

    class_version = 4  # v2: `deleted` and `reactions`; v3: `roles`, `periods`, `system_ids`; v4: markers by text id

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["deleted"] = {}
        state["reactions"] = {}

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Before groups changed, the members were those named at the start, the starter of a group its owner."""
        owner = str(state["started_by"]) if state["kind"] == GROUP else None
        members = [str(m) for m in state["member_ids"]]
        state["roles"] = {m: OWNER if m == owner else MEMBER for m in members}
        state["periods"] = {m: [[1, None]] for m in members}
        state["system_ids"] = {}

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        """Markers were keyed by UUID (which is why no snapshot with receipts could be stored)."""
        state["delivered"] = {str(k): v for k, v in state["delivered"].items()}
        state["read"] = {str(k): v for k, v in state["read"].items()}

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

    # Membership, title and roles (contract section 7): each is a system message with its own seq.
    class MembersAdded(Aggregate.Event):
        message_id: UUID
        seq: int
        actor_id: UUID
        user_ids: list[UUID]

    class MemberRemoved(Aggregate.Event):
        message_id: UUID
        seq: int
        actor_id: UUID
        user_id: UUID

    class MemberLeft(Aggregate.Event):
        message_id: UUID
        seq: int
        user_id: UUID

    class ConversationRenamed(Aggregate.Event):
        message_id: UUID
        seq: int
        actor_id: UUID
        title: str

    class MemberRoleChanged(Aggregate.Event):
        message_id: UUID
        seq: int
        actor_id: UUID
        user_id: UUID
        role: str

    class MuteSet(Aggregate.Event):
        """A member mutes (until a moment, ISO 8601 UTC) or unmutes (None) the conversation for themselves."""

        user_id: UUID
        until: str | None

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
        # Keyed by the user id as text, as every map of this aggregate is: a snapshot stores them as JSON.
        self.delivered: dict[str, int] = {}  # each member's delivery marker (0 when absent)
        self.read: dict[str, int] = {}  # each member's read marker
        self.deleted: dict[str, bool] = {}  # message id -> True, for each deleted message
        self.reactions: dict[str, dict[str, list[str]]] = {}  # message id -> emoji -> user ids, in order
        owner = str(started_by) if kind == GROUP else None
        self.roles: dict[str, str] = {str(m): OWNER if str(m) == owner else MEMBER for m in member_ids}
        # user id -> periods of membership as [from_seq, to_seq] (to_seq None: still a member)
        self.periods: dict[str, list[list[int | None]]] = {str(m): [[1, None]] for m in member_ids}
        self.system_ids: dict[str, int] = {}  # system message id -> seq (they take no edits, deletions, reactions)

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
        """The message `message_id` of this conversation (its key: sender and seq), else MessageNotFound;
        a system message is InvalidState (it takes no replies, edits, deletions or reactions)."""
        if str(message_id) in self.system_ids:
            raise InvalidState("A system message cannot be replied to, edited, deleted or reacted to.")
        if key is None or key.conversation_id != self.id:
            raise MessageNotFound("No such message in this conversation.")
        return key

    def is_deleted(self, message_id: UUID) -> bool:
        return str(message_id) in self.deleted

    def check_visible(self, user_id: UUID, message: ClientMessageKey) -> None:
        """The user sees the message: it was sent during one of their membership periods."""
        periods = self.periods.get(str(user_id), [])
        if not any(
            start is not None and start <= message.seq and (end is None or message.seq <= end) for start, end in periods
        ):
            raise MessageNotFound("No such message in this conversation.")

    def check_reply(self, message_id: UUID, key: ClientMessageKey | None, sender_id: UUID | None = None) -> None:
        """A reply quotes a message of this conversation that the sender can see, not deleted."""
        message = self.message_of(message_id, key)
        if sender_id is not None:
            self.check_visible(sender_id, message)
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
        """For everyone: by its sender, or by an owner or admin of a group. False when already deleted."""
        self.check_member(user_id)
        moderator = self.kind == GROUP and self.role_of(user_id) in (OWNER, ADMIN)
        if message.sender_id != user_id and not moderator:
            raise Forbidden("Only its sender (or a group's owner or admin) can delete a message.")
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

    def erase_member(self, user_id: UUID, message_ids: list[UUID]) -> bool:
        """An erased account's part (contract section 11): its messages (`message_ids`, from the read
        models: the aggregate keeps no senders) deleted, its reactions removed, and a group left, its
        ownership passing on as when an owner leaves. A direct conversation keeps them as a member.
        False when nothing was left to change."""
        changed = False
        for message_id in message_ids:
            if not self.is_deleted(message_id):
                self._delete(message_id, user_id)
                changed = True
        for reacted, reactions in list(self.reactions.items()):
            for emoji, users in list(reactions.items()):
                if str(user_id) in users:
                    self._remove_reaction(UUID(reacted), user_id, emoji)
                    changed = True
        if self.kind == GROUP and user_id in self.member_ids:
            changed = self.leave(user_id) or changed
        return changed

    def reactions_of(self, message_id: UUID) -> list[tuple[str, list[str]]]:
        """(emoji, user ids) in first-reaction order, user ids in reacting order."""
        return [(emoji, list(users)) for emoji, users in self.reactions.get(str(message_id), {}).items()]

    def mark_delivered(self, user_id: UUID, up_to_seq: int) -> bool:
        """Move the member's delivery marker forward, clamped to the last seq they can see; False when it
        would not move. Former members too, over their periods."""
        seq = min(up_to_seq, self.last_visible_seq(user_id))
        if seq <= self.delivered.get(str(user_id), 0):
            return False
        self._mark_delivered(user_id, seq)
        return True

    @event(MessagesDelivered)
    def _mark_delivered(self, user_id: UUID, up_to_seq: int) -> None:
        self.delivered[str(user_id)] = up_to_seq

    def mark_read(self, user_id: UUID, up_to_seq: int) -> bool:
        """Move the member's read marker forward, clamped to the last seq they can see; reading implies delivery."""
        seq = min(up_to_seq, self.last_visible_seq(user_id))
        if seq <= self.read.get(str(user_id), 0):
            return False
        self._mark_read(user_id, seq)
        return True

    @event(MessagesRead)
    def _mark_read(self, user_id: UUID, up_to_seq: int) -> None:
        self.read[str(user_id)] = up_to_seq
        self.delivered[str(user_id)] = max(self.delivered.get(str(user_id), 0), up_to_seq)

    def check_member(self, user_id: UUID) -> None:
        if user_id not in self.member_ids:
            raise NotAMember("You are not a member of this conversation.")

    def last_visible_seq(self, user_id: UUID) -> int:
        """The last seq the user can see: the last one while a member, else the end of their last period."""
        periods = self.periods.get(str(user_id))
        if not periods:
            raise NotAMember("You are not a member of this conversation.")
        end = periods[-1][1]
        return self.last_seq if end is None else end

    def role_of(self, user_id: UUID) -> str | None:
        return self.roles.get(str(user_id)) if user_id in self.member_ids else None

    # -- groups: membership, title, roles (contract section 7) ------------------------------------------
    def _next_system(self) -> tuple[UUID, int]:
        seq = self.last_seq + 1
        return uuid5(SYSTEM_MESSAGES, f"{self.id}:{seq}"), seq

    def _check_group(self, user_id: UUID) -> None:
        if self.kind != GROUP:
            raise InvalidState("Only a group's members, title and roles change.")
        self.check_member(user_id)

    def _check_moderator(self, user_id: UUID, what: str) -> None:
        if self.role_of(user_id) not in (OWNER, ADMIN):
            raise Forbidden(f"Only the group's owner or an admin can {what}.")

    def add_members(self, actor_id: UUID, user_ids: list[UUID]) -> bool:
        """Add the users not members yet (the command checked they exist and are connected with the
        actor); False (nothing written) when all are members already."""
        self._check_group(actor_id)
        self._check_moderator(actor_id, "add members")
        new = list(dict.fromkeys(u for u in user_ids if u not in self.member_ids))
        if not new:
            return False
        if len(self.member_ids) + len(new) > MAX_MEMBERS:
            raise InvalidState(f"A group holds at most {MAX_MEMBERS} members.")
        message_id, seq = self._next_system()
        self._members_added(message_id, seq, actor_id, new)
        return True

    @event(MembersAdded)
    def _members_added(self, message_id: UUID, seq: int, actor_id: UUID, user_ids: list[UUID]) -> None:
        self._system(message_id, seq)
        for user_id in user_ids:
            self.member_ids.append(user_id)
            self.roles[str(user_id)] = MEMBER
            self.periods.setdefault(str(user_id), []).append([seq, None])
            # an added member's markers start just below the message that added them
            self.delivered[str(user_id)] = max(self.delivered.get(str(user_id), 0), seq - 1)
            self.read[str(user_id)] = max(self.read.get(str(user_id), 0), seq - 1)

    def remove_member(self, actor_id: UUID, user_id: UUID) -> bool:
        self._check_group(actor_id)
        self._check_moderator(actor_id, "remove members")
        if user_id == actor_id or user_id not in self.member_ids:
            raise InvalidState("Only another current member can be removed.")
        if self.role_of(actor_id) != OWNER and self.role_of(user_id) != MEMBER:
            raise Forbidden("An admin removes members only; the owner removes anyone.")
        message_id, seq = self._next_system()
        self._member_removed(message_id, seq, actor_id, user_id)
        return True

    @event(MemberRemoved)
    def _member_removed(self, message_id: UUID, seq: int, actor_id: UUID, user_id: UUID) -> None:
        self._system(message_id, seq)
        self._end_period(user_id, seq)

    def leave(self, user_id: UUID) -> bool:
        """Any member leaves; an owner's ownership passes to the longest-standing admin, else member
        (current period's start; ties in the order they were named)."""
        self._check_group(user_id)
        was_owner = self.role_of(user_id) == OWNER
        message_id, seq = self._next_system()
        self._member_left(message_id, seq, user_id)
        if was_owner and self.member_ids:
            heir = self.successor()
            message_id, seq = self._next_system()
            self._role_changed(message_id, seq, user_id, heir, OWNER)
        return True

    def successor(self) -> UUID:
        def standing(order: int, member_id: UUID) -> tuple[int, int, int]:
            start = self.periods[str(member_id)][-1][0] or 0
            return (0 if self.roles[str(member_id)] == ADMIN else 1, start, order)

        return min(enumerate(self.member_ids), key=lambda pair: standing(*pair))[1]

    @event(MemberLeft)
    def _member_left(self, message_id: UUID, seq: int, user_id: UUID) -> None:
        self._system(message_id, seq)
        self._end_period(user_id, seq)

    def rename(self, actor_id: UUID, raw_title: str) -> bool:
        """False (nothing written) when the title is unchanged."""
        self._check_group(actor_id)
        title = normalize_title(raw_title)
        if title is None:
            raise InvalidInput(f"A title is 1 to {TITLE_MAX_CHARS} characters.")
        self._check_moderator(actor_id, "rename it")
        if title == self.title:
            return False
        message_id, seq = self._next_system()
        self._renamed(message_id, seq, actor_id, title)
        return True

    @event(ConversationRenamed)
    def _renamed(self, message_id: UUID, seq: int, actor_id: UUID, title: str) -> None:
        self._system(message_id, seq)
        self.title = title

    def set_role(self, actor_id: UUID, user_id: UUID, role: str) -> bool:
        """The owner makes another current member an admin or a member; False when unchanged."""
        self._check_group(actor_id)
        if role not in (ADMIN, MEMBER):
            raise InvalidInput("A role is admin or member.")
        if self.role_of(actor_id) != OWNER:
            raise Forbidden("Only the group's owner sets roles.")
        if user_id == actor_id or user_id not in self.member_ids:
            raise InvalidState("Only another current member's role can be set.")
        if self.roles[str(user_id)] == role:
            return False
        message_id, seq = self._next_system()
        self._role_changed(message_id, seq, actor_id, user_id, role)
        return True

    @event(MemberRoleChanged)
    def _role_changed(self, message_id: UUID, seq: int, actor_id: UUID, user_id: UUID, role: str) -> None:
        self._system(message_id, seq)
        self.roles[str(user_id)] = role

    def mute(self, user_id: UUID, until: str | None) -> bool:
        """A member, or a former one (over their periods), mutes or unmutes the conversation for themselves."""
        self.last_visible_seq(user_id)
        self._mute(user_id, until)
        return True

    @event(MuteSet)
    def _mute(self, user_id: UUID, until: str | None) -> None:
        pass  # the read models keep it; nothing here depends on it

    def _system(self, message_id: UUID, seq: int) -> None:
        self.last_seq = seq
        self.system_ids[str(message_id)] = seq

    def _end_period(self, user_id: UUID, seq: int) -> None:
        self.member_ids.remove(user_id)
        self.roles.pop(str(user_id), None)
        self.periods[str(user_id)][-1][1] = seq

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
