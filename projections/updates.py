"""How each domain event changes the read models. Runs inside the projector's batch transaction."""

import json
from collections.abc import Callable
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from domain.blocks import Block
from domain.connections import CONNECTED, DECLINED, PENDING, REMOVED, Connection
from domain.conversations import GROUP, Conversation
from domain.personal_data import credentials_before
from domain.uploads import Upload
from domain.users import DELETED_NAME, User
from projections import shapes
from projections.changes import (
    Change,
    ConnectionChanged,
    ConversationChanged,
    Departed,
    MarkerMoved,
    MessageAdded,
    MessageUpdated,
    ReactionsChanged,
)
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
        # Edits, deletions and reactions of a set loaded bare (no index on message ids yet: tables.py) wait for its
        # indexes (apply_deferred), then apply in log order before the counts are recounted.
        self.deferred: list[Any] = []
        # Messages whose uploads were attached (UploadAttached comes before its MessageSent in the log).
        self.attached: set[str] = set()
        # Subjects whose personal data the batch's events removed from the read models: the projector
        # destroys their keys in the batch's transaction (domain/personal_data.py, infrastructure/sealing.py).
        self.shredded: list[UUID] = []
        self.searched_out = False  # text left the search index (its engine may keep traces: ports.py)

    @classmethod
    def topics(cls) -> list[str]:
        """The topics of the events that change a read model: the only ones the projector reads."""
        registry = cls.__dict__["_apply"].dispatcher.registry
        events = [kind for kind in registry if kind not in (object, MessageRow, ReceiptRow)]
        return topics_of([*events, *ROWS_FROM_EVENTS])

    def apply_batch(
        self, events: list[Any], cur: SqlCursor, members: list[dict[str, Any]] | None = None
    ) -> list[Change]:
        """Apply a batch of events (messages and receipts as rows: projections/event_rows.py).
        `members`: the rows of `touched_conversations(events)` read already (FoldedWrites.load_statement)."""
        if members is not None:
            self.writes.take(members)
        else:
            self.writes.load(cur, self.touched_conversations(events))
        changes: list[Change] = []
        try:
            for event in events:
                if type(event) in FLUSHED_OR_DEFERRED:  # (one set lookup for the rest of the log)
                    if type(event) in AFTER_INDEXES and not self.writes.count_unread:
                        self.deferred.append(event)
                        continue
                    if type(event) in MESSAGE_CHANGES:
                        self.writes.flush(cur)  # the batch's messages so far are in the table, counted
                changes += self.apply(event, cur)
            self.writes.flush(cur)
        finally:
            self.writes.clear()
        return changes

    @staticmethod
    def touched_conversations(events: list[Any]) -> list[str]:
        """The conversations whose members a batch's messages and receipts change."""
        touched = (MessageRow, ReceiptRow)
        return list(dict.fromkeys(e.conversation_id for e in events if type(e) in touched))

    def apply_deferred(self, cur: SqlCursor) -> None:
        """The changes to messages of a set loaded bare, once it is indexed (before its counts are counted)."""
        report, self.report = self.report, False
        try:
            for event in self.deferred:
                self.apply(event, cur)
        finally:
            self.report = report
            self.deferred = []

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
        """(Names read back as None once the account is erased: its UserErased follows.)"""
        cur.execute(
            f"INSERT INTO {self.p}users (id, username, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
            (
                str(event.originator_id),
                event.username,
                event.display_name or DELETED_NAME,
                event.password_hash,
                iso(event.timestamp),
            ),
        )
        return []

    @_apply.register
    def _password_changed(self, event: User.PasswordChanged, cur: SqlCursor) -> list[Change]:
        """The hashes set before are no longer needed by anyone: their keys go."""
        cur.execute(
            f"UPDATE {self.p}users SET password_hash = ? WHERE id = ?", (event.password_hash, str(event.originator_id))
        )
        self.shredded += credentials_before(event.originator_id, event.originator_version)
        return []

    @_apply.register
    def _user_erased(self, event: User.UserErased, cur: SqlCursor) -> list[Change]:
        """The account as everyone sees it from now on (contract section 11); the keys of its names, of
        every password hash and of its uploads go (its messages went with their MessageDeleted)."""
        user_id = str(event.originator_id)
        cur.execute(
            f"UPDATE {self.p}users SET username = NULL, display_name = ?, password_hash = NULL, deleted = 1 WHERE id = ?",
            (DELETED_NAME, user_id),
        )
        uploads = cur.execute(f"SELECT id FROM {self.p}attachments WHERE uploader_id = ?", (user_id,)).fetchall()
        cur.execute(f"DELETE FROM {self.p}attachments WHERE uploader_id = ?", (user_id,))
        self.shredded += [event.originator_id, *credentials_before(event.originator_id, event.originator_version)]
        self.shredded += [UUID(row["id"]) for row in uploads]
        if not self.report:
            return []
        rows = cur.execute(f"SELECT conversation_id FROM {self.p}members WHERE user_id = ?", (user_id,)).fetchall()
        return [ConversationChanged(row["conversation_id"]) for row in rows]

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
        owner = str(event.started_by) if event.kind == GROUP else None
        cur.executemany(
            f"INSERT INTO {self.p}members (conversation_id, user_id, activity_at, role) VALUES (?, ?, ?, ?)",
            [
                (conversation_id, str(member_id), at, "owner" if str(member_id) == owner else "member")
                for member_id in event.member_ids
            ],
        )
        cur.executemany(
            f"INSERT INTO {self.p}member_periods (conversation_id, user_id, from_seq, to_seq) VALUES (?, ?, 1, NULL)",
            [(conversation_id, str(member_id)) for member_id in event.member_ids],
        )
        self.writes.started(conversation_id, [str(member_id) for member_id in event.member_ids])
        return [ConversationChanged(conversation_id)]

    @_apply.register
    def _message_sent(self, row: MessageRow, cur: SqlCursor) -> list[Change]:
        self.writes.message(row)
        attachments = row.id in self.attached
        self.attached.discard(row.id)
        if not self.report:
            return []
        return [
            MessageAdded(message(row._asdict(), "sent"), row.reply_to, attachments),
            ConversationChanged(row.conversation_id),
        ]

    @_apply.register
    def _upload_stored(self, event: Upload.UploadStored, cur: SqlCursor) -> list[Change]:
        """(The name and digests read back as None once erased: the row goes again further on.)"""
        cur.execute(
            f"INSERT INTO {self.p}attachments (id, uploader_id, filename, content_type, size, sha256, width, height, "
            "thumbnail_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(event.originator_id),
                str(event.uploader_id),
                event.filename or "",
                event.content_type,
                event.size,
                event.sha256 or "",
                event.width,
                event.height,
                event.thumbnail_sha256,
                iso(event.timestamp),
            ),
        )
        return []

    @_apply.register
    def _upload_attached(self, event: Upload.UploadAttached, cur: SqlCursor) -> list[Change]:
        cur.execute(
            f"UPDATE {self.p}attachments SET conversation_id = ?, message_id = ?, position = ? WHERE id = ?",
            (str(event.conversation_id), str(event.message_id), event.position, str(event.originator_id)),
        )
        self.attached.add(str(event.message_id))
        return []

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

    # -- what happens to a message after it is sent ---------------------------------------------------
    def _message_row(self, cur: SqlCursor, message_id: str) -> dict[str, Any] | None:
        return cur.execute(
            f"SELECT id, conversation_id, seq, sender_id, body, sent_at, edited_at, mentions, deleted "
            f"FROM {self.p}messages WHERE id = ?",
            (message_id,),
        ).fetchone()

    def _unread_members(self, cur: SqlCursor, row: dict[str, Any]) -> list[str]:
        """The members other than its sender who have not read the message (it counts for them)."""
        members = cur.execute(
            f"SELECT user_id FROM {self.p}members WHERE conversation_id = ? AND last_read_seq < ? AND user_id <> ? "
            "AND from_seq <= ? AND (visible_to IS NULL OR visible_to >= ?)",
            (row["conversation_id"], row["seq"], row["sender_id"], row["seq"], row["seq"]),
        ).fetchall()
        return [m["user_id"] for m in members]

    def _count(self, cur: SqlCursor, column: str, conversation_id: str, user_ids: list[str], delta: int) -> None:
        if user_ids and self.writes.count_unread:
            cur.executemany(
                f"UPDATE {self.p}members SET {column} = {column} + ? WHERE conversation_id = ? AND user_id = ?",
                [(delta, conversation_id, user_id) for user_id in user_ids],
            )

    def _viewers(self, cur: SqlCursor, row: dict[str, Any], changed: list[str]) -> tuple[str, ...] | None:
        """Whose view of the conversation an edit or deletion changed: everyone's when it is the last
        message, else only those whose counts moved."""
        last = cur.execute(
            f"SELECT last_message_id FROM {self.p}conversations WHERE id = ?", (row["conversation_id"],)
        ).fetchone()
        if last is not None and last["last_message_id"] == row["id"]:
            return None
        return tuple(dict.fromkeys(changed))

    def _message_changes(self, row: dict[str, Any], viewers: tuple[str, ...] | None) -> list[Change]:
        changes: list[Change] = [MessageUpdated(row["conversation_id"], row["id"])]
        if viewers is None or viewers:
            changes.append(ConversationChanged(row["conversation_id"], viewers))
        return changes

    @_apply.register
    def _message_edited(self, event: Conversation.MessageEdited, cur: SqlCursor) -> list[Change]:
        """The text replaced; the version it replaces kept (get_message_edits); mention counts follow."""
        row = self._message_row(cur, str(event.message_id))
        if row is None or row["deleted"] or event.body is None:  # None: deleted since (its key is gone)
            return []
        cur.execute(
            f"INSERT INTO {self.p}message_edits (message_id, version, body, at) VALUES (?, ?, ?, ?)",
            (row["id"], event.originator_version, row["body"], row["edited_at"] or row["sent_at"]),
        )
        mentions = [str(u) for u in event.mentions]
        cur.execute(
            f"UPDATE {self.p}messages SET body = ?, edited_at = ?, mentions = ? WHERE id = ?",
            (event.body, iso(event.timestamp), " ".join(mentions), row["id"]),
        )
        cur.search.replace(cur, self.p, row["id"], event.body, row["sent_at"])
        before = set(row["mentions"].split()) if row["mentions"] else set()
        unread = self._unread_members(cur, row)
        gained = [u for u in unread if u in mentions and u not in before]
        lost = [u for u in unread if u in before and u not in mentions]
        self._count(cur, "mention_count", row["conversation_id"], gained, 1)
        self._count(cur, "mention_count", row["conversation_id"], lost, -1)
        if not self.report:
            return []
        return self._message_changes(row, self._viewers(cur, row, gained + lost))

    @_apply.register
    def _message_deleted(self, event: Conversation.MessageDeleted, cur: SqlCursor) -> list[Change]:
        """A tombstone: the text, its earlier versions, mentions, quote and reactions gone from the read
        models; it stops counting as unread or as a mention. The keys of its text and of its attachments'
        names go, so no copy in the log can be read again."""
        attachments = cur.execute(
            f"SELECT id FROM {self.p}attachments WHERE message_id = ?", (str(event.message_id),)
        ).fetchall()
        self.shredded += [event.message_id, *(UUID(a["id"]) for a in attachments)]
        row = self._message_row(cur, str(event.message_id))
        if row is None or row["deleted"]:
            return []
        cur.execute(
            f"UPDATE {self.p}messages SET body = '', edited_at = NULL, reply_to = NULL, mentions = '', deleted = 1 "
            "WHERE id = ?",
            (row["id"],),
        )
        cur.execute(f"DELETE FROM {self.p}message_edits WHERE message_id = ?", (row["id"],))
        cur.execute(f"DELETE FROM {self.p}reactions WHERE message_id = ?", (row["id"],))
        cur.execute(f"DELETE FROM {self.p}attachments WHERE message_id = ?", (row["id"],))  # bytes: the sweep
        cur.search.remove(cur, self.p, row["id"], row["sent_at"])
        self.searched_out = True
        unread = self._unread_members(cur, row)
        mentioned = [u for u in unread if u in (row["mentions"] or "").split()]
        self._count(cur, "unread_count", row["conversation_id"], unread, -1)
        self._count(cur, "mention_count", row["conversation_id"], mentioned, -1)
        if not self.report:
            return []
        return self._message_changes(row, self._viewers(cur, row, unread))

    @_apply.register
    def _reaction_added(self, event: Conversation.ReactionAdded, cur: SqlCursor) -> list[Change]:
        """Emoji in the order each first appeared (since it last had no reaction), users in reacting order."""
        message_id, emoji = str(event.message_id), event.emoji
        first = cur.execute(
            f"SELECT emoji_position FROM {self.p}reactions WHERE message_id = ? AND emoji = ? LIMIT 1",
            (message_id, emoji),
        ).fetchone()
        position = event.originator_version
        cur.execute(
            f"INSERT INTO {self.p}reactions (message_id, emoji, user_id, emoji_position, position) "
            "VALUES (?, ?, ?, ?, ?)",
            (message_id, emoji, str(event.user_id), first["emoji_position"] if first else position, position),
        )
        return [ReactionsChanged(str(event.originator_id), message_id)] if self.report else []

    @_apply.register
    def _reaction_removed(self, event: Conversation.ReactionRemoved, cur: SqlCursor) -> list[Change]:
        message_id = str(event.message_id)
        cur.execute(
            f"DELETE FROM {self.p}reactions WHERE message_id = ? AND emoji = ? AND user_id = ?",
            (message_id, event.emoji, str(event.user_id)),
        )
        return [ReactionsChanged(str(event.originator_id), message_id)] if self.report else []

    # -- groups: membership, title, roles, mutes (contract sections 7-8) -----------------------------
    def _system_message(
        self, event: Any, cur: SqlCursor, kind: str, actor_id: Any, user_ids: list[Any], **extra: Any
    ) -> list[Change]:
        """A system message with its own seq: the conversation's last message, the members' activity."""
        conversation_id, at = str(event.originator_id), iso(event.timestamp)
        system = shapes.system_change(
            kind, str(actor_id), [str(u) for u in user_ids], extra.get("title"), extra.get("role")
        )
        row = {
            "id": str(event.message_id),
            "conversation_id": conversation_id,
            "seq": event.seq,
            "sender_id": str(actor_id),
            "body": "",
            "client_message_id": str(event.message_id),
            "sent_at": at,
            "kind": "system",
            "system": json.dumps(system),
        }
        cur.execute(
            f"INSERT INTO {self.p}messages (id, conversation_id, seq, sender_id, body, client_message_id, sent_at, "
            "kind, system) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            tuple(row.values()),
        )
        cur.execute(
            f"UPDATE {self.p}conversations SET last_seq = ?, last_message_id = ?, last_message_at = ? WHERE id = ?",
            (event.seq, row["id"], at, conversation_id),
        )
        cur.execute(
            f"UPDATE {self.p}members SET activity_at = ? WHERE conversation_id = ? AND visible_to IS NULL",
            (at, conversation_id),
        )
        if not self.report:
            return []
        return [MessageAdded(shapes.message(row, "sent")), ConversationChanged(conversation_id)]

    @_apply.register
    def _members_added(self, event: Conversation.MembersAdded, cur: SqlCursor) -> list[Change]:
        conversation_id, at, seq = str(event.originator_id), iso(event.timestamp), event.seq
        for user_id in (str(u) for u in event.user_ids):
            found = cur.execute(
                f"SELECT user_id FROM {self.p}members WHERE conversation_id = ? AND user_id = ?",
                (conversation_id, user_id),
            ).fetchone()
            if found is None:
                cur.execute(
                    f"INSERT INTO {self.p}members (conversation_id, user_id, activity_at, role, from_seq, "
                    "last_delivered_seq, last_read_seq) VALUES (?, ?, ?, 'member', ?, ?, ?)",
                    (conversation_id, user_id, at, seq, seq - 1, seq - 1),
                )
            else:  # added again: a new period; markers start just below it, nothing before it unread
                cur.execute(
                    f"UPDATE {self.p}members SET role = 'member', from_seq = ?, visible_to = NULL, "
                    "last_delivered_seq = ?, last_read_seq = ?, unread_count = 0, mention_count = 0 "
                    "WHERE conversation_id = ? AND user_id = ?",
                    (seq, seq - 1, seq - 1, conversation_id, user_id),
                )
            cur.execute(
                f"INSERT INTO {self.p}member_periods (conversation_id, user_id, from_seq, to_seq) VALUES (?, ?, ?, NULL)",
                (conversation_id, user_id, seq),
            )
            self.writes.joined(conversation_id, user_id, seq)
        return self._system_message(event, cur, "member_added", event.actor_id, list(event.user_ids))

    def _end_period(self, event: Any, cur: SqlCursor, user_id: str) -> None:
        """Their period ends at `seq`; their list keeps the conversation as it was (title, members)."""
        conversation_id = str(event.originator_id)
        title = cur.execute(f"SELECT title FROM {self.p}conversations WHERE id = ?", (conversation_id,)).fetchone()
        staying = cur.execute(
            f"SELECT user_id FROM {self.p}members WHERE conversation_id = ? AND visible_to IS NULL AND user_id <> ?",
            (conversation_id, user_id),
        ).fetchall()
        cur.execute(
            f"UPDATE {self.p}members SET visible_to = ?, left_title = ?, left_members = ? "
            "WHERE conversation_id = ? AND user_id = ?",
            (
                event.seq,
                title["title"] if title else None,
                " ".join(r["user_id"] for r in staying),
                conversation_id,
                user_id,
            ),
        )
        cur.execute(
            f"UPDATE {self.p}member_periods SET to_seq = ? WHERE conversation_id = ? AND user_id = ? AND to_seq IS NULL",
            (event.seq, conversation_id, user_id),
        )
        self.writes.departed(conversation_id, user_id)

    @_apply.register
    def _member_removed(self, event: Conversation.MemberRemoved, cur: SqlCursor) -> list[Change]:
        self._end_period(event, cur, str(event.user_id))
        changes = self._system_message(event, cur, "member_removed", event.actor_id, [event.user_id])
        return [*changes, Departed(str(event.originator_id), str(event.user_id))] if self.report else []

    @_apply.register
    def _member_left(self, event: Conversation.MemberLeft, cur: SqlCursor) -> list[Change]:
        self._end_period(event, cur, str(event.user_id))
        changes = self._system_message(event, cur, "member_left", event.user_id, [event.user_id])
        return [*changes, Departed(str(event.originator_id), str(event.user_id))] if self.report else []

    @_apply.register
    def _renamed(self, event: Conversation.ConversationRenamed, cur: SqlCursor) -> list[Change]:
        cur.execute(f"UPDATE {self.p}conversations SET title = ? WHERE id = ?", (event.title, str(event.originator_id)))
        return self._system_message(event, cur, "renamed", event.actor_id, [], title=event.title)

    @_apply.register
    def _role_changed(self, event: Conversation.MemberRoleChanged, cur: SqlCursor) -> list[Change]:
        cur.execute(
            f"UPDATE {self.p}members SET role = ? WHERE conversation_id = ? AND user_id = ?",
            (event.role, str(event.originator_id), str(event.user_id)),
        )
        return self._system_message(event, cur, "role_changed", event.actor_id, [event.user_id], role=event.role)

    @_apply.register
    def _mute_set(self, event: Conversation.MuteSet, cur: SqlCursor) -> list[Change]:
        conversation_id, user_id = str(event.originator_id), str(event.user_id)
        cur.execute(
            f"UPDATE {self.p}members SET muted_until = ? WHERE conversation_id = ? AND user_id = ?",
            (event.until, conversation_id, user_id),
        )
        return [ConversationChanged(conversation_id, (user_id,))] if self.report else []

    # -- blocks (contract section 8) ----------------------------------------------------------------
    @_apply.register
    def _user_blocked(self, event: Block.UserBlocked, cur: SqlCursor) -> list[Change]:
        self._block(cur, str(event.blocker_id), str(event.blocked_id), iso(event.timestamp))
        return []

    @_apply.register
    def _user_blocked_again(self, event: Block.UserBlockedAgain, cur: SqlCursor) -> list[Change]:
        self._block(cur, str(event.blocker_id), str(event.blocked_id), iso(event.timestamp))
        return []

    @_apply.register
    def _user_unblocked(self, event: Block.UserUnblocked, cur: SqlCursor) -> list[Change]:
        cur.execute(
            f"DELETE FROM {self.p}blocks WHERE blocker_id = ? AND blocked_id = ?",
            (str(event.blocker_id), str(event.blocked_id)),
        )
        return []

    def _block(self, cur: SqlCursor, blocker_id: str, blocked_id: str, at: str) -> None:
        """One row per block in force; `position` orders the list most recent first (the clock may tie)."""
        latest = cur.execute(f"SELECT MAX(position) AS p FROM {self.p}blocks").fetchone()
        position = int(latest["p"]) + 1 if latest is not None and latest["p"] is not None else 0
        cur.execute(
            f"INSERT INTO {self.p}blocks (blocker_id, blocked_id, blocked_at, position) VALUES (?, ?, ?, ?)",
            (blocker_id, blocked_id, at, position),
        )


SYSTEM_CHANGES = frozenset(
    {
        Conversation.MembersAdded,
        Conversation.MemberRemoved,
        Conversation.MemberLeft,
        Conversation.ConversationRenamed,
        Conversation.MemberRoleChanged,
    }
)
MESSAGE_CHANGES = frozenset({Conversation.MessageEdited, Conversation.MessageDeleted}) | SYSTEM_CHANGES
"""Events that change a message row (or append a system message): the batch's folded writes are
flushed before each (its message may be in them)."""
AFTER_INDEXES = frozenset(
    {Conversation.MessageEdited, Conversation.MessageDeleted, Conversation.ReactionAdded, Conversation.ReactionRemoved}
)
"""Events deferred while a set is loaded bare (they need its indexes)."""
FLUSHED_OR_DEFERRED = MESSAGE_CHANGES | AFTER_INDEXES
"""Events that look rows up by message id: in a set loaded bare they wait for its indexes."""
