"""How broadcasts leave the broadcaster's thread (projections/broadcast_thread.py), in order: to this
server's event loop (`LoopEmitter`), or, in a process without sockets, to Redis for every server
process (`RedisEmitter`)."""

import asyncio
import collections
import contextlib
import logging
import threading
from typing import Any

import socketio

from interfaces.sockets.redis_manager import RedisPublisher

log = logging.getLogger("parley.emitter")


class LoopEmitter:
    """Thread-safe `emit`: events queue up and one task sends them in the order they were emitted,
    so each socket sees a conversation's `message_new` events in ascending seq. The loop is woken once
    for whatever has queued meanwhile (not once per event), and the task sends all of it in one go
    (interfaces/sockets/fanout.py: no task, no suspension per recipient). A stopping server `flush`es
    what is queued before its sockets close; after `stop`, emits are dropped."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: collections.deque[tuple[str, Any, str]] = collections.deque()  # appended by any thread
        self._woken = threading.Event()  # set while a wake-up of the loop is already on its way
        self._ready: asyncio.Event | None = None
        self._emitted = 0  # events handed to `emit` (counted on the loop, when taken from `_pending`)
        self._sent = 0  # events handed to Socket.IO
        self._progress: asyncio.Condition | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._ready = asyncio.Event()
        self._progress = asyncio.Condition()
        self._task = self._loop.create_task(self._drain())

    async def flush(self, timeout: float) -> bool:
        """Wait until every event emitted so far has been handed to Socket.IO; False on timeout.
        Events the broadcaster emitted before this call are pending already, provided the call comes
        after the broadcaster's own flush returned."""
        if self._progress is None or self._task is None or self._task.done():
            return True
        target = self._emitted + len(self._pending)
        progress = self._progress
        try:
            async with asyncio.timeout(timeout):
                async with progress:
                    await progress.wait_for(lambda: self._sent >= target)
        except TimeoutError:
            return False
        return True

    async def stop(self, timeout: float = 0.5) -> None:
        """Send what is still queued (bounded), then stop; later emits are dropped."""
        if self._task is None:
            return
        if not await self.flush(timeout):
            log.warning("stopping with %d broadcasts unsent", len(self._pending))
        self._loop = None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def emit(self, event: str, payload: Any, room: str) -> None:
        loop = self._loop
        if loop is None:
            return
        self._pending.append((event, payload, room))
        if not self._woken.is_set():
            self._woken.set()
            with contextlib.suppress(RuntimeError):  # the loop is closed: the process is ending
                loop.call_soon_threadsafe(self._wake)

    def end_of_group(self) -> None:
        """(Nothing held: each emit is on its way to the loop, which is woken once for all of them.)"""

    def _wake(self) -> None:
        assert self._ready is not None
        self._ready.set()

    async def _drain(self) -> None:
        assert self._ready is not None and self._progress is not None
        while True:
            await self._ready.wait()
            self._ready.clear()
            self._woken.clear()  # from here on a new emit wakes the loop again
            while self._pending:
                event, payload, room = self._pending.popleft()
                self._emitted += 1
                try:
                    await self.sio.emit(event, payload, room=room)
                except Exception:
                    log.exception("could not emit %s to %s", event, room)
                self._sent += 1
            async with self._progress:
                self._progress.notify_all()


class RedisEmitter:
    """`emit` for a process without sockets (`parley projections run`): publishes each event on the
    Socket.IO channel in Redis, where every server process's Redis manager hears it and hands it to
    its own sockets in that room ("emitting from external processes" in python-socketio). Called from
    the broadcaster's thread, in order, and published together at the end of each group of them (one
    round trip; one PUBLISH each was most of the projector process's CPU under load); the sync client
    blocks that thread only, for TIMEOUT_SECONDS at most (infrastructure/redis_clients.py). While Redis is down the events are dropped at once, and
    clients catch up with `get_messages(after_seq=...)` (interfaces/sockets/redis_manager.py)."""

    def __init__(self, url: str, channel: str) -> None:
        self.manager = RedisPublisher(url, channel)  # bounded; drops events while Redis is down

    def emit(self, event: str, payload: Any, room: str) -> None:
        self.manager.emit_json(event, payload, room)  # held until end_of_group

    def end_of_group(self) -> None:
        self.manager.publish_held()
