"""The gate in front of the Socket.IO handlers, for an orderly shutdown.

While open it only counts the events being handled. Once closed (SIGTERM): a new handshake is
refused (`connect_error`, code `internal`), a new event is answered at once with an `internal` ack
(nothing was done), and the events already running are let finish; `cancel` ends those still running
at the shutdown's deadline, and each still answers (handlers.py turns the cancellation into an
`internal` ack that says it may not have been done).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from application.unit_of_work import ShuttingDown
from interfaces.sockets.handlers import failure

log = logging.getLogger("parley.sockets")

NOT_WRAPPED = frozenset({"disconnect"})  # a socket leaving is always handled


class EventGate:
    def __init__(self) -> None:
        self.closed = False
        self._running: set[asyncio.Task[Any]] = set()
        self._idle: asyncio.Event | None = None

    def guard(self, sio: socketio.AsyncServer, namespace: str = "/") -> None:
        """Put the gate in front of every handler registered so far in `namespace`."""
        handlers = sio.handlers.get(namespace, {})
        for event, handler in list(handlers.items()):
            if event == "connect":
                handlers[event] = self._connect(handler)
            elif event not in NOT_WRAPPED:
                handlers[event] = self._event(handler)

    @property
    def running(self) -> int:
        return len(self._running)

    def close(self) -> None:
        """From now on refuse handshakes and events; those running go on."""
        self.closed = True

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no event or handshake is running; False if `timeout` passed first."""
        if not self._running:
            return True
        self._idle = self._idle or asyncio.Event()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def cancel(self) -> int:
        """Cancel what is still running (each answers as it unwinds); return how many."""
        running = list(self._running)
        for task in running:
            task.cancel()
        return len(running)

    # -- the wrappers ------------------------------------------------------------------------------------
    def _event(self, handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def gated(*args: Any) -> Any:
            if self.closed:
                return failure(ShuttingDown("The server is restarting; nothing was changed."))
            return await self._run(handler, args)

        return gated

    def _connect(self, handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def gated(*args: Any) -> Any:
            if self.closed:
                raise shutting_down()
            try:
                return await self._run(handler, args)
            except asyncio.CancelledError:  # cut short by the shutdown: refused, not half accepted
                raise shutting_down() from None

        return gated

    async def _run(self, handler: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> Any:
        # python-socketio runs each event (and handshake) in a task of its own: that task is what
        # `cancel` cancels.
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - always inside a task under python-socketio
            return await handler(*args)
        self._running.add(task)
        if self._idle is not None:
            self._idle.clear()
        try:
            return await handler(*args)
        finally:
            self._running.discard(task)
            if not self._running and self._idle is not None:
                self._idle.set()


def shutting_down() -> socketio.exceptions.ConnectionRefusedError:
    """A handshake refused because the server is stopping: the client tries again later (elsewhere)."""
    message = "The server is restarting; connect again in a moment."
    error = socketio.exceptions.ConnectionRefusedError(message)
    error.error_args = {"message": message, "code": "internal", "data": {"code": "internal", "message": message}}
    return error
