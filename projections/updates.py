"""How each domain event changes the read models. Runs inside the projector's batch transaction."""

from collections.abc import Callable
from functools import singledispatchmethod
from typing import Any

from domain.connections import CONNECTED, DECLINED, PENDING, REMOVED, Connection
from domain.conversations import Conversation
from domain.users import User
from projections import shapes
from projections.changes import Change, ConnectionChanged, ConversationChanged, MarkerMoved, MessageAdded
from projections.event_rows import ROWS_FROM_EVENTS, MessageRow, ReceiptRow, topics_of
from projections.folded_writes import FoldedWrites
from projections.ports import SqlCursor
from projections.shapes import iso, message


class ReadModelUpdates:
    """One method per event class, applied a batch at a time inside the projector's transaction.
    Users, connections and new conversations are written as they come; messages and receipts are
    folded into a few statements written at the end of the batch (projections/folded_writes.py).
    `report`: whether to return the changes for broadcasting (a rebuild does not broadcast)."""

    def __init__(self, prefix: str) -> None:
        self.p = prefix
        self.writes = FoldedWrites(prefix)
        self.report = True
        self._handlers: dict[type, Callable[[Any, SqlCursor], list[Change]]] = {}

    @classmethod
    def topics(cls) -> list[str]:
        """The topics of the events that change a read model: the only ones the projector reads."""
        registry = cls.__dict__["_apply"].dispatcher.registry
        events = [kind for kind in registry if kind not in (object, MessageRow, ReceiptRow)]
        return topics_of([*events, *ROWS_FROM_EVENTS])

    def apply_batch(self, events: list[Any], cur: SqlCursor) -> list[Change]:
        """Apply a batch of events (messages and receipts as rows: projections/event_rows.py)."""
        touched = (MessageRow, ReceiptRow)
        self.writes.load(cur, list(dict.fromkeys(e.conversation_id for e in events if type(e) in touched)))
        changes: list[Change] = []
        try:
            for event in events:
                changes += self.apply(event, cur)
            self.writes.flush(cur)
        finally:
            self.writes.clear()
        return changes

    def apply(self, event: Any, cur: SqlCursor) -> list[Change]:
        handler = self._handlers.get(type(event))
        if handler is None:  # resolved once per class, not per event (the log is mostly messages)
            function = ReadModelUpdates.__dict__["_apply"].dispatcher.dispatch(type(event))
            handler = self._handlers[type(event)] = function.__get__(self)
        return handler(event, cur)

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
        self.writes.started(conversation_id, [str(member_id) for member_id in event.member_ids])
        return [ConversationChanged(conversation_id)]

    @_apply.register
    def _message_sent(self, row: MessageRow, cur: SqlCursor) -> list[Change]:
        self.writes.message(row)
        if not self.report:
            return []
        return [MessageAdded(message(row._asdict(), "sent")), ConversationChanged(row.conversation_id)]

    @_apply.register
    def _receipt(self, row: ReceiptRow, cur: SqlCursor) -> list[Change]:
        """Reading implies delivery; delivery moves forward only, and is reported when it moved."""
        member = (row.conversation_id, row.user_id)
        moved = self.writes.deliver(member, row.up_to_seq)
        if row.read:
            self.writes.mark_read(member, row.up_to_seq)
        if not self.report:
            return []
        changes: list[Change] = []
        if moved:
            changes.append(
                MarkerMoved(
                    "messages_delivered",
                    shapes.messages_delivered(row.conversation_id, row.user_id, row.up_to_seq, row.at),
                )
            )
        if row.read:
            changes.append(
                MarkerMoved(
                    "messages_read", shapes.messages_read(row.conversation_id, row.user_id, row.up_to_seq, row.at)
                )
            )
        return [*changes, ConversationChanged(row.conversation_id)]
