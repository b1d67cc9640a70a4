"""Client-to-server Socket.IO events (contract 2.1). Each: validate, authorise, call one handler, ack."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import socketio
from pydantic import BaseModel

from application.commands import Parley
from infrastructure import metrics
from infrastructure.blob_sweep import BlobCollector
from infrastructure.logs import context_id
from infrastructure.rate_limit import Limits
from interfaces.coalescer import Coalescer
from interfaces.contract import (
    CLIENT_EVENTS,
    ConversationAck,
    ConversationsAck,
    Done,
    EditsAck,
    MessageAck,
    MessagesAck,
    ReactionsAck,
    ReadAck,
    Refused,
    SearchAck,
)
from interfaces.errors import NotFound, Unauthorized, describe
from interfaces.runner import Interrupted, RequestTimedOut, Runner
from interfaces.schemas import (
    AddMembers,
    ConversationRef,
    EditMessage,
    GetConversations,
    GetMessages,
    MarkUpTo,
    MemberRef,
    MessageRef,
    MuteConversation,
    React,
    RenameConversation,
    SearchMessages,
    SendMessage,
    SetMemberRole,
    StartConversation,
)
from interfaces.sockets.rooms import leave_rooms
from interfaces.sockets.sessions import Sessions
from interfaces.sockets.typing import TypingTracker
from projections import shapes
from projections.broadcasts import conversation_room, period_room
from projections.queries import JoinRequest, MessagesRequest, Queries

log = logging.getLogger("parley.sockets")
M = TypeVar("M", bound=BaseModel)
Ack = Mapping[str, Any]  # one of the contract's acks (interfaces/contract.py)


class SocketEvents:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        run: Runner,
        commands: Parley,
        queries: Queries,
        limits: Limits,
        sessions: Sessions,
        typing: TypingTracker,
        collector: BlobCollector | None = None,
    ) -> None:
        self.sio = sio
        self.run = run
        self.app = commands
        self.queries = queries
        self.sessions = sessions  # filled by the handshake
        self.typing = typing
        self.limits = limits
        self.collector = collector  # removes a deleted message's attachment bytes
        self.deadline = run.deadline + 2  # past the runner's, so its more precise answer comes first
        # Joins and pages asked at the same time (a reconnect storm) share a worker-thread hop and a
        # read transaction (interfaces/coalescer.py); joins share their statements too.
        self.joins = Coalescer(run, queries.conversations_to_join)
        self.pages = Coalescer(run, queries.messages_of)

    def register(self) -> None:
        """Each client event of the contract (interfaces/contract.py: its payload model and ack) to the
        method of the same name."""
        for event in CLIENT_EVENTS:
            self.sio.on(event.name, self._acking(event.name, event.payload, getattr(self, event.name)))
        self.sio.on("*", self._unknown)

    def _acking(
        self, name: str, model: type[M] | None, handler: Callable[[UUID, str, M], Awaitable[Ack]]
    ) -> Callable[..., Awaitable[Ack]]:
        """A Socket.IO handler: authenticated socket, payload validated as `model`, every error an ack;
        each ack counted by outcome and timed (infrastructure/metrics.py)."""
        optional = model is not None and not any(f.is_required() for f in model.model_fields.values())
        acks = metrics.Acks(name)

        async def on_event(sid: str, *args: Any) -> Ack:
            started = time.perf_counter()
            ack = await answer(sid, *args)
            acks.record(ack, time.perf_counter() - started)
            return ack

        async def answer(sid: str, *args: Any) -> Ack:
            context_id.set(f"socket:{sid}")
            try:
                user_id = self.sessions.user(sid)
                if user_id is None:
                    raise Unauthorized("This socket is not signed in.")
                payload = args[0] if args else ({} if optional else None)
                data = model.model_validate(payload) if model else None
                async with asyncio.timeout(self.deadline):  # the backstop: the runner's own come first
                    return await handler(user_id, sid, data)  # type: ignore[arg-type]  # None: no payload
            except TimeoutError:
                return failure(RequestTimedOut(f"No answer within {self.deadline:.0f} s."))
            except asyncio.CancelledError:  # the server is stopping under this event: still answer
                return failure(Interrupted("Stopped while it ran."))
            except Exception as error:
                return failure(error)

        return on_event

    async def _unknown(self, event: str, sid: str, *args: Any) -> Refused:
        return failure(NotFound(f"There is no event {event!r}."))

    # -- the events ---------------------------------------------------------------------------------
    async def start_conversation(self, user_id: UUID, sid: str, data: StartConversation) -> ConversationAck:
        await self.limits.conversations.spend(str(user_id))
        recorded = await self.run.command(self.app.start_conversation, user_id, list(data.user_ids), data.title)
        return {
            "ok": True,
            "conversation": await self.run.query(user_id, self.queries.conversation, recorded.id, user_id),
        }

    async def join_conversation(self, user_id: UUID, sid: str, data: ConversationRef) -> ConversationAck:
        await self.run.readable_for(user_id)
        summary, since = await self.joins.ask(JoinRequest(data.conversation_id, user_id))
        if since is not None:  # a former member reads their periods but hears nothing new
            await self.sio.enter_room(sid, conversation_room(data.conversation_id))
            await self.sio.enter_room(sid, period_room(data.conversation_id, since))
        return {"ok": True, "conversation": summary}

    async def leave_conversation(self, user_id: UUID, sid: str, data: ConversationRef) -> Done:
        await self.run.call(self.queries.check_member, data.conversation_id, user_id)
        await leave_rooms(self.sio, sid, data.conversation_id)
        return {"ok": True}

    async def send_message(self, user_id: UUID, sid: str, data: SendMessage) -> MessageAck:
        self.run.loop_lag.admit()  # push-back: refused at once while the loop runs late (loop_lag.py)
        await self.limits.send.spend(str(user_id))
        attachments = tuple(data.attachment_ids)
        if self.run.submits:  # queued from the loop: no worker thread, no hand-offs
            sent = await self.run.submitted(
                self.app.submit_message(
                    data.conversation_id, user_id, data.client_message_id, data.body, data.reply_to, attachments
                ),
                user_id,
            )
        else:
            sent = await self.run.command(
                self.app.send_message,
                data.conversation_id,
                user_id,
                data.client_message_id,
                data.body,
                data.reply_to,
                attachments,
            )
        await self.typing.stop(user_id, data.conversation_id)
        if sent.is_retry or sent.reply_to is not None or sent.attachment_ids:  # read it as projected (Quote, files)
            found = await self.run.query(user_id, self.queries.message, sent.message_id)
            if found is None:  # the original is stored, not yet projected past the read-your-writes bound
                raise RequestTimedOut("The original of this retried message is not readable yet.")
            message = found
        else:
            message = shapes.message(
                {
                    "id": str(sent.message_id),
                    "conversation_id": str(sent.conversation_id),
                    "seq": sent.seq,
                    "sender_id": str(sent.sender_id),
                    "body": sent.body,
                    "client_message_id": str(sent.client_message_id),
                    "sent_at": shapes.iso(sent.sent_at) if sent.sent_at else "",
                    "mentions": " ".join(str(u) for u in sent.mentions),
                },
                "sent",
            )
        return {"ok": True, "message": message}

    async def edit_message(self, user_id: UUID, sid: str, data: EditMessage) -> MessageAck:
        await self.run.command(self.app.edit_message, data.conversation_id, user_id, data.message_id, data.body)
        return {"ok": True, "message": await self._message_now(data.message_id)}

    async def delete_message(self, user_id: UUID, sid: str, data: MessageRef) -> MessageAck:
        blobs = await self.run.call(self.queries.message_blobs, data.message_id)
        await self.run.command(self.app.delete_message, data.conversation_id, user_id, data.message_id)
        if blobs and self.collector is not None:  # the read models dropped its attachments: the bytes go
            await self.run.call(self.collector.collect, blobs)
        return {"ok": True, "message": await self._message_now(data.message_id)}

    async def search_messages(self, user_id: UUID, sid: str, data: SearchMessages) -> SearchAck:
        results, next_cursor = await self.run.query(
            user_id, self.queries.search, user_id, data.query, data.conversation_id, data.limit, data.before
        )
        return {"ok": True, "results": results, "next_cursor": next_cursor}

    async def get_message_edits(self, user_id: UUID, sid: str, data: MessageRef) -> EditsAck:
        versions = await self.run.query(
            user_id, self.queries.message_versions, data.conversation_id, data.message_id, user_id
        )
        return {"ok": True, "versions": versions}

    async def react(self, user_id: UUID, sid: str, data: React) -> ReactionsAck:
        changed = await self.run.command(
            self.app.react, data.conversation_id, user_id, data.message_id, data.emoji, data.add
        )
        return {"ok": True, "reactions": [shapes.reaction(emoji, list(users)) for emoji, users in changed.reactions]}

    async def _message_now(self, message_id: UUID) -> shapes.Message:
        """The message as the read models hold it once they reflect the command (read your writes)."""
        found = await self.run.call(self.queries.message, message_id)
        if found is None:  # stored, not yet projected past the read-your-writes bound
            raise RequestTimedOut("The message is not readable yet.")
        return found

    async def get_conversations(self, user_id: UUID, sid: str, data: GetConversations) -> ConversationsAck:
        conversations, next_cursor = await self.run.query(
            user_id, self.queries.conversations, user_id, data.limit, data.before
        )
        return {"ok": True, "conversations": conversations, "next_cursor": next_cursor}

    async def get_messages(self, user_id: UUID, sid: str, data: GetMessages) -> MessagesAck:
        await self.run.readable_for(user_id)
        messages, has_more = await self.pages.ask(
            MessagesRequest(data.conversation_id, user_id, data.before_seq, data.after_seq, data.limit)
        )
        return {"ok": True, "messages": messages, "has_more": has_more}

    async def mark_as_delivered(self, user_id: UUID, sid: str, data: MarkUpTo) -> Done:
        await self.run.command(self.app.mark_delivered, data.conversation_id, user_id, data.up_to_seq)
        return {"ok": True}

    async def mark_as_read(self, user_id: UUID, sid: str, data: MarkUpTo) -> ReadAck:
        await self.run.command(self.app.mark_read, data.conversation_id, user_id, data.up_to_seq)
        unread = await self.run.query(user_id, self.queries.unread_count, data.conversation_id, user_id)
        return {"ok": True, "unread_count": unread}

    # -- groups: membership, title, roles, mutes (contract sections 7-8) -------------------------------
    async def add_members(self, user_id: UUID, sid: str, data: AddMembers) -> ConversationAck:
        await self.run.command(self.app.add_members, data.conversation_id, user_id, list(data.user_ids))
        return await self._summary(data.conversation_id, user_id)

    async def remove_member(self, user_id: UUID, sid: str, data: MemberRef) -> ConversationAck:
        await self.run.command(self.app.remove_member, data.conversation_id, user_id, data.user_id)
        return await self._summary(data.conversation_id, user_id)

    async def leave_group(self, user_id: UUID, sid: str, data: ConversationRef) -> ConversationAck:
        await self.run.command(self.app.leave_group, data.conversation_id, user_id)
        await self.typing.stop(user_id, data.conversation_id)
        return await self._summary(data.conversation_id, user_id)

    async def rename_conversation(self, user_id: UUID, sid: str, data: RenameConversation) -> ConversationAck:
        await self.run.command(self.app.rename_conversation, data.conversation_id, user_id, data.title)
        return await self._summary(data.conversation_id, user_id)

    async def set_member_role(self, user_id: UUID, sid: str, data: SetMemberRole) -> ConversationAck:
        await self.run.command(self.app.set_member_role, data.conversation_id, user_id, data.user_id, data.role)
        return await self._summary(data.conversation_id, user_id)

    async def mute_conversation(self, user_id: UUID, sid: str, data: MuteConversation) -> ConversationAck:
        until = data.until if data.until is not None and data.until > datetime.now(UTC) else None
        await self.run.command(
            self.app.mute_conversation, data.conversation_id, user_id, shapes.iso(until) if until else None
        )
        return await self._summary(data.conversation_id, user_id)

    async def _summary(self, conversation_id: UUID, user_id: UUID) -> ConversationAck:
        return {
            "ok": True,
            "conversation": await self.run.query(user_id, self.queries.conversation, conversation_id, user_id),
        }

    async def typing_start(self, user_id: UUID, sid: str, data: ConversationRef) -> Done:
        if not self.typing.is_typing(user_id, data.conversation_id):
            await self.run.call(self.queries.check_member, data.conversation_id, user_id)
        await self.typing.start(user_id, data.conversation_id)
        return {"ok": True}

    async def typing_stop(self, user_id: UUID, sid: str, data: ConversationRef) -> Done:
        await self.run.call(self.queries.check_member, data.conversation_id, user_id)
        await self.typing.stop(user_id, data.conversation_id)
        return {"ok": True}


def failure(error: BaseException) -> Refused:
    _, body = describe(error)
    return {"ok": False, "error": body}
