"""What a stopping server finishes before it lets its sockets go, within a bound.

In order: socket events still running finish (or, past their share of the bound, are cancelled and
answered `internal`); the group commit settles what is queued; the projector catches up with what was
stored; the broadcaster, then the loop emitter, send what they hold; Engine.IO writes out what is
queued for each websocket. Only then does uvicorn close the sockets (graceful_server.py). Every step
but the last is bounded by what is left of one deadline, and each one that runs out says so in the
log; the last (the acks of events cut short above) has a bound of its own.
"""

import asyncio
import logging
from collections.abc import Callable

import anyio
import socketio
from anyio import to_thread

from interfaces.bootstrap import Container
from interfaces.sockets.emitter import LoopEmitter
from interfaces.sockets.gate import EventGate

log = logging.getLogger("parley.shutdown")

IN_FLIGHT_SECONDS = 2.5  # of the drain's bound, what socket events get to finish
WRITES_SECONDS = 0.5  # beyond the drain's bound: Engine.IO writes out the last acks and broadcasts


class Drain:
    def __init__(self, container: Container, sio: socketio.AsyncServer, gate: EventGate, emitter: LoopEmitter) -> None:
        self.container = container
        self.sio = sio
        self.gate = gate
        self.emitter = emitter

    def stop_accepting(self) -> None:
        """New handshakes and events are refused from now on (those running go on)."""
        self.gate.close()

    async def __call__(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + seconds

        def left() -> float:
            return max(0.0, deadline - loop.time())

        self.stop_accepting()
        log.info("shutting down: %d socket events in flight", self.gate.running)
        if not await self.gate.wait_idle(min(IN_FLIGHT_SECONDS, left())):
            cancelled = self.gate.cancel()
            log.warning("shutting down: %d socket events did not finish in time; answered `internal`", cancelled)
            await self.gate.wait_idle(min(0.5, left()))
        await self._settle_writes(left)
        await self._project(left)
        await self._broadcast(left)
        await self._write_out(WRITES_SECONDS)
        log.info("shutting down: drained in %.2f s", loop.time() - started)

    async def _settle_writes(self, left: Callable[[], float]) -> None:
        """A no-op command through the group commit: once it is settled, so is everything queued before
        it (commands of events cancelled above, of HTTP requests)."""
        group_commit = self.container.app.group_commit
        if group_commit is None:
            return
        barrier = group_commit.submit(lambda unit: None)
        try:
            await asyncio.wait_for(asyncio.wrap_future(barrier), left())
        except TimeoutError:
            log.warning("shutting down: the group commit did not settle in time")
        except Exception as error:  # the store is down: what was queued was refused, each answered
            log.warning("shutting down: the group commit settled with %s", type(error).__name__)

    async def _project(self, left: Callable[[], float]) -> None:
        """The read models catch up with every stored event, so its broadcast goes out below."""
        if not self.container.projecting:  # another process projects and broadcasts (through Redis)
            return
        projector = self.container.projector
        with anyio.move_on_after(left()) as scope:
            head = await to_thread.run_sync(projector.head, abandon_on_cancel=True)
        if scope.cancelled_caught:
            log.warning("shutting down: could not read the head of the log in time")
            return
        try:
            await asyncio.wait_for(asyncio.wrap_future(projector.reached(head)), left())
        except TimeoutError:
            log.warning(
                "shutting down: the projector is at %d of %d; the rest is projected at the next start",
                projector.position,
                head,
            )

    async def _broadcast(self, left: Callable[[], float]) -> None:
        broadcast_thread = self.container.broadcast_thread
        if broadcast_thread is not None:
            # Bounded by its own timeout; the emits it makes reach the loop before this returns.
            if not await to_thread.run_sync(broadcast_thread.flush, left(), abandon_on_cancel=True):
                log.warning("shutting down: the broadcaster did not finish in time")
        if not await self.emitter.flush(left()):
            log.warning("shutting down: broadcasts left unsent")

    async def _write_out(self, seconds: float) -> None:
        """Wait until Engine.IO has taken every queued packet (acks, broadcasts) of each websocket to
        write; a long-polling client's packets wait for its next poll, which is not waited for."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while any(not queue.empty() for queue in self._websocket_queues()):
            if loop.time() >= deadline:
                log.warning("shutting down: some sockets' packets were left unwritten")
                return
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.01)  # one turn for the writer tasks that just took the last ones

    def _websocket_queues(self) -> list[asyncio.Queue[object]]:
        queues = []
        for socket in list(self.sio.eio.sockets.values()):
            queue = getattr(socket, "queue", None)
            if getattr(socket, "upgraded", False) and not getattr(socket, "closed", True) and queue is not None:
                queues.append(queue)
        return queues
