"""How late the event loop runs what it is given: the process's own backlog, for push-back.

The group commit refuses sends while its queue is behind (application/unit_of_work.py), but under a load
the process cannot take, the saturated part is the event loop itself: every frame waits its turn to be
read, decoded and answered, the writer's queue stays short, and acks still take seconds (issue 14's
overload run). A tick every TICK_SECONDS measures how late the loop runs it; while that is past
LIMIT_SECONDS, sends are refused at once (`rate_limited` with the lag as the wait), before any work
is done for them, so the loop sheds load instead of queueing it."""

import asyncio

from infrastructure.rate_limit import RateLimited

TICK_SECONDS = 0.05
LIMIT_SECONDS = 0.25


class LoopLag:
    def __init__(self, limit_seconds: float = LIMIT_SECONDS) -> None:
        self.limit = limit_seconds
        self.lag = 0.0  # how late the last tick ran, in seconds

    async def watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(TICK_SECONDS)
            self.lag = max(0.0, loop.time() - started - TICK_SECONDS)

    def admit(self) -> None:
        """Raise RateLimited while the loop runs later than the limit."""
        if self.lag > self.limit:
            raise RateLimited(
                max(50, int(self.lag * 1000)), "The server is busy; nothing was stored. Try again shortly."
            )
