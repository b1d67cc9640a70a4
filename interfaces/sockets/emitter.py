"""How broadcasts leave the broadcaster's thread (projections/broadcast_thread.py), in order: to this
server's event loop (`LoopEmitter`), or, in a process without sockets, to Redis for every server
process (`RedisEmitter`)."""

import asyncio
import contextlib
import logging
from typing import Any

import socketio

from interfaces.sockets.redis_manager import RedisPublisher

log = logging.getLogger("parley.emitter")


class LoopEmitter:
    """Thread-safe `emit`: events queue up and one task sends them in the order they were emitted,
    so each socket sees a conversation's `message_new` events in ascending seq. A stopping server
    `flush`es what is queued before its sockets close; after `stop`, emits are dropped."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[str, Any, str]] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._task = self._loop.create_task(self._drain())

    async def flush(self, timeout: float) -> bool:
        """Wait until every event emitted so far has been handed to Socket.IO; False on timeout.
        Events the broadcaster emitted before this call are in the queue already, provided the call
        comes after the broadcaster's own flush returned on this loop (call_soon_threadsafe is FIFO)."""
        if self._queue is None or self._task is None or self._task.done():
            return True
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            return False
        return True

    async def stop(self, timeout: float = 0.5) -> None:
        """Send what is still queued (bounded), then stop; later emits are dropped."""
        if self._task is None:
            return
        if not await self.flush(timeout) and self._queue is not None:
            log.warning("stopping with %d broadcasts unsent", self._queue.qsize())
        self._loop = None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def emit(self, event: str, payload: Any, room: str) -> None:
        loop, queue = self._loop, self._queue
        if loop is None or queue is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: the process is ending
            loop.call_soon_threadsafe(queue.put_nowait, (event, payload, room))

    async def _drain(self) -> None:
        assert self._queue is not None
        while True:
            event, payload, room = await self._queue.get()
            try:
                await self.sio.emit(event, payload, room=room)
            except Exception:
                log.exception("could not emit %s to %s", event, room)
            finally:
                self._queue.task_done()


class RedisEmitter:
    """`emit` for a process without sockets (`parley projections run`): publishes each event on the
    Socket.IO channel in Redis, where every server process's Redis manager hears it and hands it to
    its own sockets in that room ("emitting from external processes" in python-socketio). Called from
    the broadcaster's thread, in order; the sync client blocks that thread only, for TIMEOUT_SECONDS at
    most (infrastructure/redis_clients.py). While Redis is down the events are dropped at once, and
    clients catch up with `get_messages(after_seq=...)` (interfaces/sockets/redis_manager.py)."""

    def __init__(self, url: str, channel: str) -> None:
        self.manager = RedisPublisher(url, channel)  # bounded; drops events while Redis is down

    def emit(self, event: str, payload: Any, room: str) -> None:
        self.manager.emit(event, payload, namespace="/", room=room)
