"""Many concurrent requests of one kind answered by one call in a worker thread.

A reconnect storm is a thousand handshakes, joins and first pages at once, each a worker-thread hop and
a read transaction of its own, with the same few statements. A `Coalescer` collects the requests made
while the event loop runs (and while its batches are in flight), and answers a batch with one call of
`answer(keys) -> [result or exception, one per key]` in the runner's pool: one hop and one transaction
for the batch, whose statements can take `IN (...)` lists instead of one key each. At most `parallel`
batches run at once, so under load a batch grows rather than queueing for threads; when a request is
alone it goes at the next turn of the loop, as before.
"""

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from interfaces.runner import RequestTimedOut, Runner

K = TypeVar("K")
R = TypeVar("R")


class Coalescer(Generic[K, R]):
    def __init__(
        self,
        run: Runner,
        answer: Callable[[list[K]], list[R | Exception]],
        *,
        max_batch: int = 256,
        parallel: int = 2,
    ) -> None:
        self.run = run
        self.answer = answer
        self.max_batch = max_batch
        self.parallel = parallel
        self._pending: list[tuple[K, asyncio.Future[R]]] = []
        self._flushing = False
        self._in_flight = 0
        self.batches = 0  # (for tests and metrics) batches answered, and the requests in them
        self.requests = 0

    async def ask(self, key: K) -> R:
        """The answer for `key` (its exception raised), within the runner's deadline."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((key, future))
        if not self._flushing and self._in_flight < self.parallel:
            self._flushing = True
            loop.call_soon(self._flush)
        try:
            return await asyncio.wait_for(future, self.run.deadline + 1)  # (cancelled past it: then skipped)
        except TimeoutError:
            raise RequestTimedOut(f"No answer within {self.run.deadline:.0f} s.") from None

    def _flush(self) -> None:
        self._flushing = False
        while self._pending and self._in_flight < self.parallel:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            batch = [(k, f) for k, f in batch if not f.done()]
            if batch:
                self._in_flight += 1
                asyncio.get_running_loop().create_task(self._answer(batch))

    async def _answer(self, batch: list[tuple[K, "asyncio.Future[R]"]]) -> None:
        try:
            try:
                results = await self.run.call(self.answer, [k for k, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{len(results)} answers to {len(batch)} requests")
            except Exception as error:
                results = [error] * len(batch)
            self.batches += 1
            self.requests += len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        finally:
            self._in_flight -= 1
            if self._pending:
                self._flush()
