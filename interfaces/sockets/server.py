"""The Socket.IO server: handshake authentication, user rooms, presence counting, the events."""

from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

import socketio

from interfaces.errors import Unauthorized
from interfaces.http.common import authenticate
from interfaces.runner import Runner
from interfaces.sockets.handlers import SocketEvents
from projections.broadcasts import user_room

MAX_FRAME_BYTES = 256 * 1024


def create_socket_server() -> socketio.AsyncServer:
    return socketio.AsyncServer(
        async_mode="asgi",
        max_http_buffer_size=MAX_FRAME_BYTES,
        ping_interval=20,
        ping_timeout=20,
    )


class SocketApi:
    def __init__(self, sio: socketio.AsyncServer, run: Runner) -> None:
        self.sio = sio
        self.run = run
        self.presence = run.container.presence
        self.users: dict[str, UUID] = {}
        self.events = SocketEvents(sio, run, self.users)

    def register(self) -> None:
        self.sio.on("connect", self.connect)
        self.sio.on("disconnect", self.disconnect)
        self.events.register()

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = handshake_token(environ, auth)
        try:
            if not token:
                raise Unauthorized("Missing access token: connect with auth {token}.")
            user_id = await authenticate(self.run, token)
        except Unauthorized as error:
            message = str(error)
            raise socketio.exceptions.ConnectionRefusedError(message, {"code": "unauthorized", "message": message})
        self.users[sid] = user_id
        await self.sio.enter_room(sid, user_room(user_id))
        self.presence.connected(user_id)

    async def disconnect(self, sid: str, reason: Any = None) -> None:
        user_id = self.users.pop(sid, None)
        if user_id is not None:
            self.presence.disconnected(user_id)


def handshake_token(environ: dict[str, Any], auth: Any) -> str | None:
    """From `auth: {token}`, else `Authorization: Bearer`, else the `token` query parameter."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return auth["token"]
    scheme, _, token = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    values = parse_qs(environ.get("QUERY_STRING", "")).get("token")
    return values[0] if values else None
