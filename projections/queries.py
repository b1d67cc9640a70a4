"""Queries: answered from the read models only, after checking who may see what.

Read your writes: a command reports its log position; `wait_for` blocks (briefly, bounded) until the
read models reflect it, so the caller's next query sees its own change.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple, TypeVar
from uuid import UUID

from application.ports import Holdings, PasswordHasher, Presence
from domain.errors import ConversationNotFound, InvalidCredentials, InvalidInput, MessageNotFound, NotAMember
from domain.users import normalize_username
from projections import search
from projections.ports import ReadModelPosition, SqlCursor, SqlDatabase
from projections.reads import ReadModelReads
from projections.shapes import (
    Attachment,
    Connection,
    ConversationSummary,
    Message,
    MessageVersion,
    Row,
    SearchResult,
    User,
    iso,
)

T = TypeVar("T")


class JoinRequest(NamedTuple):
    conversation_id: UUID
    user_id: UUID


class MessagesRequest(NamedTuple):
    conversation_id: UUID
    user_id: UUID
    before_seq: int | None
    after_seq: int | None
    limit: int


class Queries:
    def __init__(
        self,
        db: SqlDatabase,
        reads: ReadModelReads,
        position: ReadModelPosition,
        passwords: PasswordHasher,
        presence: Presence,
        timeout: float,
    ) -> None:
        self.db = db
        self.reads = reads
        self.position = position
        self.passwords = passwords
        self.presence = presence
        self.timeout = timeout

    def wait_for(self, position: int | None) -> None:
        """Wait (bounded) until the read models reflect `position`; not while they cannot be updated
        (the write is durable: its ack need not wait for a projector that is failing)."""
        if position and not self.position.failing_for():
            self.position.wait(position, self.timeout)

    def is_online(self, user_ids: list[str]) -> set[str]:
        return {str(u) for u in self.presence.online([UUID(u) for u in user_ids])}

    # -- users --------------------------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> User:
        """The user whose password this is; takes as long whether or not the username exists."""
        try:
            found = self._read(lambda cur: self.reads.credentials(cur, normalize_username(username)))
        except InvalidInput:
            found = None
        user, password_hash = found if found else (None, None)
        if not self.passwords.verify(password_hash, password) or user is None:
            raise InvalidCredentials("Wrong username or password.")
        return user

    def user(self, user_id: UUID) -> User | None:
        return self._read(lambda cur: self.reads.user(cur, str(user_id)))

    def search_users(self, prefix: str, user_id: UUID) -> list[User]:
        return self._read(lambda cur: self.reads.search_users(cur, prefix.lower(), str(user_id)))

    def blocked_users(self, user_id: UUID) -> list[User]:
        return self._read(lambda cur: self.reads.blocked_users(cur, str(user_id)))

    # -- connections ----------------------------------------------------------------------------------
    def connection(self, connection_id: UUID) -> Connection | None:
        return self._read(lambda cur: self.reads.connection(cur, str(connection_id)))

    def connections(self, user_id: UUID) -> list[Connection]:
        return self._read(lambda cur: self.reads.connections_of(cur, str(user_id)))

    def connected_user_ids(self, user_id: UUID) -> list[UUID]:
        return [UUID(u) for u in self._read(lambda cur: self.reads.connected_user_ids(cur, str(user_id)))]

    def socket_start(self, user_id: UUID) -> tuple[list[UUID], set[UUID]] | None:
        """What a new socket of the user needs, in one read: their connected users and which of them are
        online; None if there is no such user. (A reconnect storm is a thousand of these at once.)"""

        def read(cur: SqlCursor) -> list[str] | None:
            if self.reads.user(cur, str(user_id)) is None:
                return None
            return self.reads.connected_user_ids(cur, str(user_id))

        found = self._read(read)
        if found is None:
            return None
        connections = [UUID(u) for u in found]
        return connections, self.presence.online(connections)

    def connections_in(self, cur: SqlCursor, user_ids: list[UUID]) -> dict[UUID, list[UUID]]:
        """`socket_start` of many users, in the caller's transaction: each existing user's connected
        users (a user that does not exist is left out). Three statements however many users."""
        ids = [str(u) for u in dict.fromkeys(user_ids)]
        existing = self.reads.existing_user_ids(cur, ids)
        connected = self.reads.connected_user_ids_of(cur, [u for u in ids if u in existing])
        return {UUID(u): [UUID(o) for o in connected.get(u, ())] for u in ids if u in existing}

    # -- conversations ----------------------------------------------------------------------------------
    def conversation(self, conversation_id: UUID, user_id: UUID) -> ConversationSummary:
        """As the user sees it: a member, or a former member (`left`, as it was when they left)."""

        def read(cur: SqlCursor) -> ConversationSummary:
            self._check_access(cur, conversation_id, user_id)
            return self.reads.summaries(cur, [str(conversation_id)], self.is_online)[str(conversation_id)][str(user_id)]

        return self._read(read)

    def conversations(
        self, user_id: UUID, limit: int, before: str | None
    ) -> tuple[list[ConversationSummary], str | None]:
        return self._read(lambda cur: self.reads.conversations_page(cur, str(user_id), limit, before, self.is_online))

    def check_member(self, conversation_id: UUID, user_id: UUID) -> None:
        self._read(lambda cur: self._check_member(cur, conversation_id, user_id))

    def messages(
        self, conversation_id: UUID, user_id: UUID, before_seq: int | None, after_seq: int | None, limit: int
    ) -> tuple[list[Message], bool]:
        def read(cur: SqlCursor) -> tuple[list[Message], bool]:
            self._check_access(cur, conversation_id, user_id)
            return self.reads.messages(cur, str(conversation_id), before_seq, after_seq, limit, str(user_id))

        return self._read(read)

    def unread_totals(self, user_id: UUID) -> tuple[int, int]:
        """`GET /api/unread`: unread over the conversations not muted now, mentions over all."""
        now = iso(datetime.now(UTC))
        return self._read(lambda cur: self.reads.unread_totals(cur, str(user_id), now))

    def unread_count(self, conversation_id: UUID, user_id: UUID) -> int:
        return self._read(lambda cur: self.reads.unread_count(cur, str(conversation_id), str(user_id)))

    def message(self, message_id: UUID) -> Message | None:
        return self._read(lambda cur: self.reads.message(cur, str(message_id)))

    def message_versions(self, conversation_id: UUID, message_id: UUID, user_id: UUID) -> list[MessageVersion]:
        """`get_message_edits`: for those who can see the message."""

        def read(cur: SqlCursor) -> list[MessageVersion]:
            self._check_access(cur, conversation_id, user_id)
            if self.reads.conversation_of_message(cur, str(message_id)) != str(conversation_id):
                raise MessageNotFound("No such message in this conversation.")
            if not self.reads.can_see(cur, str(user_id), str(message_id)):
                raise MessageNotFound("No such message in this conversation.")
            return self.reads.message_versions(cur, str(message_id))

        return self._read(read)

    def current_body(self, message_id: UUID) -> str | None:
        """The message's text now (application/ports.py MessageTexts: an edit to the same text writes nothing)."""
        return self._read(lambda cur: self.reads.current_body(cur, str(message_id)))

    def _check_access(self, cur: SqlCursor, conversation_id: UUID, user_id: UUID) -> None:
        """A member, or a former member reading over their periods (contract section 7)."""
        membership = self.reads.membership(cur, str(conversation_id), str(user_id))
        if membership is None:
            raise ConversationNotFound("No such conversation.")
        if membership not in ("member", "former"):
            raise NotAMember("You are not a member of this conversation.")

    def conversation_to_join(self, conversation_id: UUID, user_id: UUID) -> tuple[ConversationSummary, int | None]:
        """`join_conversation`: the summary, and where the user's current period began (None: not a
        member now, so their socket joins no room of it)."""

        def read(cur: SqlCursor) -> tuple[ConversationSummary, int | None]:
            self._check_access(cur, conversation_id, user_id)
            summary = self.reads.summaries(cur, [str(conversation_id)], self.is_online)[str(conversation_id)]
            return summary[str(user_id)], self.reads.period_start(cur, str(conversation_id), str(user_id))

        return self._read(read)

    def conversations_to_join(
        self, requests: list[JoinRequest]
    ) -> list[tuple[ConversationSummary, int | None] | Exception]:
        """`conversation_to_join` of many (conversation, user) pairs at once (a reconnect storm's joins),
        in one transaction with a fixed number of statements: each answer, or the error it would raise."""

        def read(cur: SqlCursor) -> list[tuple[ConversationSummary, int | None] | Exception]:
            pairs = [(str(r.conversation_id), str(r.user_id)) for r in requests]
            existing = self.reads.existing_conversation_ids(cur, list(dict.fromkeys(c for c, _ in pairs)))
            rows = self.reads.member_rows(cur, [p for p in pairs if p[0] in existing])
            summaries = self.reads.summaries(
                cur, list(dict.fromkeys(c for c, u in pairs if (c, u) in rows)), self.is_online
            )
            answers: list[tuple[ConversationSummary, int | None] | Exception] = []
            for c, u in pairs:
                row = rows.get((c, u))
                if c not in existing:
                    answers.append(ConversationNotFound("No such conversation."))
                elif row is None:
                    answers.append(NotAMember("You are not a member of this conversation."))
                else:
                    answers.append((summaries[c][u], int(row["from_seq"]) if row["visible_to"] is None else None))
            return answers

        return self._read(read)

    def messages_of(self, requests: list[MessagesRequest]) -> list[tuple[list[Message], bool] | Exception]:
        """`messages` of many requests at once (a reconnect storm's pages), in one transaction with one
        statement per page and a fixed number for the rest: each answer, or the error it would raise."""

        def read(cur: SqlCursor) -> list[tuple[list[Message], bool] | Exception]:
            pairs = [(str(r.conversation_id), str(r.user_id)) for r in requests]
            existing = self.reads.existing_conversation_ids(cur, list(dict.fromkeys(c for c, _ in pairs)))
            rows = self.reads.member_rows(cur, [p for p in pairs if p[0] in existing])
            allowed = [r for r, p in zip(requests, pairs, strict=True) if p in rows]
            pages = iter(
                self.reads.message_pages(
                    cur,
                    [(str(r.conversation_id), r.before_seq, r.after_seq, r.limit, str(r.user_id)) for r in allowed],
                )
            )
            answers: list[tuple[list[Message], bool] | Exception] = []
            for c, u in pairs:
                if c not in existing:
                    answers.append(ConversationNotFound("No such conversation."))
                elif (c, u) not in rows:
                    answers.append(NotAMember("You are not a member of this conversation."))
                else:
                    answers.append(next(pages))
            return answers

        return self._read(read)

    # -- search (contract section 10) ------------------------------------------------------------------
    def search(
        self, user_id: UUID, query: str, conversation_id: UUID | None, limit: int, before: str | None
    ) -> tuple[list[SearchResult], str | None]:
        """Messages the user can see whose current text matches, newest first; the next page's cursor."""
        terms = search.parse(query)
        after = search.decode_cursor(before) if before else None

        def read(cur: SqlCursor) -> tuple[list[SearchResult], str | None]:
            if conversation_id is not None:
                self._check_access(cur, conversation_id, user_id)
            found = cur.search.find(
                cur,
                self.reads.p,
                terms,
                str(user_id),
                str(conversation_id) if conversation_id else None,
                after,
                limit + 1,
            )
            page = found[:limit]
            messages = self.reads.messages_by_id(cur, [message_id for message_id, _ in page])
            results: list[SearchResult] = []
            for message_id, _ in page:
                message = messages.get(message_id)
                if message is None or message["deleted"]:
                    continue
                results.append(
                    {
                        "message": message,
                        "conversation_id": message["conversation_id"],
                        "highlights": search.highlights(message["body"], terms),
                    }
                )
            last = page[-1] if len(found) > limit else None
            return results, search.encode_cursor(last[1], last[0]) if last else None

        return self._read(read)

    # -- uploads (contract section 9) --------------------------------------------------------------------
    def upload(self, upload_id: UUID) -> Row | None:
        """An upload's row (metadata, its message if attached), for serving its bytes."""
        return self._read(lambda cur: self.reads.upload(cur, str(upload_id)))

    def attachment(self, upload_id: UUID) -> Attachment | None:
        """An upload as the contract shows it (with freshly signed paths)."""
        row = self.upload(upload_id)
        return self.reads.attachment(row) if row else None

    def message_blobs(self, message_id: UUID) -> list[str]:
        """The digests (bytes and thumbnails) of a message's attachments."""

        def read(cur: SqlCursor) -> list[str]:
            rows = cur.execute(
                f"SELECT sha256, thumbnail_sha256 FROM {self.reads.p}attachments WHERE message_id = ?",
                (str(message_id),),
            ).fetchall()
            return [d for r in rows for d in (r["sha256"], r["thumbnail_sha256"]) if d]

        return self._read(read)

    def live_blobs(self, unattached_since: str) -> set[str]:
        """Every digest still needed: of attachments of messages not deleted, and of uploads not attached
        made since `unattached_since` (an ISO timestamp; older ones are swept)."""

        def read(cur: SqlCursor) -> set[str]:
            rows = cur.execute(
                f"SELECT sha256, thumbnail_sha256 FROM {self.reads.p}attachments "
                "WHERE message_id IS NOT NULL OR created_at >= ?",
                (unattached_since,),
            ).fetchall()
            return {d for r in rows for d in (r["sha256"], r["thumbnail_sha256"]) if d}

        return self._read(read)

    def blob_in_use(self, digest: str, unattached_since: str) -> bool:
        def read(cur: SqlCursor) -> bool:
            row = cur.execute(
                f"SELECT 1 AS found FROM {self.reads.p}attachments WHERE (sha256 = ? OR thumbnail_sha256 = ?) "
                "AND (message_id IS NOT NULL OR created_at >= ?) LIMIT 1",
                (digest, digest, unattached_since),
            ).fetchone()
            return row is not None

        return self._read(read)

    def holdings(self, user_id: UUID, position: int | None) -> Holdings:
        """(application/ports.py AccountHoldings) What an account holds, once the read models reflect
        `position`: for its erasure."""
        self.wait_for(position)
        p, uid = self.reads.p, str(user_id)

        def read(cur: SqlCursor) -> Holdings:
            messages: dict[UUID, list[UUID]] = {}
            for row in cur.execute(
                f"SELECT conversation_id, id FROM {p}messages WHERE sender_id = ? AND deleted = 0 AND kind = 'text' "
                "ORDER BY conversation_id, seq",
                (uid,),
            ).fetchall():
                messages.setdefault(UUID(row["conversation_id"]), []).append(UUID(row["id"]))
            reacted = cur.execute(
                f"SELECT DISTINCT m.conversation_id FROM {p}reactions r JOIN {p}messages m ON m.id = r.message_id "
                "WHERE r.user_id = ?",
                (uid,),
            ).fetchall()
            member_of = cur.execute(
                f"SELECT conversation_id FROM {p}members WHERE user_id = ? AND visible_to IS NULL", (uid,)
            ).fetchall()
            conversations = [*messages, *(UUID(r["conversation_id"]) for r in [*reacted, *member_of])]
            connections = cur.execute(
                f"SELECT id FROM {p}connections WHERE (requester_id = ? OR addressee_id = ?) "
                "AND status IN ('pending', 'connected')",
                (uid, uid),
            ).fetchall()
            blocked = cur.execute(f"SELECT blocked_id FROM {p}blocks WHERE blocker_id = ?", (uid,)).fetchall()
            uploads = cur.execute(
                f"SELECT sha256, thumbnail_sha256 FROM {p}attachments WHERE uploader_id = ?", (uid,)
            ).fetchall()
            return Holdings(
                messages,
                list(dict.fromkeys(conversations)),
                [UUID(r["id"]) for r in connections],
                [UUID(r["blocked_id"]) for r in blocked],
                [d for r in uploads for d in (r["sha256"], r["thumbnail_sha256"]) if d],
            )

        return self._read(read)

    def _check_member(self, cur: SqlCursor, conversation_id: UUID, user_id: UUID) -> None:
        membership = self.reads.membership(cur, str(conversation_id), str(user_id))
        if membership is None:
            raise ConversationNotFound("No such conversation.")
        if membership != "member":
            raise NotAMember("You are not a member of this conversation.")

    def read(self, query: Callable[[SqlCursor], T]) -> T:
        """`query` in a read transaction of its own."""
        return self._read(query)

    def _read(self, query: Callable[[SqlCursor], T]) -> T:
        with self.db.transaction(commit=False) as cur:
            return query(cur)
