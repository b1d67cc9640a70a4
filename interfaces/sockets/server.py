"""The Socket.IO server: handshake authentication, user rooms, presence and typing, the events."""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs
from uuid import UUID

import socketio

from application.commands import Parley
from infrastructure import metrics
from infrastructure.auth_sessions import SessionStore
from infrastructure.blob_sweep import BlobCollector
from infrastructure.logs import context_id
from infrastructure.presence import Presence
from infrastructure.rate_limit import Limits
from infrastructure.settings import Settings
from infrastructure.sql import SqlCursor
from infrastructure.tokens import Tokens
from interfaces import contract
from interfaces.auth import NO_SUCH_USER, SESSION_ENDED, token_claims
from interfaces.coalescer import Coalescer
from interfaces.errors import Unauthorized, describe
from interfaces.runner import Runner
from interfaces.sockets.ended_sessions import watch_ended_sessions
from interfaces.sockets.fanout import DirectFanout
from interfaces.sockets.handlers import SocketEvents
from interfaces.sockets.json_codec import JsonPacket, OrjsonJson
from interfaces.sockets.redis_manager import SocketRedisManager
from interfaces.sockets.sessions import Sessions
from interfaces.sockets.typing import TypingTracker
from projections.broadcasts import conversation_room, user_room
from projections.queries import Queries
from projections.shapes import iso, presence

MAX_FRAME_BYTES = 256 * 1024
Start = tuple[list[UUID], set[UUID]]  # a new socket's user's connected users, and those of them online
log = logging.getLogger("parley.sockets")


def create_socket_server(settings: Settings) -> socketio.AsyncServer:
    """With PARLEY_REDIS_URL, rooms are shared through Redis: an emit to a room reaches its sockets
    in every server process (python-socketio's AsyncRedisManager, bounded: interfaces/sockets/redis_manager.py)."""
    manager: socketio.AsyncManager = DirectFanout()
    if settings.redis_url:
        manager = SocketRedisManager(settings.redis_url, channel=f"{settings.redis_prefix}:socketio")
    return socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        serializer=JsonPacket,
        json=OrjsonJson,
        max_http_buffer_size=MAX_FRAME_BYTES,
        ping_interval=20,
        ping_timeout=20,
    )


async def listen_to_redis(sio: socketio.AsyncServer, timeout: float = 5.0) -> None:
    """Start the Redis manager's listener now rather than at the first client, and wait until it is
    subscribed: events published from then on (by other processes) reach this process's sockets."""
    manager = sio.manager
    if not isinstance(manager, socketio.AsyncRedisManager) or sio.manager_initialized:
        return
    sio.manager_initialized = True
    manager.initialize()
    deadline = asyncio.get_running_loop().time() + timeout
    while not (manager.pubsub is not None and manager.pubsub.subscribed):
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError("could not subscribe to the Socket.IO channel in Redis")
        await asyncio.sleep(0.01)


