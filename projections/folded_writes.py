"""The conversation writes of one projector batch, folded into one statement each.

Messages and receipts are most of the log. Within a batch they are collected here and written at its
end with one executemany per statement (pipelined on PostgreSQL), however they interleave: every
message row; each conversation's last message; each member's activity and unread count grown by the
others' messages; delivery markers moved forward; and for members who read, the read marker and an
unread count recounted after all the batch's messages are in. The result equals applying the events
one by one, in log order (tests/integration/test_rebuild.py and test_unread_property.py check it).

Delivery markers are tracked in memory through the batch (loaded once per batch for the
conversations it touches), so each receipt still reports whether it moved a marker.
"""

from typing import Any

from infrastructure.sql import SqlCursor
from projections.event_rows import MessageRow
Member = tuple[str, str]  # (conversation id, user id)
LOAD_CHUNK = 500


class FoldedWrites:
    def __init__(self, prefix: str) -> None:
        p = prefix
        self.p = p
        self._insert_message = f"INSERT INTO {p}messages ({', '.join(MessageRow._fields)}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        self._touch_conversation = (
            f"UPDATE {p}conversations SET last_seq = ?, last_message_id = ?, last_message_at = ? WHERE id = ?"
        )
        self._touch_members = (
            f"UPDATE {p}members SET activity_at = ?, unread_count = unread_count + ? WHERE conversation_id = ?"
        )
        self._unread_own = (  # a sender's own messages are not unread for them
            f"UPDATE {p}members SET unread_count = unread_count - ? WHERE conversation_id = ? AND user_id = ?"
        )
        self._deliver = (
            f"UPDATE {p}members SET last_delivered_seq = ? "
            "WHERE conversation_id = ? AND user_id = ? AND last_delivered_seq < ?"
        )
        self._read = (
            f"UPDATE {p}members SET last_read_seq = ?, unread_count = (SELECT COUNT(*) FROM {p}messages "
            "WHERE conversation_id = ? AND seq > ? AND sender_id <> ?) WHERE conversation_id = ? AND user_id = ?"
        )
        self.clear()

    def clear(self) -> None:
        self.messages: list[MessageRow] = []
        self.delivered: dict[Member, int] = {}  # markers as of the last event applied (loaded or moved)
        self.moved: dict[Member, int] = {}  # delivery markers this batch moved, to write
        self.read: dict[Member, int] = {}  # read markers this batch set, to write

    def load(self, cur: SqlCursor, conversation_ids: list[str]) -> None:
        """Read the delivery markers of these conversations' members, before the batch's receipts."""
        for i in range(0, len(conversation_ids), LOAD_CHUNK):
            chunk = conversation_ids[i:i + LOAD_CHUNK]
            rows = cur.execute(
                f"SELECT conversation_id, user_id, last_delivered_seq FROM {self.p}members "
                f"WHERE conversation_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            for row in rows:
                self.delivered[(row["conversation_id"], row["user_id"])] = int(row["last_delivered_seq"])

    def started(self, conversation_id: str, member_ids: list[str]) -> None:
        for user_id in member_ids:
            self.delivered[(conversation_id, user_id)] = 0

    def message(self, row: MessageRow) -> None:
        self.messages.append(row)

    def deliver(self, member: Member, seq: int) -> bool:
        """Move the member's delivery marker forward to `seq`; whether it moved."""
        if seq <= self.delivered.get(member, 0):
            return False
        self.delivered[member] = self.moved[member] = seq
        return True

    def mark_read(self, member: Member, seq: int) -> None:
        self.read[member] = seq

    def flush(self, cur: SqlCursor) -> None:
        rows = self.messages
        if rows:
            cur.executemany(self._insert_message, rows)
            last: dict[str, tuple[Any, ...]] = {}  # conversation -> its last message in the batch
            sent: dict[str, int] = {}  # conversation -> messages in the batch
            own: dict[Member, int] = {}  # (conversation, sender) -> their messages in the batch
            for row in rows:
                conversation, sender = row[1], row[3]
                last[conversation] = row
                sent[conversation] = sent.get(conversation, 0) + 1
                own[(conversation, sender)] = own.get((conversation, sender), 0) + 1
            cur.executemany(self._touch_conversation, [(r[2], r[0], r[6], c) for c, r in last.items()])
            cur.executemany(self._touch_members, [(last[c][6], n, c) for c, n in sent.items()])
            cur.executemany(self._unread_own, [(n, c, sender) for (c, sender), n in own.items()])
        if self.moved:
            cur.executemany(self._deliver, [(seq, c, u, seq) for (c, u), seq in self.moved.items()])
        if self.read:  # after every message of the batch is in: the recount sees them all
            cur.executemany(self._read, [(seq, c, seq, u, c, u) for (c, u), seq in self.read.items()])
        self.clear()
