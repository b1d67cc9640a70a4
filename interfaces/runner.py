"""Run the synchronous application from async handlers: a bounded pool of threads, never the loop."""

from collections.abc import Callable
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
