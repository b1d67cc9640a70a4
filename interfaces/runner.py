"""Run the synchronous application from async handlers: a bounded pool of threads, never the loop."""

import asyncio
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import anyio
from anyio import to_thread

from infrastructure.bootstrap import Container

T = TypeVar("T")


class Runner:
    def __init__(self, container: Container) -> None:
        self.container = container
        self.limiter = anyio.CapacityLimiter(container.settings.worker_threads)

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking call (a query) in the pool."""
        return await to_thread.run_sync(function, *args, limiter=self.limiter)

    async def command(self, function: Callable[..., T], *args: Any) -> T:
        """Run a command, then wait until the read models reflect it (read your writes)."""
        queries = self.container.queries

        def run() -> T:
            result = function(*args)
            queries.wait_for(getattr(result, "position", None))
            return result

        return await to_thread.run_sync(run, limiter=self.limiter)

    @property
    def submits(self) -> bool:
        """Whether sends can be queued from the loop (see `submitted`)."""
        return self.container.app.submits_without_blocking and self.container.projecting

    async def submitted(self, future: "Future[T]") -> T:
        """Await a command queued for group commit, then read your writes, on the loop itself: no
        worker thread is taken and no thread hand-off is paid either way."""
        result = await asyncio.wrap_future(future)
        position = getattr(result, "position", None)
        if position:
            reached = asyncio.wrap_future(self.container.projector.reached(position))
            try:
                await asyncio.wait_for(reached, self.container.settings.read_your_writes_timeout)
            except TimeoutError:
                pass  # as Queries.wait_for: bounded, then answer anyway
        return result
