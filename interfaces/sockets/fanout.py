"""Writing one event to every socket of a room: encoded once, queued to each socket in turn.

python-socketio's `AsyncManager.emit` encodes the packet once, then creates one task per recipient and
awaits them all; each task only puts the packet on that socket's Engine.IO queue, which never
suspends. Under load the tasks cost more than the writes (about a sixth of the server's CPU at 200
pairs), and awaiting them takes a turn of the event loop per emit, so one emitter task could send
about one event per turn. `DirectFanout.emit` queues the same packet to each recipient in order,
without tasks: a whole batch of broadcasts goes out in one step of the loop. Used alone (one process)
and under the Redis manager (`interfaces/sockets/redis_manager.py`), whose listener hands each event
heard in Redis to this local emit. A departed member's sockets leave the conversation's rooms here too.

It also keeps, beside the library's rooms, the rooms each socket is in: the library finds a leaving
socket's rooms by testing every room of the namespace (and keeps its connecting and disconnecting sockets
in lists it scans on every emit), which makes a reconnect storm quadratic - 1,000 sockets dropping at once
among 2,000 rooms cost about a second of the event loop. Here a disconnect touches only its own rooms.
"""

from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

from interfaces.sockets.rooms import leave_rooms


class SidSet(dict[Any, None]):
    """The library's list of pending sids, as an ordered set: what it does with the list (`in`,
    `append`, `remove`, `len`) in constant time."""

    def append(self, sid: Any) -> None:
        self[sid] = None

    def remove(self, sid: Any) -> None:
        try:
            del self[sid]
        except KeyError:
            raise ValueError(sid) from None


class PendingSids(dict[Any, SidSet]):
    """namespace -> SidSet, whatever the library stores (it stores a new list)."""

    def __setitem__(self, namespace: Any, sids: Any) -> None:
        super().__setitem__(namespace, sids if isinstance(sids, SidSet) else SidSet((sid, None) for sid in sids))


class DirectFanout(socketio.AsyncManager):  # type: ignore[misc]  # (python-socketio is untyped)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pending_connect = PendingSids()
        self.pending_disconnect = PendingSids()
        self._rooms_of: dict[tuple[str, str], set[Any]] = {}  # (namespace, sid) -> its rooms (None included)

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: Any = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """The library's, but leaving only the rooms the socket is in."""
        if namespace not in self.rooms:
            return
        for room in list(self._rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            sids = pending.get(namespace)
            if sids is not None and sid in sids:
                sids.remove(sid)
                if not sids:
                    del pending[namespace]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [room for room in self._rooms_of.get((namespace, sid), ()) if room is not None]

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: str | None = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> None:
        if callback is not None:  # a distinct ack id per recipient: the library's way
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs)
            return
        room = to or room
        if namespace not in self.rooms:
            return
        if event == "conversation_updated" and isinstance(data, dict) and data.get("left") and isinstance(room, str):
            await self._leave_departed(room, data["id"])
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        encoded = self.server.packet_class(packet.EVENT, namespace=namespace, data=[event, *args]).encode()
        packets = [
            eio_packet.Packet(eio_packet.MESSAGE, p) for p in (encoded if isinstance(encoded, list) else [encoded])
        ]
        for sid, eio_sid in list(self.get_participants(namespace, room)):
            if sid in skip:
                continue
            for eio_pkt in packets:
                await self.server._send_eio_packet(eio_sid, eio_pkt)

    async def _leave_departed(self, user_room: str, conversation_id: str) -> None:
        """A member removed or gone is told last (`left: true`, to their user room): as that event is
        sent, in order with every other broadcast, this process's sockets of theirs leave the
        conversation's rooms, so nothing more of it reaches them (contract section 7). Done here, in
        the local emit, it happens in every server process: with Redis each process runs it as it
        hands the event to its own sockets."""
        for sid, _ in list(self.get_participants("/", user_room)):
            await leave_rooms(self.server, sid, conversation_id)
