"""The contract's own ceiling: a python-socketio server with no storage that does the socket work the
wire contract demands of a send, so Parley's throughput can be read against what any server keeping
the contract would have to do, not only against a relay that echoes (benchmarks/bare_relay.py).

    python -m benchmarks.contract_relay --port 8766      # serves until stopped

For each `send_message` it validates the payload with Parley's own request model and normalises the
body as the domain does, keeps the message
in memory (seq counted per conversation, idempotent on the sender's client_message_id), and emits what
Parley emits: `message_new` (the Message) to the conversation's room, `conversation_updated` (each
member's own ConversationSummary: members, last_message with its status, their unread_count) to each
member's user room, and acks {ok, message}. Every payload is built by projections.shapes' builders, so
shapes and sizes are Parley's; the JSON codec is Parley's (orjson).

What it does not do: store anything, check membership or connections, rate-limit, announce presence
or typing. It trusts its clients: the handshake's token is a Parley access token (an HS256 JWT, checked
with PARLEY_JWT_SECRET, by default the test servers' secret) whose subject is the user id, or any other
string, mapped to a user id of its own; a user who joins or sends to a conversation it does not know
becomes one of its members (the conversation is made then), and `start_conversation` makes one with
the members named. So the suite can drive it with the users and conversations it made on Parley.
"""

import argparse
import hashlib
import os
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import jwt
import socketio
import uvicorn
from pydantic import BaseModel, ValidationError

from domain.errors import InvalidInput
from domain.messages import normalize_body
from infrastructure.gc_tuning import tune_for_serving
from infrastructure.settings import Settings
from interfaces.schemas import ConversationRef, GetMessages, MarkUpTo, SendMessage, StartConversation
from interfaces.sockets.json_codec import OrjsonJson
from projections import shapes
from projections.broadcasts import conversation_room, user_room
from projections.shapes import ConversationSummary, Message, Row, iso

TEST_SECRET = "test-secret-" + "x" * 32  # tests/support/server.py's: the tokens the suite's cast holds
Ack = dict[str, Any]


def now() -> str:
    return iso(datetime.now(UTC))


class Conversation:
    """A conversation in memory: its row, its members' rows (markers, unread counts) as the read models
    hold them, its messages in seq order and the sends already taken (sender, client_message_id)."""

    def __init__(self, conversation_id: str, kind: Literal["direct", "group"], title: str | None) -> None:
        self.row: Row = {
            "id": conversation_id,
            "kind": kind,
            "title": title,
            "created_at": now(),
            "last_message_at": None,
        }
        self.members: list[Row] = []  # ordered by username, as Parley lists them
        self.by_user: dict[str, Row] = {}
        self.messages: list[Message] = []
        self.taken: dict[tuple[str, str], Message] = {}

    def add(self, profile: shapes.User) -> Row:
        member = self.by_user.get(profile["id"])
        if member is None:
            member = {
                "user_id": profile["id"],
                "user_username": profile["username"],
                "user_display_name": profile["display_name"],
                "user_created_at": profile["created_at"],
                "user_deleted": profile["deleted"],
                "last_delivered_seq": 0,
                "last_read_seq": 0,
                "unread_count": 0,
                "role": "member",
            }
            self.by_user[profile["id"]] = member
            self.members.append(member)
            self.members.sort(key=lambda m: m["user_username"])
        return member

    def unread(self, user_id: str, read: int) -> int:
        return sum(1 for m in self.messages[read:] if m["sender_id"] != user_id)