class SocketApi:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        run: Runner,
        commands: Parley,
        queries: Queries,
        tokens: Tokens,
        presence: Presence,
        limits: Limits,
        auth_sessions: SessionStore,
        collector: BlobCollector | None = None,
    ) -> None:
        self.sio = sio
        self.auth_sessions = auth_sessions
        self.run = run
        self.queries = queries
        self.tokens = tokens
        self.presence = presence
        self.sessions = Sessions()
        metrics.count_sockets(self.sessions.__len__)
        self.typing = TypingTracker(self.announce_typing)
        self.events = SocketEvents(sio, run, commands, queries, limits, self.sessions, self.typing, collector)
        # Handshakes arriving together (a reconnect storm) are checked together: one worker-thread hop,
        # one read transaction and three statements for the whole batch (interfaces/coalescer.py).
        self.starts: Coalescer[tuple[UUID, UUID], Start | str] = Coalescer(run, self.begin)
        self._heartbeat: asyncio.Task[None] | None = None
        self._watching: asyncio.Task[None] | None = None
        if isinstance(sio.manager, SocketRedisManager):
            sio.manager.on_sessions_ended = self.disconnect_sessions

    def register(self) -> None:
        self.sio.on("connect", self.connect)
        self.sio.on("disconnect", self.disconnect)
        self.events.register()

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        """Accept the socket, or refuse it with `connect_error` {code, message}: `unauthorized` for its
        token, `internal` when the server fails (the store unreachable). Any other exception would leave
        the client without an answer until its own timeout (python-socketio sends nothing then)."""
        context_id.set(f"socket:{sid}")
        token = handshake_token(environ, auth)
        try:
            if not token:
                raise Unauthorized("Missing access token: connect with auth {token}.")
            claims = token_claims(self.tokens, token)
            user_id, session_id = claims.user_id, claims.session_id

            start = await self.starts.ask((session_id, user_id))
            if isinstance(start, str):
                raise Unauthorized(start)
        except Unauthorized as error:
            message = str(error)
            log.info("socket refused: %s", message)
            metrics.error_answered("unauthorized", 401)
            raise refused(message) from None
        except Exception as error:
            raise failed(error) from None
        connections, online = start
        self.sessions.add(sid, user_id, session_id)
        try:
            await self.sio.enter_room(sid, user_room(user_id))
            came_online = await self.presence.join(user_id, sid)
        except Exception as error:  # refused: no disconnect will follow (an unreachable Redis is not a reason
            # to refuse, and does not raise here: presence does without it, the heartbeat records the socket later)
            self.sessions.remove(sid)
            raise failed(error) from None
        log.info("socket connected for user %s", user_id)
        if came_online:
            await self.announce_presence(user_id, "online", connections)
        now = iso(datetime.now(UTC))
        for other in online:  # what this socket needs to start
            await self.sio.emit("presence", presence(other, "online", now), to=sid)

    def begin(self, keys: list[tuple[UUID, UUID]]) -> list[Start | str | Exception]:
        """For each handshake's (session, user): what the socket needs to start (the user's connected
        users and which of them are online), or why it is refused (the session ended or is not the
        user's, or no such user). In a worker thread."""

        def read(cur: SqlCursor) -> tuple[set[tuple[UUID, UUID]], dict[UUID, list[UUID]]]:  # (one database)
            live = SessionStore.live_among(cur, keys)
            return live, self.queries.connections_in(cur, [u for _, u in live])

        live, connections = self.auth_sessions.read(read)
        online = self.presence.online(list({o for others in connections.values() for o in others}))
        starts: list[Start | str | Exception] = []
        for session_id, user_id in keys:
            if (session_id, user_id) not in live:
                starts.append(SESSION_ENDED)
            elif (theirs := connections.get(user_id)) is None:
                starts.append(NO_SUCH_USER)
            else:
                starts.append((theirs, {o for o in theirs if o in online}))
        return starts

    async def end_sessions(self, session_ids: list[UUID]) -> None:
        """Sessions just ended: disconnect their sockets here, and (with Redis) ask every other server
        process to disconnect theirs."""
        if not session_ids:
            return
        await self.disconnect_sessions(session_ids)
        manager = self.sio.manager
        if isinstance(manager, SocketRedisManager):
            await manager.publish_sessions_ended(session_ids)

    async def disconnect_sessions(self, session_ids: list[UUID]) -> None:
        for sid in self.sessions.of_sessions(session_ids):
            log.info("socket of an ended session disconnected")
            with contextlib.suppress(Exception):
                await self.sio.disconnect(sid, ignore_queue=True)

    async def disconnect(self, sid: str, reason: Any = None) -> None:
        user_id = self.sessions.remove(sid)
        if user_id is None:
            return
        if not self.sessions.sockets(user_id):  # the typist's sockets here are gone: so is their typing
            await self.typing.stop_all(user_id)
        if await self.presence.leave(user_id, sid):
            await self.announce_presence(user_id, "offline")

    async def announce_presence(
        self, user_id: UUID, status: Literal["online", "offline"], connections: list[UUID] | None = None
    ) -> None:
        if connections is None:
            connections = await self.run.call(self.queries.connected_user_ids, user_id)
        payload = presence(user_id, status, iso(datetime.now(UTC)))
        for other in connections:
            await self.sio.emit("presence", payload, room=user_room(other))

    async def announce_typing(self, user_id: UUID, conversation_id: UUID, is_typing: bool) -> None:
        payload = contract.typing(conversation_id, user_id, is_typing)
        typist = await self.presence.sockets(user_id)  # in every process
        await self.sio.emit("typing", payload, room=conversation_room(conversation_id), skip_sid=typist)

    # -- presence of processes that die ----------------------------------------------------------------
    def start(self) -> None:
        self._watching = asyncio.get_running_loop().create_task(
            watch_ended_sessions(self.run, self.auth_sessions, self.sessions.session_ids, self.disconnect_sessions)
        )
        if self.presence.heartbeat_seconds:
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat(self.presence.heartbeat_seconds))

    async def stop(self) -> None:
        """Before the process ends: its sockets leave (and their users go offline where these were
        their last sockets), rather than waiting to expire."""
        if self._watching:
            self._watching.cancel()
        if self._heartbeat:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        for sid in self.sessions.sids():
            with contextlib.suppress(Exception):
                await self.disconnect(sid)

    async def _beat(self, seconds: float) -> None:
        """Keeps presence true: a heartbeat that fails (it does not for Redis being down: that only
        degrades it) is tried again next time; one announcement that fails does not lose the others."""
        while True:
            await asyncio.sleep(seconds)
            try:
                changes = await self.presence.heartbeat()
            except Exception:
                log.exception("presence heartbeat failed; trying again in %.0fs", seconds)
                continue
            announcements: list[tuple[UUID, Literal["online", "offline"]]] = [
                *((u, "online") for u in changes.online),
                *((u, "offline") for u in changes.offline),
            ]
            for user_id, status in announcements:
                try:
                    await self.announce_presence(user_id, status)
                except Exception:
                    log.exception("could not announce that user %s is %s", user_id, status)


def refused(message: str, code: str = "unauthorized") -> socketio.exceptions.ConnectionRefusedError:
    """The refusal's packet carries {code, message} both as its `data` (what socket.io-client exposes as
    `err.data`) and at its top level (what python-socketio hands the `connect_error` handler)."""
    error = socketio.exceptions.ConnectionRefusedError(message)
    error.error_args = {"message": message, "code": code, "data": {"code": code, "message": message}}
    return error


def failed(error: Exception) -> socketio.exceptions.ConnectionRefusedError:
    """A handshake that failed on the server's side, as a refusal with the contract's error (`internal`,
    logged with its correlation id, unless the error is one the contract names)."""
    _, body = describe(error)
    return refused(body["message"], body["code"])


def handshake_token(environ: dict[str, Any], auth: Any) -> str | None:
    """From `auth: {token}`, else `Authorization: Bearer`, else the `token` query parameter."""
    if isinstance(auth, dict) and isinstance(given := auth.get("token"), str):
        return given
    scheme, _, token = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    values = parse_qs(environ.get("QUERY_STRING", "")).get("token")
    return values[0] if values else None
