"""Everything Parley holds about one person, built from the events (`GET /api/users/me/export`).

The read models only say where to look (`Streams`: the person's connections, conversations, former
ones too, blocks and uploads). What is exported comes from those aggregates' own events, keeping what
is about the person: their profile (never a password hash), connections and blocks with their history,
their membership of each conversation, every message they sent with each version of its text, the
reactions they added and removed, and their uploads' metadata. Other people appear by id only.

One JSON document (shapes: interfaces/contract.py `MyDataExport`), produced in pieces: `next_chunk`
does a bounded amount of work (a worker thread calls it, one call at a time) and returns the next part
of the text. Streams are read a page at a time and a conversation is read in four passes (its summary,
what became of the person's messages, the messages, the reactions), each decoding only the events it
looks at, so memory does not grow with the number of messages: it holds one conversation's edits,
deletions and attachments of the person's messages, and one page of events.

Fields that erasure made unreadable come back from the store as None (username, display name, bodies,
filenames) and are exported as null.
"""

import json
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import resolve_topic

from domain.blocks import Block, block_id
from domain.connections import CONNECTED, DECLINED, PENDING, REMOVED, Connection
from domain.conversations import GROUP, MEMBER, OWNER, Conversation
from domain.messages import ClientMessageKey
from domain.uploads import Upload
from domain.users import User

FORMAT = "parley-my-data"
VERSION = 1
PAGE = 500  # events read at a time
CHUNK_BYTES = 64 * 1024  # a chunk ends once it holds this many characters...
CHUNK_SECONDS = 0.5  # ...or once this much work is done (a long stream with nothing of the person's)

MEMBERSHIP = (
    Conversation.ConversationStarted,
    Conversation.MembersAdded,
    Conversation.MemberRemoved,
    Conversation.MemberLeft,
    Conversation.ConversationRenamed,
    Conversation.MemberRoleChanged,
    Conversation.MuteSet,
    Conversation.MessagesDelivered,
    Conversation.MessagesRead,
)
REACTIONS = (Conversation.ReactionAdded, Conversation.ReactionRemoved)

Piece = str | None  # a part of the document, or None: work done, nothing to write yet
Json = dict[str, Any]


@dataclass(frozen=True)
class Streams:
    """Where the events about a person are, as the read models know it. A block lifted since is gone
    from the read models: blocks are also looked for between the person and each party to their
    connections (blocking removes the connection, whose stream stays)."""

    connections: list[UUID]
    conversations: list[UUID]  # the person is, or was, a member
    blocked: list[UUID]  # users they block now
    uploads: list[tuple[UUID, UUID | None]]  # (upload, the conversation it is attached in)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass
class _MessageFacts:
    """What became of one of the person's messages after it was sent."""

    edits: list[Json] = field(default_factory=list)
    deleted_at: str | None = None
    attachments: list[tuple[int, Json]] = field(default_factory=list)


