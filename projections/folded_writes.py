"""The conversation writes of one projector batch, folded into a few statements.

Messages and receipts are most of the log. Within a batch they are collected here and written at its
end, however they interleave: one insert of every message row (COPY on PostgreSQL); one set-based
update of each conversation's last message; one set-based update of every member the batch touched,
each member's row changed once (activity, unread count grown by the others' messages, delivery and
read markers; for a member who read, the unread count recounted after all of the batch's messages are
in). The result equals applying the events one by one, in log order (tests/integration/test_rebuild.py
and test_unread_property.py check it).

Members and their delivery markers are loaded once per batch for the conversations it touches and
tracked in memory through it, so each receipt still reports whether it moved a marker.
"""

from typing import Any

from projections.event_rows import MessageRow
from projections.ports import SqlCursor

Member = tuple[str, str]  # (conversation id, user id)
LOAD_CHUNK = 500


class FoldedWrites:
    def __init__(self, prefix: str) -> None:
        p = prefix
        self.p = p
        members = f"{p}members"
        # One set-based statement per table per batch (sql.execute_values), not one per row or per kind
        # of change: each row changes once a batch (on PostgreSQL, one new row version, not four).
        self._touch_conversations = (
            f"UPDATE {p}conversations SET last_seq = v.column1, last_message_id = v.column2, "
            f"last_message_at = v.column3 FROM (VALUES) AS v WHERE {p}conversations.id = v.column4"
        )
        self._members_row = ("text", "bigint", "bigint", "bigint", "text", "text", "bigint")
        unread_after = (  # the others' messages after a read marker, not deleted: the unread count, recounted
            f"(SELECT COUNT(*) FROM {p}messages AS m WHERE m.conversation_id = {{member}}.conversation_id "
            "AND m.seq > {read} AND m.sender_id <> {member}.user_id AND m.deleted = 0 AND m.kind = 'text' "
            "AND m.seq <= COALESCE({member}.visible_to, m.seq){mentioning})"
        )
        # "mentions holds the member's id" in SQL both engines share (no LIKE: a literal % is a psycopg
        # placeholder); ids are UUIDs, so a match is the id itself.
        mentioning = " AND LENGTH(REPLACE(m.mentions, {member}.user_id, '')) < LENGTH(m.mentions)"
        touch_members = (  # v: activity_at, unread delta, delivered, read (NULL: unchanged), member, mention delta
            f"UPDATE {members} SET activity_at = COALESCE(v.column1, activity_at), "
            "last_delivered_seq = CASE WHEN v.column3 > last_delivered_seq THEN v.column3 ELSE last_delivered_seq END, "
            "last_read_seq = COALESCE(v.column4, last_read_seq){unread} "
            f"FROM (VALUES) AS v WHERE {members}.conversation_id = v.column5 AND {members}.user_id = v.column6"
        )

        def recount(member: str, read: str, mentions: bool) -> str:
            return unread_after.format(
                member=member, read=read, mentioning=mentioning.format(member=member) if mentions else ""
            )

        self._touch_members = touch_members.format(
            unread=(
                ", unread_count = CASE WHEN v.column4 IS NULL THEN unread_count + v.column2 ELSE "
                f"{recount(members, 'v.column4', False)} END"
                ", mention_count = CASE WHEN v.column4 IS NULL THEN mention_count + v.column7 ELSE "
                f"{recount(members, 'v.column4', True)} END"
            )
        )
        self._touch_members_only = touch_members.format(unread="")
        read_seq = f"{members}.last_read_seq"
        self._recount_unread = (
            f"UPDATE {members} SET unread_count = {recount(members, read_seq, False)}, "
            f"mention_count = {recount(members, read_seq, True)}"
        )
        # Whether each batch keeps unread counts: a set loaded without indexes (tables.py) leaves them
        # to one recount of every member once it is indexed (recount_unread).
        self.count_unread = True
        self.clear()

    def clear(self) -> None:
        self.messages: list[MessageRow] = []
        self.delivered: dict[Member, int] = {}  # markers as of the last event applied (loaded or moved)
        self.members: dict[str, list[str]] = {}  # conversation -> its members (loaded or started)
        self.moved: dict[Member, int] = {}  # delivery markers this batch moved, to write
        self.read: dict[Member, int] = {}  # read markers this batch set, to write

    def load(self, cur: SqlCursor, conversation_ids: list[str]) -> None:
        """Read the members and their delivery markers of the conversations the batch touches."""
        for i in range(0, len(conversation_ids), LOAD_CHUNK):
            self.take(cur.execute(*self.load_statement(conversation_ids[i : i + LOAD_CHUNK])).fetchall())

    def load_statement(self, conversation_ids: list[str]) -> tuple[str, list[str]]:
        """The query `load` runs for (at most LOAD_CHUNK) conversations, for a caller that runs it
        earlier (projections/in_save.py), and gives its rows to `take`."""
        return (
            f"SELECT conversation_id, user_id, last_delivered_seq FROM {self.p}members "
            f"WHERE conversation_id IN ({', '.join('?' * len(conversation_ids))}) AND visible_to IS NULL",
            conversation_ids,
        )

    def take(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.delivered[(row["conversation_id"], row["user_id"])] = int(row["last_delivered_seq"])
            self.members.setdefault(row["conversation_id"], []).append(row["user_id"])

    def started(self, conversation_id: str, member_ids: list[str]) -> None:
        self.members[conversation_id] = list(member_ids)
        for user_id in member_ids:
            self.delivered[(conversation_id, user_id)] = 0

    def joined(self, conversation_id: str, user_id: str, seq: int) -> None:
        """A member added at `seq` (their markers start just below it), if the batch tracks the conversation."""
        if conversation_id in self.members and user_id not in self.members[conversation_id]:
            self.members[conversation_id].append(user_id)
            self.delivered[(conversation_id, user_id)] = seq - 1

    def departed(self, conversation_id: str, user_id: str) -> None:
        """A member removed or gone: the conversation's later messages are not theirs to count."""
        if user_id in self.members.get(conversation_id, []):
            self.members[conversation_id].remove(user_id)

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
        """Every message row; each conversation's last message; and for each member touched, in one
        row: activity (their conversation's last message), unread grown by the others' messages,
        delivery and read markers. A member who read gets an unread count recounted after all of the
        batch's messages are in."""
        rows = self.messages
        last: dict[str, MessageRow] = {}  # conversation -> its last message in the batch
        sent: dict[str, int] = {}  # conversation -> messages in the batch
        own: dict[Member, int] = {}  # (conversation, sender) -> their messages in the batch
        mentioned: dict[Member, int] = {}  # (conversation, member) -> messages in the batch mentioning them
        for row in rows:
            conversation, sender = row[1], row[3]
            last[conversation] = row
            sent[conversation] = sent.get(conversation, 0) + 1
            own[(conversation, sender)] = own.get((conversation, sender), 0) + 1
            if row.mentions:
                for user_id in row.mentions.split(" "):
                    mentioned[(conversation, user_id)] = mentioned.get((conversation, user_id), 0) + 1
        if rows:
            cur.insert_many(f"{self.p}messages", MessageRow._fields, rows)
            cur.search.add(cur, self.p, [(r.id, r.conversation_id, r.sent_at, r.body) for r in rows])
            cur.execute_values(
                self._touch_conversations,
                ("bigint", "text", "text", "text"),
                [(r.seq, r.id, r.sent_at, c) for c, r in last.items()],
            )
        touched = dict.fromkeys([(c, u) for c in last for u in self.members[c]])
        touched.update(dict.fromkeys([*self.moved, *self.read]))
        statement = self._touch_members if self.count_unread else self._touch_members_only
        cur.execute_values(
            statement,
            self._members_row,
            [
                (
                    last[c].sent_at if c in last else None,
                    sent.get(c, 0) - own.get((c, u), 0),
                    self.moved.get((c, u)),
                    self.read.get((c, u)),
                    c,
                    u,
                    mentioned.get((c, u), 0),
                )
                for c, u in touched
            ],
        )
        self.messages = []  # what is loaded and tracked stays: a batch may flush more than once
        self.moved = {}
        self.read = {}

    def recount_unread(self, cur: SqlCursor) -> None:
        """Every member's unread and mention counts, counted afresh from the messages (for a set loaded with
        `count_unread` off; it needs the (conversation_id, seq) index)."""
        cur.execute(self._recount_unread)
        self.count_unread = True
