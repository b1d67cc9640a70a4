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

from interfaces.bootstrap import Container

T = TypeVar("T")


class RequestTimedOut(Exception):
    """A request's work did not finish within its deadline. A write may still complete: retrying a send
    with the same client_message_id is safe."""


class Interrupted(Exception):
    """The server stopped while this request ran: it may or may not have been done."""


class Runner:
    def __init__(self, container: Container) -> None:
        self.container = container
        self.limiter = anyio.CapacityLimiter(container.settings.worker_threads)
        self.deadline = container.settings.request_timeout_seconds

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking call (a query) in the pool."""
        return await self._in_thread(function, *args)

    async def command(self, function: Callable[..., T], *args: Any) -> T:
        """Run a command, then wait until the read models reflect it (read your writes)."""
        queries = self.container.queries

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

    @property
    def submits(self) -> bool:
        """Whether sends can be queued from the loop (see `submitted`)."""
        return self.container.app.submits_without_blocking and self.container.projecting

    async def submitted(self, future: "Future[T]") -> T:
        """Await a command queued for group commit, then read your writes, on the loop itself: no
        worker thread is taken and no thread hand-off is paid either way. The group commit answers
        within its own deadline; this one is the backstop."""
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(future), self.deadline)
        except TimeoutError:
            raise RequestTimedOut(f"No answer within {self.deadline:.0f} s.") from None
        position = getattr(result, "position", None)
        if position and not self.container.projector.failing_for():  # (see Queries.wait_for)
            reached = asyncio.wrap_future(self.container.projector.reached(position))
            try:
                await asyncio.wait_for(reached, self.container.settings.read_your_writes_timeout)
            except TimeoutError:
                pass  # as Queries.wait_for: bounded, then answer anyway (the write is durable)
        return result
