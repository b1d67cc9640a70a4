"""Conversations: who is in them and the gap-free sequence of their messages."""

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.connections import pair_id
from domain.errors import InvalidInput, NotAMember
from domain.messages import check_text

DIRECT, GROUP = "direct", "group"
TITLE_MAX_CHARS = 100


class Conversation(Aggregate):
    """Holds membership and the last seq only (never message bodies), so it stays small to load."""

    class ConversationStarted(Aggregate.Created):
        kind: str
        title: str | None
        member_ids: list[UUID]
        started_by: UUID

    class MessageSent(Aggregate.Event):
        message_id: UUID
        seq: int
        sender_id: UUID
        body: str
        client_message_id: UUID

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

    def send(self, sender_id: UUID, message_id: UUID, body: str, client_message_id: UUID) -> int:
        self.check_member(sender_id)
        self._send(message_id, self.last_seq + 1, sender_id, body, client_message_id)
        return self.last_seq

    @event(MessageSent)
    def _send(self, message_id: UUID, seq: int, sender_id: UUID, body: str, client_message_id: UUID) -> None:
        self.last_seq = seq

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
