"""Leaving a conversation's rooms: on `leave_conversation`, and for a member removed from a group or
gone, as their last `conversation_updated` is sent (`DirectFanout`, interfaces/sockets/fanout.py)."""

from typing import Any

import socketio

from projections.broadcasts import conversation_room


async def leave_rooms(sio: socketio.AsyncServer, sid: str, conversation_id: Any) -> None:
    """The socket leaves the conversation's room and its period's room."""
    room = conversation_room(conversation_id)
    for joined in list(sio.rooms(sid)):
        if joined == room or joined.startswith(f"{room}:"):
            await sio.leave_room(sid, joined)
