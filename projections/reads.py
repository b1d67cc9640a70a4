"""Queries of the read-model tables, answering in the contract's shapes. Never touches the events."""

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from projections import shapes
from projections.ports import AttachmentUrls, SqlCursor
from projections.shapes import (
    Attachment,
    Connection,
    ConversationSummary,
    Message,
    MessageVersion,
    Quote,
    Reaction,
    Row,
    User,
)

IsOnline = Callable[[list[str]], set[str]]


class InvalidCursor(ValueError):
    pass


Decorations = tuple[dict[str, Quote], dict[str, list[Reaction]], dict[str, list[Attachment]]]


class ReadModelReads:
    def __init__(self, prefix: str, urls: AttachmentUrls | None = None) -> None:
        self.p = prefix
        self.urls = urls  # signs attachment paths; without it (a rebuild's reads) messages show none
        p = prefix
        self._connection_select = (
            f"SELECT c.id, c.status, c.created_at, c.updated_at, "
            f"r.id AS requester_id, r.username AS requester_username, r.display_name AS requester_display_name, "
            f"r.created_at AS requester_created_at, r.deleted AS requester_deleted, a.id AS addressee_id, "
            f"a.username AS addressee_username, a.display_name AS addressee_display_name, "
            f"a.created_at AS addressee_created_at, a.deleted AS addressee_deleted "
            f"FROM {p}connections c JOIN {p}users r ON r.id = c.requester_id JOIN {p}users a ON a.id = c.addressee_id"
        )

    # -- users ------------------------------------------------------------------------------------
    def user(self, cur: SqlCursor, user_id: str) -> User | None:
        row = cur.execute(f"SELECT * FROM {self.p}users WHERE id = ?", (user_id,)).fetchone()
        return shapes.user(row) if row else None

    def credentials(self, cur: SqlCursor, username: str) -> tuple[User, str] | None:
        row = cur.execute(f"SELECT * FROM {self.p}users WHERE username = ?", (username,)).fetchone()
        return (shapes.user(row), row["password_hash"]) if row else None

    def search_users(self, cur: SqlCursor, prefix: str, exclude_id: str, limit: int = 20) -> list[User]:
        """By username prefix, leaving out the caller and whoever blocks them."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = cur.execute(
            f"SELECT * FROM {self.p}users WHERE username LIKE ? ESCAPE '\\' AND id <> ? "
            f"AND id NOT IN (SELECT blocker_id FROM {self.p}blocks WHERE blocked_id = ?) ORDER BY username LIMIT ?",
            (pattern, exclude_id, exclude_id, limit),
        ).fetchall()
        return [shapes.user(row) for row in rows]

    def blocked_users(self, cur: SqlCursor, user_id: str) -> list[User]:
        """Whom the user blocks, most recently blocked first."""
        rows = cur.execute(
            f"SELECT u.* FROM {self.p}blocks b JOIN {self.p}users u ON u.id = b.blocked_id WHERE b.blocker_id = ? "
            "ORDER BY b.position DESC",
            (user_id,),
        ).fetchall()
        return [shapes.user(row) for row in rows]

    def _blocked_pairs(self, cur: SqlCursor, user_ids: list[str]) -> dict[str, set[str]]:
        """user -> those of `user_ids` they block or are blocked by (presence is hidden both ways)."""
        if not user_ids:
            return {}
        marks = ", ".join("?" for _ in user_ids)
        rows = cur.execute(
            f"SELECT blocker_id, blocked_id FROM {self.p}blocks WHERE blocker_id IN ({marks}) "
            f"AND blocked_id IN ({marks})",
            (*user_ids, *user_ids),
        ).fetchall()
        hidden: dict[str, set[str]] = {}
        for row in rows:
            hidden.setdefault(row["blocker_id"], set()).add(row["blocked_id"])
            hidden.setdefault(row["blocked_id"], set()).add(row["blocker_id"])
        return hidden

    # -- connections ------------------------------------------------------------------------------
    def connection(self, cur: SqlCursor, connection_id: str) -> Connection | None:
        row = cur.execute(f"{self._connection_select} WHERE c.id = ?", (connection_id,)).fetchone()
        return shapes.connection(row) if row else None

    def connections_of(self, cur: SqlCursor, user_id: str) -> list[Connection]:
        rows = cur.execute(
            f"{self._connection_select} WHERE c.requester_id = ? OR c.addressee_id = ? ORDER BY c.updated_at DESC",
            (user_id, user_id),
        ).fetchall()
        return [shapes.connection(row) for row in rows]

    def connected_user_ids(self, cur: SqlCursor, user_id: str) -> list[str]:
        rows = cur.execute(
            f"SELECT CASE WHEN requester_id = ? THEN addressee_id ELSE requester_id END AS other "
            f"FROM {self.p}connections WHERE (requester_id = ? OR addressee_id = ?) AND status = 'connected'",
            (user_id, user_id, user_id),
        ).fetchall()
        return [r["other"] for r in rows]

    def existing_user_ids(self, cur: SqlCursor, user_ids: list[str]) -> set[str]:
        """Which of these users exist (one statement per 500)."""
        return self._existing(cur, "users", user_ids)

    def _existing(self, cur: SqlCursor, table: str, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for part in chunks(ids):
            marks = ", ".join("?" for _ in part)
            rows = cur.execute(f"SELECT id FROM {self.p}{table} WHERE id IN ({marks})", part).fetchall()
            found.update(r["id"] for r in rows)
        return found

    def connected_user_ids_of(self, cur: SqlCursor, user_ids: list[str]) -> dict[str, list[str]]:
        """`connected_user_ids` of many users at once: {user: their connected users} (those with none
        are left out)."""
        found: dict[str, list[str]] = {}
        wanted = set(user_ids)
        for part in chunks(user_ids):
            marks = ", ".join("?" for _ in part)
            rows = cur.execute(
                f"SELECT requester_id, addressee_id FROM {self.p}connections WHERE status = 'connected' "
                f"AND (requester_id IN ({marks}) OR addressee_id IN ({marks}))",
                (*part, *part),
            ).fetchall()
            for r in rows:
                a, b = r["requester_id"], r["addressee_id"]
                if a in wanted:
                    found.setdefault(a, []).append(b)
                if b in wanted:
                    found.setdefault(b, []).append(a)
        return {u: list(dict.fromkeys(others)) for u, others in found.items()}

    def unread_totals(self, cur: SqlCursor, user_id: str, now: str) -> tuple[int, int]:
        row = cur.execute(
            f"SELECT COALESCE(SUM(CASE WHEN muted_until IS NULL OR muted_until <= ? THEN unread_count ELSE 0 END), 0) "
            f"AS unread, COALESCE(SUM(mention_count), 0) AS mentions FROM {self.p}members WHERE user_id = ?",
            (now, user_id),
        ).fetchone()
        assert row is not None  # an aggregate without GROUP BY always answers one row
        return int(row["unread"]), int(row["mentions"])

    def unread_count(self, cur: SqlCursor, conversation_id: str, user_id: str) -> int:
        row = cur.execute(
            f"SELECT unread_count FROM {self.p}members WHERE conversation_id = ? AND user_id = ?",
            (conversation_id, user_id),
        ).fetchone()
        return int(row["unread_count"]) if row else 0

    # -- conversations ----------------------------------------------------------------------------
    def membership(self, cur: SqlCursor, conversation_id: str, user_id: str) -> str | None:
        """`member`, `former` (removed or left: reads over their periods), `outsider` (the conversation
        exists), or None (no such conversation)."""
        row = cur.execute(
            f"SELECT m.user_id, m.visible_to FROM {self.p}conversations c LEFT JOIN {self.p}members m "
            "ON m.conversation_id = c.id AND m.user_id = ? WHERE c.id = ?",
            (user_id, conversation_id),
        ).fetchone()
        if row is None:
            return None
        if not row["user_id"]:
            return "outsider"
        return "member" if row["visible_to"] is None else "former"

    def existing_conversation_ids(self, cur: SqlCursor, conversation_ids: list[str]) -> set[str]:
        return self._existing(cur, "conversations", conversation_ids)

    def member_rows(self, cur: SqlCursor, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], Row]:
        """(conversation_id, user_id) -> its members row (user_id, visible_to, from_seq), for those of
        these pairs that have one: `membership` and `period_start` of many pairs in one statement per 500
        conversations."""
        wanted = set(pairs)
        conversations = list(dict.fromkeys(c for c, _ in pairs))
        users = list(dict.fromkeys(u for _, u in pairs))
        found: dict[tuple[str, str], Row] = {}
        for part in chunks(conversations):
            for users_part in chunks(users):
                marks = ", ".join("?" for _ in part)
                user_marks = ", ".join("?" for _ in users_part)
                rows = cur.execute(
                    f"SELECT conversation_id, user_id, visible_to, from_seq FROM {self.p}members "
                    f"WHERE conversation_id IN ({marks}) AND user_id IN ({user_marks})",
                    (*part, *users_part),
                ).fetchall()
                for r in rows:
                    if (key := (r["conversation_id"], r["user_id"])) in wanted:
                        found[key] = r
        return found

    def conversations_page(
        self, cur: SqlCursor, user_id: str, limit: int, before: str | None, is_online: IsOnline
    ) -> tuple[list[ConversationSummary], str | None]:
        """The user's conversations, newest activity first, `limit` at a time."""
        sql = f"SELECT conversation_id, activity_at FROM {self.p}members WHERE user_id = ?"
        params: list[Any] = [user_id]
        if before:
            activity_at, conversation_id = decode_cursor(before)
            sql += " AND (activity_at < ? OR (activity_at = ? AND conversation_id < ?))"
            params += [activity_at, activity_at, conversation_id]
        sql += " ORDER BY activity_at DESC, conversation_id DESC LIMIT ?"
        rows = cur.execute(sql, (*params, limit + 1)).fetchall()
        page = rows[:limit]
        summaries = self.summaries(cur, [r["conversation_id"] for r in page], is_online)
        listed = [summaries[r["conversation_id"]][user_id] for r in page]
        last = page[-1] if page and len(rows) > limit else None
        return listed, encode_cursor(last["activity_at"], last["conversation_id"]) if last else None

    def summaries(
        self, cur: SqlCursor, conversation_ids: list[str], is_online: IsOnline
    ) -> dict[str, dict[str, ConversationSummary]]:
        """{conversation_id: {member user_id: ConversationSummary as that member sees it}}."""
        if not conversation_ids:
            return {}
        marks = ", ".join("?" for _ in conversation_ids)
        conversations = cur.execute(
            f"SELECT * FROM {self.p}conversations WHERE id IN ({marks})", conversation_ids
        ).fetchall()
        members = cur.execute(
            f"SELECT m.*, u.id AS user_id, u.username AS user_username, u.display_name AS user_display_name, "
            f"u.created_at AS user_created_at, u.deleted AS user_deleted FROM {self.p}members m JOIN {self.p}users u ON u.id = m.user_id "
            f"WHERE m.conversation_id IN ({marks}) ORDER BY u.username",
            conversation_ids,
        ).fetchall()
        last_ids = [c["last_message_id"] for c in conversations if c["last_message_id"]]
        last_messages = {}
        if last_ids:
            last_marks = ", ".join("?" for _ in last_ids)
            rows = cur.execute(f"SELECT * FROM {self.p}messages WHERE id IN ({last_marks})", last_ids).fetchall()
            last_messages = {row["id"]: row for row in rows}
        decorations = self._decorations(cur, list(last_messages.values()))
        online = is_online(list({m["user_id"] for m in members}))
        blocked = self._blocked_pairs(cur, list({m["user_id"] for m in members}))
        by_conversation: dict[str, list[Row]] = {}
        for m in members:
            by_conversation.setdefault(m["conversation_id"], []).append(m)
        departures = [(m["conversation_id"], m["visible_to"]) for m in members if m["visible_to"] is not None]
        last_seen = self._messages_at(cur, departures)
        now = shapes.iso(datetime.now(UTC))
        result: dict[str, dict[str, ConversationSummary]] = {}
        for c in conversations:
            its_members = by_conversation.get(c["id"], [])
            last = last_messages.get(c["last_message_id"])
            every = {m["user_id"]: shapes.member(m, m["user_id"] in online) for m in its_members}
            members_shown = [every[m["user_id"]] for m in its_members if m["visible_to"] is None]
            former_shown = [shapes.user(m, "user_") for m in its_members if m["visible_to"] is not None]
            last_shown = (
                self._message(last, shapes.message_status(last["sender_id"], last["seq"], its_members), decorations)
                if last
                else None
            )
            summaries: dict[str, ConversationSummary] = {}
            for m in its_members:
                left = m["visible_to"] is not None
                theirs = last_shown
                if left:  # as it was when they left: their last message is the one that ended their period
                    then = last_seen.get((c["id"], m["visible_to"]))
                    theirs = shapes.message(then, "sent") if then else None
                muted = m["muted_until"] if m["muted_until"] and m["muted_until"] > now else None
                hidden = blocked.get(m["user_id"])
                shown, conversation = members_shown, c
                if left:  # as it was when they left: its title and members of then
                    staying = set((m["left_members"] or "").split())
                    shown = [every[u] for u in every if u in staying]
                    conversation = {**c, "title": m["left_title"]}
                if hidden:  # Member.online is false across a block
                    shown = [{**s, "online": s["online"] and s["user"]["id"] not in hidden} for s in members_shown]
                summary = shapes.summary(
                    conversation,
                    shown,
                    theirs,
                    m["unread_count"],
                    m["mention_count"],
                    role=m["role"],
                    former_members=former_shown,
                    left=left,
                    muted_until=muted,
                )
                if left and theirs is not None:
                    summary["last_message_at"] = theirs["sent_at"]
                summaries[m["user_id"]] = summary
            result[c["id"]] = summaries
        return result

    def _messages_at(self, cur: SqlCursor, places: list[tuple[str, int]]) -> dict[tuple[str, int], Row]:
        found: dict[tuple[str, int], Row] = {}
        for conversation_id, seq in dict.fromkeys(places):
            row = cur.execute(
                f"SELECT * FROM {self.p}messages WHERE conversation_id = ? AND seq = ?", (conversation_id, seq)
            ).fetchone()
            if row is not None:
                found[(conversation_id, seq)] = row
        return found

    def seqs_of(self, cur: SqlCursor, message_ids: list[str]) -> dict[str, int]:
        if not message_ids:
            return {}
        marks = ", ".join("?" for _ in message_ids)
        rows = cur.execute(f"SELECT id, seq FROM {self.p}messages WHERE id IN ({marks})", message_ids).fetchall()
        return {row["id"]: int(row["seq"]) for row in rows}

    def period_starts(self, cur: SqlCursor, conversation_ids: list[str]) -> dict[str, list[int]]:
        """The seqs at which the current members' periods began, by conversation, ascending."""
        if not conversation_ids:
            return {}
        marks = ", ".join("?" for _ in conversation_ids)
        rows = cur.execute(
            f"SELECT DISTINCT conversation_id, from_seq FROM {self.p}members WHERE conversation_id IN ({marks}) "
            "AND visible_to IS NULL ORDER BY conversation_id, from_seq",
            conversation_ids,
        ).fetchall()
        found: dict[str, list[int]] = {}
        for row in rows:
            found.setdefault(row["conversation_id"], []).append(int(row["from_seq"]))
        return found

    def period_start(self, cur: SqlCursor, conversation_id: str, user_id: str) -> int | None:
        """Where the user's current period began; None when not a member now."""
        row = cur.execute(
            f"SELECT from_seq FROM {self.p}members WHERE conversation_id = ? AND user_id = ? AND visible_to IS NULL",
            (conversation_id, user_id),
        ).fetchone()
        return int(row["from_seq"]) if row else None

    def can_see(self, cur: SqlCursor, user_id: str, message_id: str) -> bool:
        row = cur.execute(
            f"SELECT 1 AS yes FROM {self.p}messages m JOIN {self.p}member_periods p "
            "ON p.conversation_id = m.conversation_id AND p.user_id = ? "
            "AND p.from_seq <= m.seq AND (p.to_seq IS NULL OR m.seq <= p.to_seq) WHERE m.id = ?",
            (user_id, message_id),
        ).fetchone()
        return row is not None

    def current_member_ids(self, cur: SqlCursor, conversation_id: str) -> list[str]:
        rows = cur.execute(
            f"SELECT user_id FROM {self.p}members WHERE conversation_id = ? AND visible_to IS NULL", (conversation_id,)
        ).fetchall()
        return [r["user_id"] for r in rows]

    def member_ids(self, cur: SqlCursor, conversation_id: str) -> list[str]:
        rows = cur.execute(
            f"SELECT user_id FROM {self.p}members WHERE conversation_id = ?", (conversation_id,)
        ).fetchall()
        return [r["user_id"] for r in rows]

    # -- messages ---------------------------------------------------------------------------------
    def messages(
        self,
        cur: SqlCursor,
        conversation_id: str,
        before_seq: int | None,
        after_seq: int | None,
        limit: int,
        user_id: str | None = None,
    ) -> tuple[list[Message], bool]:
        """Ascending seq. Newest `limit` (before `before_seq` if given), or oldest `limit` after `after_seq`;
        of those `user_id` can see (sent during one of their membership periods), when given."""
        rows, has_more = self._page_rows(cur, conversation_id, before_seq, after_seq, limit, user_id)
        return self._with_status(cur, conversation_id, rows), has_more

    def message_pages(
        self, cur: SqlCursor, pages: list[tuple[str, int | None, int | None, int, str | None]]
    ) -> list[tuple[list[Message], bool]]:
        """`messages` of many (conversation_id, before_seq, after_seq, limit, user_id) at once: one
        statement per page for its rows, and one each for all the pages' statuses, quotes, reactions
        and attachments."""
        found = [self._page_rows(cur, *page) for page in pages]
        rows = [r for page_rows, _ in found for r in page_rows]
        if not rows:
            return [([], has_more) for _, has_more in found]
        members = self._status_members(cur, list(dict.fromkeys(r["conversation_id"] for r in rows)))
        decorations = self._decorations(cur, rows)
        return [
            (
                [
                    self._message(
                        r,
                        shapes.message_status(r["sender_id"], r["seq"], members.get(r["conversation_id"], [])),
                        decorations,
                    )
                    for r in page_rows
                ],
                has_more,
            )
            for page_rows, has_more in found
        ]

    def _page_rows(
        self,
        cur: SqlCursor,
        conversation_id: str,
        before_seq: int | None,
        after_seq: int | None,
        limit: int,
        user_id: str | None = None,
    ) -> tuple[list[Row], bool]:
        visible = ""
        params: tuple[Any, ...] = ()
        if user_id is not None:
            visible = (
                f" AND EXISTS (SELECT 1 FROM {self.p}member_periods p WHERE p.conversation_id = m.conversation_id "
                "AND p.user_id = ? AND p.from_seq <= m.seq AND (p.to_seq IS NULL OR m.seq <= p.to_seq))"
            )
            params = (user_id,)
        if after_seq is not None:
            rows = cur.execute(
                f"SELECT m.* FROM {self.p}messages m WHERE m.conversation_id = ? AND m.seq > ?{visible} "
                "ORDER BY m.seq LIMIT ?",
                (conversation_id, after_seq, *params, limit + 1),
            ).fetchall()
            return rows[:limit], len(rows) > limit
        bound = before_seq if before_seq is not None else 2**62
        rows = cur.execute(
            f"SELECT m.* FROM {self.p}messages m WHERE m.conversation_id = ? AND m.seq < ?{visible} "
            "ORDER BY m.seq DESC LIMIT ?",
            (conversation_id, bound, *params, limit + 1),
        ).fetchall()
        return rows[:limit][::-1], len(rows) > limit

    def _status_members(self, cur: SqlCursor, conversation_ids: list[str]) -> dict[str, list[Row]]:
        """What `_with_status` reads, for many conversations: {conversation_id: its members' markers}."""
        found: dict[str, list[Row]] = {}
        for part in chunks(conversation_ids):
            marks = ", ".join("?" for _ in part)
            rows = cur.execute(
                f"SELECT conversation_id, user_id, last_delivered_seq, last_read_seq, from_seq, visible_to "
                f"FROM {self.p}members WHERE conversation_id IN ({marks})",
                part,
            ).fetchall()
            for row in rows:
                found.setdefault(row["conversation_id"], []).append(row)
        return found

    def message(self, cur: SqlCursor, message_id: str) -> Message | None:
        row = cur.execute(f"SELECT * FROM {self.p}messages WHERE id = ?", (message_id,)).fetchone()
        return self._with_status(cur, row["conversation_id"], [row])[0] if row else None

    def messages_by_id(self, cur: SqlCursor, message_ids: list[str]) -> dict[str, Message]:
        """The messages as they are now (for `message_updated`), by id."""
        if not message_ids:
            return {}
        marks = ", ".join("?" for _ in message_ids)
        rows = cur.execute(f"SELECT * FROM {self.p}messages WHERE id IN ({marks})", message_ids).fetchall()
        by_conversation: dict[str, list[Row]] = {}
        for row in rows:
            by_conversation.setdefault(row["conversation_id"], []).append(row)
        found: dict[str, Message] = {}
        for conversation_id, its_rows in by_conversation.items():
            found.update({m["id"]: m for m in self._with_status(cur, conversation_id, its_rows)})
        return found

    def conversation_of_message(self, cur: SqlCursor, message_id: str) -> str | None:
        row = cur.execute(f"SELECT conversation_id FROM {self.p}messages WHERE id = ?", (message_id,)).fetchone()
        return row["conversation_id"] if row else None

    def current_body(self, cur: SqlCursor, message_id: str) -> str | None:
        row = cur.execute(f"SELECT body, deleted FROM {self.p}messages WHERE id = ?", (message_id,)).fetchone()
        return None if row is None or row["deleted"] else str(row["body"])

    def message_versions(self, cur: SqlCursor, message_id: str) -> list[MessageVersion]:
        """Every version of a message's text, oldest (the original, at its sent_at) first; [] once deleted."""
        row = cur.execute(
            f"SELECT body, sent_at, edited_at, deleted FROM {self.p}messages WHERE id = ?", (message_id,)
        ).fetchone()
        if row is None or row["deleted"]:
            return []
        earlier = cur.execute(
            f"SELECT body, at FROM {self.p}message_edits WHERE message_id = ? ORDER BY version", (message_id,)
        ).fetchall()
        return [
            *(shapes.message_version(e["body"], e["at"]) for e in earlier),
            shapes.message_version(row["body"], row["edited_at"] or row["sent_at"]),
        ]

    def quotes(self, cur: SqlCursor, message_ids: list[str]) -> dict[str, Quote]:
        """The quoted messages as they are now, by id."""
        if not message_ids:
            return {}
        marks = ", ".join("?" for _ in message_ids)
        rows = cur.execute(
            f"SELECT id, seq, sender_id, body, deleted FROM {self.p}messages WHERE id IN ({marks})", message_ids
        ).fetchall()
        return {row["id"]: shapes.quote(row) for row in rows}

    def reactions(self, cur: SqlCursor, message_ids: list[str]) -> dict[str, list[Reaction]]:
        """Each message's reactions: emoji in first-reaction order, users in reacting order."""
        if not message_ids:
            return {}
        marks = ", ".join("?" for _ in message_ids)
        rows = cur.execute(
            f"SELECT message_id, emoji, user_id FROM {self.p}reactions WHERE message_id IN ({marks}) "
            "ORDER BY message_id, emoji_position, emoji, position",
            message_ids,
        ).fetchall()
        found: dict[str, list[Reaction]] = {}
        for row in rows:
            its = found.setdefault(row["message_id"], [])
            if not its or its[-1]["emoji"] != row["emoji"]:
                its.append(shapes.reaction(row["emoji"], []))
            its[-1]["user_ids"].append(row["user_id"])
        return found

    def attachments(self, cur: SqlCursor, message_ids: list[str]) -> dict[str, list[Attachment]]:
        """Each message's attachments in the order they were given, with freshly signed paths."""
        if not message_ids or self.urls is None:
            return {}
        marks = ", ".join("?" for _ in message_ids)
        rows = cur.execute(
            f"SELECT * FROM {self.p}attachments WHERE message_id IN ({marks}) ORDER BY message_id, position",
            message_ids,
        ).fetchall()
        found: dict[str, list[Attachment]] = {}
        for row in rows:
            found.setdefault(row["message_id"], []).append(self.attachment(row))
        return found

    def attachment(self, row: Row) -> Attachment:
        assert self.urls is not None
        thumbnail = self.urls.url(row["id"], True) if row["thumbnail_sha256"] else None
        return shapes.attachment(row, self.urls.url(row["id"], False), thumbnail)

    def upload(self, cur: SqlCursor, upload_id: str) -> Row | None:
        found: Row | None = cur.execute(f"SELECT * FROM {self.p}attachments WHERE id = ?", (upload_id,)).fetchone()
        return found

    def _decorations(self, cur: SqlCursor, rows: list[Row]) -> Decorations:
        """What a page of message rows shows beside their own columns: quotes, reactions, attachments."""
        live = [r for r in rows if not r["deleted"]]
        quoted = list(dict.fromkeys(r["reply_to"] for r in live if r["reply_to"]))
        ids = [r["id"] for r in live]
        return self.quotes(cur, quoted), self.reactions(cur, ids), self.attachments(cur, ids)

    @staticmethod
    def _message(row: Row, status: shapes.MessageStatus, decorations: Decorations) -> Message:
        quotes, reactions, attachments = decorations
        quote = quotes.get(row["reply_to"]) if row["reply_to"] else None
        return shapes.message(row, status, quote, reactions.get(row["id"]), attachments.get(row["id"]))

    def _with_status(self, cur: SqlCursor, conversation_id: str, rows: list[Row]) -> list[Message]:
        if not rows:
            return []
        members = cur.execute(
            f"SELECT user_id, last_delivered_seq, last_read_seq, from_seq, visible_to FROM {self.p}members "
            "WHERE conversation_id = ?",
            (conversation_id,),
        ).fetchall()
        decorations = self._decorations(cur, rows)
        return [self._message(r, shapes.message_status(r["sender_id"], r["seq"], members), decorations) for r in rows]


def chunks(items: list[str], size: int = 512) -> list[list[str]]:
    """`IN (...)` lists of at most `size`, each padded (with its last item again, which changes no
    answer) to a power of two: few distinct statements, so the driver's prepared ones are reused."""
    parts = [items[i : i + size] for i in range(0, len(items), size)]
    return [part + [part[-1]] * ((1 << (len(part) - 1).bit_length()) - len(part)) for part in parts]


def encode_cursor(activity_at: str, conversation_id: str) -> str:
    return base64.urlsafe_b64encode(f"{activity_at}|{conversation_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        activity_at, conversation_id = raw.split("|")
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor("The cursor is not one this server gave.") from None
    return activity_at, conversation_id