class ContractRelay:
    """The server's state and its Socket.IO handlers."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.sio = socketio.AsyncServer(async_mode="asgi", json=OrjsonJson)
        self.app = socketio.ASGIApp(self.sio)
        self.sessions: dict[str, str] = {}  # sid -> user id
        self.sockets: dict[str, int] = {}  # user id -> open sockets (their `online`)
        self.users: dict[str, shapes.User] = {}
        self.conversations: dict[str, Conversation] = {}
        self.sio.on("connect", self.connect)
        self.sio.on("disconnect", self.disconnect)
        events: dict[str, tuple[type[BaseModel], Any]] = {
            "start_conversation": (StartConversation, self.start_conversation),
            "join_conversation": (ConversationRef, self.join_conversation),
            "leave_conversation": (ConversationRef, self.leave_conversation),
            "send_message": (SendMessage, self.send_message),
            "get_messages": (GetMessages, self.get_messages),
            "mark_as_delivered": (MarkUpTo, self.mark_as_delivered),
            "mark_as_read": (MarkUpTo, self.mark_as_read),
        }
        for name, (model, handler) in events.items():
            self.sio.on(name, self._acking(model, handler))
        self.sio.on("*", self.unknown)

    # -- handshake ----------------------------------------------------------------------------------
    def user_of(self, token: str) -> str:
        """The token's subject if it is an access token signed with the secret, else an id of its own."""
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], options={"require": ["sub"]})
            return str(uuid.UUID(claims["sub"]))
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"contract-relay:{token}"))

    def profile(self, user_id: str) -> shapes.User:
        """A user as Parley shows one; the username as long as the suite's (12 characters)."""
        if user_id not in self.users:
            username = "u" + hashlib.sha1(user_id.encode()).hexdigest()[:11]
            self.users[user_id] = shapes.user(
                {"id": user_id, "username": username, "display_name": username, "created_at": now(), "deleted": 0}
            )
        return self.users[user_id]

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            raise socketio.exceptions.ConnectionRefusedError("Missing access token: connect with auth {token}.")
        user_id = self.user_of(token)
        self.profile(user_id)
        self.sessions[sid] = user_id
        self.sockets[user_id] = self.sockets.get(user_id, 0) + 1
        await self.sio.enter_room(sid, user_room(user_id))

    async def disconnect(self, sid: str, reason: Any = None) -> None:
        user_id = self.sessions.pop(sid, None)
        if user_id is not None:
            left = self.sockets.get(user_id, 1) - 1
            if left:
                self.sockets[user_id] = left
            else:
                self.sockets.pop(user_id, None)

    def _acking(self, model: type[BaseModel], handler: Any) -> Any:
        async def on_event(sid: str, *args: Any) -> Ack:
            user_id = self.sessions.get(sid)
            if user_id is None:
                return refused("unauthorized", "This socket is not signed in.")
            try:
                data = model.model_validate(args[0] if args else {})
            except ValidationError as error:
                return refused("validation_error", str(error.errors(include_url=False)[0]["msg"]))
            return await handler(user_id, sid, data)  # type: ignore[no-any-return]

        return on_event

    async def unknown(self, event: str, sid: str, *args: Any) -> Ack:
        return refused("not_found", f"There is no event {event!r}.")

    # -- state --------------------------------------------------------------------------------------
    def conversation(self, conversation_id: str, user_id: str) -> Conversation:
        """The conversation, made on first sight; the user one of its members."""
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            conversation = self.conversations[conversation_id] = Conversation(conversation_id, "direct", None)
        if user_id not in conversation.by_user:
            conversation.add(self.profile(user_id))
            if len(conversation.members) > 2 and conversation.row["kind"] == "direct":
                conversation.row["kind"] = "group"
        return conversation

    def summaries(self, conversation: Conversation) -> dict[str, ConversationSummary]:
        """Each member's own summary, as projections/reads.py's `summaries` builds them."""
        members = conversation.members
        shown = [shapes.member(m, m["user_id"] in self.sockets) for m in members]
        last = conversation.messages[-1] if conversation.messages else None
        last_shown = (
            shapes.message(dict(last), shapes.message_status(last["sender_id"], last["seq"], members)) if last else None
        )
        return {
            m["user_id"]: shapes.summary(conversation.row, shown, last_shown, m["unread_count"], role=m["role"])
            for m in members
        }

    async def updated(self, conversation: Conversation) -> None:
        for user_id, summary in self.summaries(conversation).items():
            await self.sio.emit("conversation_updated", summary, room=user_room(user_id))

    # -- the events ---------------------------------------------------------------------------------
    async def start_conversation(self, user_id: str, sid: str, data: StartConversation) -> Ack:
        others = list(dict.fromkeys(str(u) for u in data.user_ids if str(u) != user_id))
        kind: Literal["direct", "group"] = "direct" if len(others) == 1 and data.title is None else "group"
        conversation = Conversation(str(uuid.uuid4()), kind, data.title)
        self.conversations[conversation.row["id"]] = conversation
        for member in [user_id, *others]:
            conversation.add(self.profile(member))
        await self.updated(conversation)
        return {"ok": True, "conversation": self.summaries(conversation)[user_id]}

    async def join_conversation(self, user_id: str, sid: str, data: ConversationRef) -> Ack:
        conversation = self.conversation(str(data.conversation_id), user_id)
        await self.sio.enter_room(sid, conversation_room(conversation.row["id"]))
        return {"ok": True, "conversation": self.summaries(conversation)[user_id]}

    async def leave_conversation(self, user_id: str, sid: str, data: ConversationRef) -> Ack:
        await self.sio.leave_room(sid, conversation_room(data.conversation_id))
        return {"ok": True}

    async def send_message(self, user_id: str, sid: str, data: SendMessage) -> Ack:
        try:
            body = normalize_body(data.body, Settings.max_message_chars)  # as the domain does
        except InvalidInput as error:
            return refused("validation_error", str(error))
        conversation = self.conversation(str(data.conversation_id), user_id)
        key = (user_id, str(data.client_message_id))
        if (taken := conversation.taken.get(key)) is not None:  # a retry: the same message, nothing emitted
            return {"ok": True, "message": taken}
        sent_at = now()
        message = shapes.message(
            {
                "id": str(uuid.uuid4()),
                "conversation_id": conversation.row["id"],
                "seq": len(conversation.messages) + 1,
                "sender_id": user_id,
                "body": body,
                "client_message_id": key[1],
                "sent_at": sent_at,
            },
            "sent",
        )
        conversation.messages.append(message)
        conversation.taken[key] = message
        conversation.row["last_message_at"] = sent_at
        for member in conversation.members:
            if member["user_id"] != user_id:
                member["unread_count"] += 1
        await self.sio.emit("message_new", message, room=conversation_room(conversation.row["id"]))
        await self.updated(conversation)
        return {"ok": True, "message": message}

    async def get_messages(self, user_id: str, sid: str, data: GetMessages) -> Ack:
        conversation = self.conversation(str(data.conversation_id), user_id)
        held = conversation.messages  # held[i] has seq i + 1
        if data.after_seq is not None:
            page = held[data.after_seq : data.after_seq + data.limit]
            has_more = len(held) > data.after_seq + data.limit
        else:
            end = len(held) if data.before_seq is None else min(len(held), data.before_seq - 1)
            page = held[max(0, end - data.limit) : end]
            has_more = end > data.limit
        members = conversation.members
        messages = [shapes.message(dict(m), shapes.message_status(m["sender_id"], m["seq"], members)) for m in page]
        return {"ok": True, "messages": messages, "has_more": has_more}

    async def mark(self, user_id: str, data: MarkUpTo, read: bool) -> Conversation:
        """Move the member's markers forward (reading implies delivery), tell the room, then every member."""
        conversation = self.conversation(str(data.conversation_id), user_id)
        member = conversation.by_user[user_id]
        up_to = min(data.up_to_seq, len(conversation.messages))
        at, room = now(), conversation_room(conversation.row["id"])
        if up_to > member["last_delivered_seq"]:
            member["last_delivered_seq"] = up_to
            payload = shapes.messages_delivered(conversation.row["id"], user_id, up_to, at)
            await self.sio.emit("messages_delivered", payload, room=room)
        if read:
            member["last_read_seq"] = up_to
            member["unread_count"] = conversation.unread(user_id, up_to)
            await self.sio.emit(
                "messages_read", shapes.messages_read(conversation.row["id"], user_id, up_to, at), room=room
            )
        await self.updated(conversation)
        return conversation

    async def mark_as_delivered(self, user_id: str, sid: str, data: MarkUpTo) -> Ack:
        await self.mark(user_id, data, read=False)
        return {"ok": True}

    async def mark_as_read(self, user_id: str, sid: str, data: MarkUpTo) -> Ack:
        conversation = await self.mark(user_id, data, read=True)
        return {"ok": True, "unread_count": conversation.by_user[user_id]["unread_count"]}


def refused(code: str, message: str) -> Ack:
    return {"ok": False, "error": {"code": code, "message": message}}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.contract_relay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    relay = ContractRelay(os.environ.get("PARLEY_JWT_SECRET", TEST_SECRET))
    tune_for_serving()  # as `parley serve` does (gc frozen after start-up, higher thresholds)
    uvicorn.run(relay.app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
