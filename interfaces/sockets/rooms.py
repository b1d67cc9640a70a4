"""Who stays in a conversation's room: a member removed from a group, or gone, leaves it.

`RoomKeeping` stands between the `LoopEmitter` and the Socket.IO server. The broadcaster tells a
departed member last (`conversation_updated` with `left: true`, to their user room); as that event
is sent, in order with every other broadcast, this process's sockets of that user leave the
conversation's room, so nothing more of it reaches them (contract section 7). With several
processes, each process's sockets leave as that process delivers the event it hears from Redis only
when it emits locally: see docs/architecture.md (Rooms)."""

from typing import Any

import socketio

from projections.broadcasts import conversation_room


class RoomKeeping:
    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio

    async def emit(self, event: str, payload: Any, room: str | None = None, **options: Any) -> None:
        if event == "conversation_updated" and room and room.startswith("user:") and payload.get("left"):
            await self.leave(room, payload["id"])
        await self.sio.emit(event, payload, room=room, **options)

    async def leave(self, user_room: str, conversation_id: str) -> None:
        for sid, _ in list(self.sio.manager.get_participants("/", user_room)):
            await leave_rooms(self.sio, sid, conversation_id)


async def leave_rooms(sio: socketio.AsyncServer, sid: str, conversation_id: Any) -> None:
    """The socket leaves the conversation's room and its period's room."""
    room = conversation_room(conversation_id)
    for joined in list(sio.rooms(sid)):
        if joined == room or joined.startswith(f"{room}:"):
            await sio.leave_room(sid, joined)
