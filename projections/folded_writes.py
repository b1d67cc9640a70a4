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
MEMBER_SEQ = "(CAST(? AS BIGINT), ?, ?)"  # a number, a conversation id, a user id
LOAD_CHUNK = 500


class FoldedWrites:
    def __init__(self, prefix: str) -> None:
        p = prefix
        self.p = p
        members = f"{p}members"
        # One set-based statement per kind of change per batch (sql.execute_values), not one per row.
        self._touch_conversation = (
            f"UPDATE {p}conversations SET last_seq = v.column1, last_message_id = v.column2, "
            f"last_message_at = v.column3 FROM (VALUES) AS v WHERE {p}conversations.id = v.column4"
        )
        self._touch_members = (
            f"UPDATE {members} SET activity_at = v.column1, unread_count = unread_count + v.column2 "
            f"FROM (VALUES) AS v WHERE {members}.conversation_id = v.column3"
        )
        self._unread_own = (  # a sender's own messages are not unread for them
            f"UPDATE {members} SET unread_count = unread_count - v.column1 FROM (VALUES) AS v "
            f"WHERE {members}.conversation_id = v.column2 AND {members}.user_id = v.column3"
        )
        self._deliver = (
            f"UPDATE {members} SET last_delivered_seq = v.column1 FROM (VALUES) AS v "
            f"WHERE {members}.conversation_id = v.column2 AND {members}.user_id = v.column3 "
            f"AND {members}.last_delivered_seq < v.column1"
        )
        self._read = (
            f"UPDATE {members} SET last_read_seq = v.column1, unread_count = (SELECT COUNT(*) FROM {p}messages AS m "
            "WHERE m.conversation_id = v.column2 AND m.seq > v.column1 AND m.sender_id <> v.column3) "
            f"FROM (VALUES) AS v WHERE {members}.conversation_id = v.column2 AND {members}.user_id = v.column3"
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
            cur.insert_many(f"{self.p}messages", MessageRow._fields, rows)
            last: dict[str, tuple[Any, ...]] = {}  # conversation -> its last message in the batch
            sent: dict[str, int] = {}  # conversation -> messages in the batch
            own: dict[Member, int] = {}  # (conversation, sender) -> their messages in the batch
            for row in rows:
                conversation, sender = row[1], row[3]
                last[conversation] = row
                sent[conversation] = sent.get(conversation, 0) + 1
                own[(conversation, sender)] = own.get((conversation, sender), 0) + 1
            cur.execute_values(self._touch_conversation, "(CAST(? AS BIGINT), ?, ?, ?)",
                               [(r[2], r[0], r[6], c) for c, r in last.items()])
            cur.execute_values(self._touch_members, "(?, CAST(? AS BIGINT), ?)", [(last[c][6], n, c) for c, n in sent.items()])
            cur.execute_values(self._unread_own, MEMBER_SEQ, [(n, c, sender) for (c, sender), n in own.items()])
        if self.moved:
            cur.execute_values(self._deliver, MEMBER_SEQ, [(seq, c, u) for (c, u), seq in self.moved.items()])
        if self.read:  # after every message of the batch is in: the recount sees them all
            cur.execute_values(self._read, MEMBER_SEQ, [(seq, c, u) for (c, u), seq in self.read.items()])
        self.clear()
