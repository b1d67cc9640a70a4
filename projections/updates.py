"""How each domain event changes the read models. Runs inside the projector's batch transaction."""

from functools import singledispatchmethod
from typing import Any

from eventsourcing.utils import get_topic

from domain.connections import CONNECTED, DECLINED, PENDING, REMOVED, Connection
from domain.conversations import Conversation
from domain.users import User
from infrastructure.sql import SqlCursor
from projections.changes import Change, ConnectionChanged, ConversationChanged, MarkerMoved, MessageAdded
from projections.shapes import iso, message

MESSAGE_COLUMNS = ("id", "conversation_id", "seq", "sender_id", "body", "client_message_id", "sent_at")


class ReadModelUpdates:
    """One method per event class. Messages, the bulk of the log, are buffered and written with one
    executemany per statement (pipelined on PostgreSQL); any other event that writes flushes the
    buffer first, so every event still applies in log order. The projector flushes before it moves
    its position, in the same transaction. `report`: whether to return the changes for broadcasting
    (a rebuild does not broadcast, and skips building them)."""

    def __init__(self, prefix: str) -> None:
        self.p = prefix
        self._messages: list[tuple[Any, ...]] = []
        self._insert_message = (
            f"INSERT INTO {prefix}messages ({', '.join(MESSAGE_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        self._touch_conversation = (
            f"UPDATE {prefix}conversations SET last_seq = ?, last_message_id = ?, last_message_at = ? WHERE id = ?"
        )
        self._touch_members = (
            f"UPDATE {prefix}members SET activity_at = ?, unread_count = unread_count + ? WHERE conversation_id = ?"
        )
        self._unread_own = (  # a sender's own messages are not unread for them
            f"UPDATE {prefix}members SET unread_count = unread_count - ? WHERE conversation_id = ? AND user_id = ?"
        )
        self.report = True

    @classmethod
    def topics(cls) -> list[str]:
        """The topics of the events that change a read model: the only ones the projector reads."""
        registry = cls.__dict__["_apply"].dispatcher.registry
        return sorted(get_topic(kind) for kind in registry if kind is not object)

    def apply(self, event: Any, cur: SqlCursor) -> list[Change]:
        if self._messages and not isinstance(event, Conversation.MessageSent):
            self.flush(cur)
        return self._apply(event, cur)

    def flush(self, cur: SqlCursor) -> None:
        """Write the buffered messages: every row, then each conversation's and member's net change
        (the last message of a conversation, and unread counts grown by the others' messages)."""
        if not self._messages:
            return
        rows, self._messages = self._messages, []
        cur.executemany(self._insert_message, rows)
        last: dict[str, tuple[Any, ...]] = {}  # conversation -> its last message in the buffer
        sent: dict[str, int] = {}  # conversation -> messages in the buffer
        own: dict[tuple[str, str], int] = {}  # (conversation, sender) -> their messages in the buffer
        for row in rows:
            conversation, sender = row[1], row[3]
            last[conversation] = row
            sent[conversation] = sent.get(conversation, 0) + 1
            own[(conversation, sender)] = own.get((conversation, sender), 0) + 1
        cur.executemany(self._touch_conversation, [(r[2], r[0], r[6], c) for c, r in last.items()])
        cur.executemany(self._touch_members, [(last[c][6], n, c) for c, n in sent.items()])
        cur.executemany(self._unread_own, [(n, c, sender) for (c, sender), n in own.items()])

    def discard(self) -> None:
        """Forget buffered messages (their transaction rolled back)."""
        self._messages = []

    @singledispatchmethod
    def _apply(self, event: Any, cur: SqlCursor) -> list[Change]:
        """Events that no read model shows (index claims) change nothing; the projector does not
        even read them (see topics())."""
        return []

    @_apply.register
    def _user_registered(self, event: User.UserRegistered, cur: SqlCursor) -> list[Change]:
        cur.execute(
            f"INSERT INTO {self.p}users (id, username, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
            (str(event.originator_id), event.username, event.display_name, event.password_hash, iso(event.timestamp)),
        )
        return []

    @_apply.register
    def _connection_requested(self, event: Connection.ConnectionRequested, cur: SqlCursor) -> list[Change]:
        at = iso(event.timestamp)
        cur.execute(
            f"INSERT INTO {self.p}connections (id, requester_id, addressee_id, status, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (str(event.originator_id), str(event.requester_id), str(event.addressee_id), PENDING, at, at),
        )
        return [ConnectionChanged(str(event.originator_id))]

    @_apply.register
    def _connection_requested_again(self, event: Connection.ConnectionRequestedAgain, cur: SqlCursor) -> list[Change]:
        at = iso(event.timestamp)
        cur.execute(
            f"UPDATE {self.p}connections SET requester_id = ?, addressee_id = ?, status = ?, created_at = ?, "
            "updated_at = ? WHERE id = ?",
            (str(event.requester_id), str(event.addressee_id), PENDING, at, at, str(event.originator_id)),
        )
        return [ConnectionChanged(str(event.originator_id))]

    @_apply.register
    def _connection_accepted(self, event: Connection.ConnectionAccepted, cur: SqlCursor) -> list[Change]:
        return self._connection_status(event, CONNECTED, cur)

    @_apply.register
    def _connection_declined(self, event: Connection.ConnectionDeclined, cur: SqlCursor) -> list[Change]:
        return self._connection_status(event, DECLINED, cur)

    @_apply.register
    def _connection_removed(self, event: Connection.ConnectionRemoved, cur: SqlCursor) -> list[Change]:
        return self._connection_status(event, REMOVED, cur)

    def _connection_status(self, event: Any, status: str, cur: SqlCursor) -> list[Change]:
        cur.execute(
            f"UPDATE {self.p}connections SET status = ?, updated_at = ? WHERE id = ?",
            (status, iso(event.timestamp), str(event.originator_id)),
        )
        return [ConnectionChanged(str(event.originator_id))]

    @_apply.register
    def _conversation_started(self, event: Conversation.ConversationStarted, cur: SqlCursor) -> list[Change]:
        conversation_id, at = str(event.originator_id), iso(event.timestamp)
        cur.execute(
            f"INSERT INTO {self.p}conversations (id, kind, title, created_at) VALUES (?, ?, ?, ?)",
            (conversation_id, event.kind, event.title, at),
        )
        cur.executemany(
            f"INSERT INTO {self.p}members (conversation_id, user_id, activity_at) VALUES (?, ?, ?)",
            [(conversation_id, str(member_id), at) for member_id in event.member_ids],
        )
        return [ConversationChanged(conversation_id)]

    @_apply.register
    def _message_sent(self, event: Conversation.MessageSent, cur: SqlCursor) -> list[Change]:
        row = (
            str(event.message_id),
            str(event.originator_id),
            event.seq,
            str(event.sender_id),
            event.body,
            str(event.client_message_id),
            iso(event.timestamp),
        )
        self._messages.append(row)  # written by flush(), in order, before anything else
        if not self.report:
            return []
        return [MessageAdded(message(dict(zip(MESSAGE_COLUMNS, row)), "sent")), ConversationChanged(row[1])]

    @_apply.register
    def _messages_delivered(self, event: Conversation.MessagesDelivered, cur: SqlCursor) -> list[Change]:
        conversation_id, user_id = str(event.originator_id), str(event.user_id)
        moved = self._move_delivered(cur, conversation_id, user_id, event.up_to_seq, iso(event.timestamp))
        return [*moved, ConversationChanged(conversation_id)]

    @_apply.register
    def _messages_read(self, event: Conversation.MessagesRead, cur: SqlCursor) -> list[Change]:
        conversation_id, user_id, at = str(event.originator_id), str(event.user_id), iso(event.timestamp)
        moved = self._move_delivered(cur, conversation_id, user_id, event.up_to_seq, at)
        cur.execute(
            f"UPDATE {self.p}members SET last_read_seq = ?, unread_count = (SELECT COUNT(*) FROM {self.p}messages "
            "WHERE conversation_id = ? AND seq > ? AND sender_id <> ?) WHERE conversation_id = ? AND user_id = ?",
            (event.up_to_seq, conversation_id, event.up_to_seq, user_id, conversation_id, user_id),
        )
        read = {"conversation_id": conversation_id, "user_id": user_id, "up_to_seq": event.up_to_seq, "read_at": at}
        return [*moved, MarkerMoved("messages_read", read), ConversationChanged(conversation_id)]

    def _move_delivered(self, cur: SqlCursor, conversation_id: str, user_id: str, seq: int, at: str) -> list[Change]:
        """Delivery moves forward only (reading implies delivery): report it when it moved."""
        cur.execute(
            f"UPDATE {self.p}members SET last_delivered_seq = ? "
            "WHERE conversation_id = ? AND user_id = ? AND last_delivered_seq < ?",
            (seq, conversation_id, user_id, seq),
        )
        if cur.rowcount == 0:
            return []
        payload = {"conversation_id": conversation_id, "user_id": user_id, "up_to_seq": seq, "delivered_at": at}
        return [MarkerMoved("messages_delivered", payload)]