class MyDataExport:
    def __init__(self, app: Application[Any], user_id: UUID, streams: Streams, now: datetime | None = None) -> None:
        self.app = app
        self.user_id = user_id
        self.streams = streams
        self.exported_at = iso(now or datetime.now(UTC))
        self._others: list[UUID] = []  # the other parties of the person's connections
        self._versions: dict[UUID, int] = {}  # conversation -> its last version read (later passes stop there)
        self._pieces = self._document()
        self._done = False

    # -- the chunks -------------------------------------------------------------------------------------
    def next_chunk(self) -> bytes | None:
        """The next part of the document (possibly empty), None once it is all out. Blocking."""
        if self._done:
            return None
        parts: list[str] = []
        size = 0
        started = time.monotonic()
        for piece in self._pieces:
            if piece:
                parts.append(piece)
                size += len(piece)
            if size >= CHUNK_BYTES or time.monotonic() - started >= CHUNK_SECONDS:
                break
        else:
            self._done = True
            if not parts:
                return None
        return "".join(parts).encode()

    def close(self) -> None:
        self._pieces.close()

    # -- the document -----------------------------------------------------------------------------------
    def _document(self) -> Generator[Piece, None, None]:
        head = {"format": FORMAT, "version": VERSION, "exported_at": self.exported_at, "user_id": str(self.user_id)}
        yield dumps(head)[:-1]  # the object stays open: the sections follow
        yield ', "profile": ' + dumps(self._profile())
        yield from _array("connections", self._connections())
        yield from _array("blocks", self._blocks())
        yield from _array("uploads", self._uploads())
        yield from _array("conversations", self._conversations())
        yield from _array("messages", self._messages())
        yield from _array("reactions", self._reactions())
        yield "}"

    def _events(self, aggregate_id: UUID, last: int | None = None, kinds: tuple[type, ...] = ()) -> Iterator[Any]:
        """The stream's events (up to version `last`; only of the classes `kinds`, when given), a page at a
        time, None after each page. Only those are decoded (`app.mapper`, which decrypts), told apart by
        their stored topic: a pass over a long conversation decodes just what it looks at."""
        version = 0
        while True:
            page = self.app.recorder.select_events(aggregate_id, gt=version, lte=last, limit=PAGE)
            for stored in page:
                if not kinds or issubclass(resolve_topic(stored.topic), kinds):
                    yield self.app.mapper.to_domain_event(stored)
            yield None
            if len(page) < PAGE:
                return
            version = page[-1].originator_version

    def _profile(self) -> Json:
        me = self.user_id
        profile: Json = {"id": str(me), "username": None, "display_name": None, "created_at": None}
        changes: list[str] = []
        for e in self._events(me):
            if isinstance(e, User.UserRegistered):
                profile.update(username=e.username, display_name=e.display_name, created_at=iso(e.timestamp))
            elif isinstance(e, User.PasswordChanged):
                changes.append(iso(e.timestamp))  # when, never the hash
        return {**profile, "password_changed_at": changes}

    def _connections(self) -> Iterator[Piece]:
        me = self.user_id
        for connection_id in self.streams.connections:
            other: UUID | None = None
            history: list[Json] = []
            for e in self._events(connection_id):
                if e is None:
                    yield None
                    continue
                at = iso(e.timestamp)
                if isinstance(e, (Connection.ConnectionRequested, Connection.ConnectionRequestedAgain)):
                    if me not in (e.requester_id, e.addressee_id):
                        break
                    other = e.addressee_id if e.requester_id == me else e.requester_id
                    history.append({"status": PENDING, "at": at, "by": str(e.requester_id)})
                elif other is None:
                    break
                elif isinstance(e, Connection.ConnectionAccepted):
                    history.append({"status": CONNECTED, "at": at, "by": _answerer(history, me, other)})
                elif isinstance(e, Connection.ConnectionDeclined):
                    history.append({"status": DECLINED, "at": at, "by": _answerer(history, me, other)})
                elif isinstance(e, Connection.ConnectionRemoved):
                    history.append({"status": REMOVED, "at": at, "by": str(e.removed_by)})
            if other is not None:
                self._others.append(other)
                yield dumps({"id": str(connection_id), "other_user_id": str(other), "history": history})

    def _blocks(self) -> Iterator[Piece]:
        me = self.user_id
        for blocked in dict.fromkeys([*self.streams.blocked, *self._others]):
            history: list[Json] = []
            for e in self._events(block_id(me, blocked)):
                if e is None:
                    yield None
                elif e.blocker_id == me and isinstance(e, (Block.UserBlocked, Block.UserBlockedAgain)):
                    history.append({"status": "blocked", "at": iso(e.timestamp)})
                elif e.blocker_id == me and isinstance(e, Block.UserUnblocked):
                    history.append({"status": "unblocked", "at": iso(e.timestamp)})
            if history:
                yield dumps({"blocked_user_id": str(blocked), "history": history})

    def _uploads(self) -> Iterator[Piece]:
        for upload_id, _ in self.streams.uploads:
            upload = self._upload(upload_id)
            yield None
            if upload is not None:
                yield dumps(upload)

    def _upload(self, upload_id: UUID) -> Json | None:
        """An upload of the person's: its metadata (never its bytes or their digests) and where it is attached."""
        found: Json | None = None
        for e in self._events(upload_id):
            if isinstance(e, Upload.UploadStored):
                if e.uploader_id != self.user_id:
                    return None
                found = {
                    "id": str(upload_id),
                    "filename": e.filename,
                    "content_type": e.content_type,
                    "size": e.size,
                    "width": e.width,
                    "height": e.height,
                    "uploaded_at": iso(e.timestamp),
                    "conversation_id": None,
                    "message_id": None,
                    "position": None,
                    "attached_at": None,
                }
            elif isinstance(e, Upload.UploadAttached) and found is not None:
                found.update(
                    conversation_id=str(e.conversation_id),
                    message_id=str(e.message_id),
                    position=e.position,
                    attached_at=iso(e.timestamp),
                )
        return found

    # -- conversations: the person's membership ------------------------------------------------------
    def _conversations(self) -> Iterator[Piece]:
        for conversation_id in self.streams.conversations:
            summary: Json | None = None
            for piece in self._membership(conversation_id):
                if isinstance(piece, dict):
                    summary = piece
                else:
                    yield None
            if summary is not None:
                yield dumps(summary)

    def _membership(self, conversation_id: UUID) -> Iterator[Json | None]:
        """Pass 1: the conversation as the person knew it, their periods, roles, mutes, markers and the
        changes they made; its last version read is kept for the later passes."""
        me = self.user_id
        summary: Json | None = None
        periods: list[Json] = []
        roles: list[Json] = []
        mutes: list[Json] = []
        actions: list[Json] = []
        markers = {"last_delivered_seq": 0, "last_read_seq": 0}

        def join(seq: int, at: str, role: str, added_by: UUID | None) -> None:
            periods.append(
                {
                    "from_seq": seq,
                    "to_seq": None,
                    "joined_at": at,
                    "left_at": None,
                    "added_by": str(added_by) if added_by else None,
                    "ended": None,
                    "ended_by": None,
                }
            )
            roles.append({"role": role, "at": at})

        def end(seq: int, at: str, how: str, by: UUID) -> None:
            if periods and periods[-1]["to_seq"] is None:
                periods[-1].update(to_seq=seq, left_at=at, ended=how, ended_by=str(by))

        def act(e: Any, action: str, user_ids: list[UUID], title: str | None = None, role: str | None = None) -> None:
            at = iso(e.timestamp)
            users = [str(u) for u in user_ids]
            actions.append({"action": action, "seq": e.seq, "at": at, "user_ids": users, "title": title, "role": role})

        last = self._last_version(conversation_id)
        for e in self._events(conversation_id, last, MEMBERSHIP):
            if e is None:
                yield None
                continue
            at = iso(e.timestamp)
            if isinstance(e, Conversation.ConversationStarted):
                summary = {
                    "id": str(conversation_id),
                    "kind": e.kind,
                    "title": e.title,
                    "created_at": at,
                    "started_by": str(e.started_by),
                }
                if me in e.member_ids:
                    join(1, at, OWNER if e.kind == GROUP and e.started_by == me else MEMBER, None)
            elif summary is None:
                return
            elif isinstance(e, Conversation.MembersAdded):
                if me in e.user_ids:
                    join(e.seq, at, MEMBER, e.actor_id)
                if e.actor_id == me:
                    act(e, "added_members", e.user_ids)
            elif isinstance(e, Conversation.MemberRemoved):
                if e.user_id == me:
                    end(e.seq, at, "removed", e.actor_id)
                if e.actor_id == me:
                    act(e, "removed_member", [e.user_id])
            elif isinstance(e, Conversation.MemberLeft) and e.user_id == me:
                end(e.seq, at, "left", me)
            elif isinstance(e, Conversation.ConversationRenamed):
                summary["title"] = e.title
                if e.actor_id == me:
                    act(e, "renamed", [], title=e.title)
            elif isinstance(e, Conversation.MemberRoleChanged):
                if e.user_id == me:
                    roles.append({"role": e.role, "at": at})
                if e.actor_id == me and e.user_id != me:
                    act(e, "role_changed", [e.user_id], role=e.role)
            elif isinstance(e, Conversation.MuteSet) and e.user_id == me:
                mutes.append({"until": e.until, "at": at})
            elif isinstance(e, Conversation.MessagesDelivered) and e.user_id == me:
                markers["last_delivered_seq"] = max(markers["last_delivered_seq"], e.up_to_seq)
            elif isinstance(e, Conversation.MessagesRead) and e.user_id == me:
                markers["last_read_seq"] = max(markers["last_read_seq"], e.up_to_seq)
                markers["last_delivered_seq"] = max(markers["last_delivered_seq"], e.up_to_seq)
        if summary is None or not periods:
            return
        self._versions[conversation_id] = last
        yield {**summary, "periods": periods, "roles": roles, "mutes": mutes, "actions": actions, **markers}

    # -- the person's messages and reactions -----------------------------------------------------------
    def _messages(self) -> Iterator[Piece]:
        for conversation_id, last in self._versions.items():
            facts: dict[UUID, _MessageFacts] = {}
            yield from self._facts(conversation_id, last, facts)
            for e in self._events(conversation_id, last, (Conversation.MessageSent,)):
                if e is None:
                    yield None
                elif e.sender_id == self.user_id:
                    yield dumps(self._message(conversation_id, e, facts.pop(e.message_id, None)))

    def _facts(self, conversation_id: UUID, last: int, facts: dict[UUID, _MessageFacts]) -> Iterator[Piece]:
        """Pass 2: the edits and deletions of the person's messages in the conversation, and the
        attachments of their uploads there."""
        mine: dict[UUID, bool] = {}  # message id -> sent by the person (its ClientMessageKey says)
        for e in self._events(conversation_id, last, (Conversation.MessageEdited, Conversation.MessageDeleted)):
            if e is None:
                yield None
            else:
                if e.message_id not in mine:
                    mine[e.message_id] = self._sent_by_me(e.message_id)
                if not mine[e.message_id]:
                    continue
                found = facts.setdefault(e.message_id, _MessageFacts())
                if isinstance(e, Conversation.MessageEdited):
                    found.edits.append({"body": e.body, "at": iso(e.timestamp)})
                else:
                    found.deleted_at = iso(e.timestamp)
        for upload_id, attached_in in self.streams.uploads:
            if attached_in != conversation_id:
                continue
            upload = self._upload(upload_id)
            yield None
            if upload is not None and upload["message_id"] is not None:
                found = facts.setdefault(UUID(upload["message_id"]), _MessageFacts())
                found.attachments.append((upload["position"], upload))

    def _last_version(self, aggregate_id: UUID) -> int:
        """The stream's last version now: every pass over it stops there (events appended meanwhile wait
        for the next export)."""
        newest = self.app.recorder.select_events(aggregate_id, desc=True, limit=1)
        return newest[0].originator_version if newest else 0

    def _sent_by_me(self, message_id: UUID) -> bool:
        key = next(iter(self.app.events.get(message_id, limit=1)), None)
        return isinstance(key, ClientMessageKey.ClientMessageKeyClaimed) and key.sender_id == self.user_id

    def _message(self, conversation_id: UUID, sent: Any, facts: _MessageFacts | None) -> Json:
        facts = facts or _MessageFacts()
        versions = [{"body": sent.body, "at": iso(sent.timestamp)}, *facts.edits]
        return {
            "id": str(sent.message_id),
            "conversation_id": str(conversation_id),
            "seq": sent.seq,
            "sent_at": iso(sent.timestamp),
            "body": versions[-1]["body"],
            "reply_to": str(sent.reply_to) if sent.reply_to else None,
            "versions": versions,
            "edited_at": facts.edits[-1]["at"] if facts.edits else None,
            "deleted": facts.deleted_at is not None,
            "deleted_at": facts.deleted_at,
            "attachments": [upload for _, upload in sorted(facts.attachments, key=lambda pair: pair[0])],
        }

    def _reactions(self) -> Iterator[Piece]:
        me = self.user_id
        for conversation_id, last in self._versions.items():
            for e in self._events(conversation_id, last, REACTIONS):
                if e is None:
                    yield None
                elif e.user_id == me:
                    yield dumps(
                        {
                            "conversation_id": str(conversation_id),
                            "message_id": str(e.message_id),
                            "emoji": e.emoji,
                            "action": "added" if isinstance(e, Conversation.ReactionAdded) else "removed",
                            "at": iso(e.timestamp),
                        }
                    )


def _answerer(history: list[Json], me: UUID, other: UUID) -> str:
    """Who answered the latest request: the one it was not from."""
    return str(other) if history[-1]["by"] == str(me) else str(me)


def _array(name: str, items: Iterator[Piece]) -> Iterator[Piece]:
    yield f", {dumps(name)}: ["
    first = True
    for item in items:
        if item:
            yield item if first else ", " + item
            first = False
        else:
            yield None
    yield "]"
