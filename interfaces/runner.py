"""Run the synchronous application from async handlers: a bounded pool of threads, never the loop.

Every wait here has a deadline (`PARLEY_REQUEST_TIMEOUT_SECONDS`): past it the caller gets
RequestTimedOut, which becomes an `internal` answer, rather than waiting on a store that does not
answer. A thread that is still busy then is abandoned (threads cannot be cancelled): it finishes on
its own and its result is dropped.
"""

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar
from uuid import UUID

import anyio
from anyio import to_thread

from infrastructure.settings import Settings
from interfaces.loop_lag import LoopLag
from projections.projector import Projector
from projections.queries import Queries

T = TypeVar("T")
UNPROJECTED_WINDOW = 200  # log positions a send may be acknowledged ahead of the read models (push-back)


class RequestTimedOut(Exception):
    """A request's work did not finish within its deadline. A write may still complete: retrying a send
    with the same client_message_id is safe."""


class Interrupted(Exception):
    """The server stopped while this request ran: it may or may not have been done."""


class AcknowledgedWrites:
    """Each user's latest write that this process acknowledged before the read models reflected it:
    what their next query waits for. Entries the projector has passed are dropped now and then, so the
    map holds only users with writes in flight (bounded by PRUNE_AT between prunes)."""

    PRUNE_AT = 10_000

    def __init__(self) -> None:
        self._positions: dict[UUID, int] = {}

    def note(self, user_id: UUID, position: int, projected: int) -> None:
        if position <= projected:
            return
        if position > self._positions.get(user_id, 0):
            self._positions[user_id] = position
        if len(self._positions) > self.PRUNE_AT:
            self._positions = {u: p for u, p in self._positions.items() if p > projected}

    def get(self, user_id: UUID) -> int:
        return self._positions.get(user_id, 0)


class Runner:
    """`projector`: this process's, when it projects (sends then wait for it on the loop itself)."""

    def __init__(self, settings: Settings, queries: Queries, projector: Projector | None, submits: bool) -> None:
        self.queries = queries
        self.projector = projector
        self.submits = submits and projector is not None
        self.limiter = anyio.CapacityLimiter(settings.worker_threads)
        self.deadline = settings.request_timeout_seconds
        self.read_your_writes_timeout = settings.read_your_writes_timeout
        self.acknowledged = AcknowledgedWrites()
        self.loop_lag = LoopLag()  # watched by the serving process (interfaces/asgi.py)

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking call (a query) in the pool."""
        return await self._in_thread(function, *args)

    async def command(self, function: Callable[..., T], *args: Any) -> T:
        """Run a command, then wait until the read models reflect it (read your writes)."""
        queries = self.queries

        def run() -> T:
            result = function(*args)
            queries.wait_for(getattr(result, "position", None))
            return result

        return await self._in_thread(run)

    async def _in_thread(self, function: Callable[..., T], *args: Any) -> T:
        try:
            with anyio.fail_after(self.deadline):
                return await to_thread.run_sync(function, *args, limiter=self.limiter, abandon_on_cancel=True)
        except TimeoutError:
            raise RequestTimedOut(f"No answer within {self.deadline:.0f} s.") from None

    async def submitted(self, future: "Future[T]", user_id: UUID) -> T:
        """Await a command queued for group commit on the loop itself (no worker thread, no hand-off),
        and answer as soon as it is durable: the user's later queries wait for it instead (`query`), as
        the contract allows ("Read your writes"). The group commit answers within its own deadline;
        this one is the backstop."""
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(future), self.deadline)
        except TimeoutError:
            raise RequestTimedOut(f"No answer within {self.deadline:.0f} s.") from None
        position = getattr(result, "position", None)
        projector = self.projector
        if position and projector is not None:
            self.acknowledged.note(user_id, position, projector.position)
            if position - projector.position > UNPROJECTED_WINDOW and not projector.failing_for():
                # Push back: while the projector (and so the broadcast) is further behind than the
                # window, acks wait for it to come within it, so delivery lag stays bounded under any
                # sustained load instead of growing with the queue (bounded wait; the write is durable).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        asyncio.wrap_future(projector.reached(position - UNPROJECTED_WINDOW)),
                        self.read_your_writes_timeout,
                    )
        return result

    async def query(self, user_id: UUID, function: Callable[..., T], *args: Any) -> T:
        """Run a query on behalf of `user_id` once the read models reflect every write of theirs this
        process acknowledged before they were projected; past the bound, `internal` (never an answer
        without them)."""
        await self.readable_for(user_id)
        return await self._in_thread(function, *args)

    async def readable_for(self, user_id: UUID) -> None:
        """Wait until the read models reflect every write of `user_id` this process acknowledged before
        they were projected (what `query` does first; a batched query does it before joining its batch)."""
        projector = self.projector
        position = self.acknowledged.get(user_id)
        if position and projector is not None and projector.position < position:
            reached = asyncio.wrap_future(projector.reached(position))
            try:
                await asyncio.wait_for(reached, self.read_your_writes_timeout)
            except TimeoutError:
                raise RequestTimedOut("Your latest messages are not readable yet.") from None
