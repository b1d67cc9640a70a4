"""Run the synchronous application from async handlers: a bounded pool of threads, never the loop.

Every wait here has a deadline (`PARLEY_REQUEST_TIMEOUT_SECONDS`): past it the caller gets
RequestTimedOut, which becomes an `internal` answer, rather than waiting on a store that does not
answer. A thread that is still busy then is abandoned (threads cannot be cancelled): it finishes on
its own and its result is dropped.
"""

import asyncio
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import anyio
from anyio import to_thread

from infrastructure.settings import Settings
from projections.projector import Projector
from projections.queries import Queries

T = TypeVar("T")


class RequestTimedOut(Exception):
    """A request's work did not finish within its deadline. A write may still complete: retrying a send
    with the same client_message_id is safe."""


class Interrupted(Exception):
    """The server stopped while this request ran: it may or may not have been done."""


class Runner:
    """`projector`: this process's, when it projects (sends then wait for it on the loop itself)."""

    def __init__(self, settings: Settings, queries: Queries, projector: Projector | None, submits: bool) -> None:
        self.queries = queries
        self.projector = projector
        self.submits = submits and projector is not None
        self.limiter = anyio.CapacityLimiter(settings.worker_threads)
        self.deadline = settings.request_timeout_seconds
        self.read_your_writes_timeout = settings.read_your_writes_timeout

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

    async def submitted(self, future: "Future[T]") -> T:
        """Await a command queued for group commit, then read your writes, on the loop itself: no
        worker thread is taken and no thread hand-off is paid either way. The group commit answers
        within its own deadline; this one is the backstop."""
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(future), self.deadline)
        except TimeoutError:
            raise RequestTimedOut(f"No answer within {self.deadline:.0f} s.") from None
        position = getattr(result, "position", None)
        projector = self.projector
        if position and projector is not None and not projector.failing_for():  # (see Queries.wait_for)
            reached = asyncio.wrap_future(projector.reached(position))
            try:
                await asyncio.wait_for(reached, self.read_your_writes_timeout)
            except TimeoutError:
                pass  # as Queries.wait_for: bounded, then answer anyway (the write is durable)
        return result
