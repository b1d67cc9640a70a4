"""Push-back on the event loop's own lag: while the loop runs its work later than the limit, sends are
refused at once with a wait; once it catches up, they are taken again."""

import asyncio
import time

import pytest

from infrastructure.rate_limit import RateLimited
from interfaces.loop_lag import TICK_SECONDS, LoopLag


async def test_sends_are_refused_while_the_loop_runs_late_and_taken_again_after() -> None:
    lag = LoopLag(limit_seconds=0.2)
    watching = asyncio.create_task(lag.watch())
    try:
        await asyncio.sleep(TICK_SECONDS * 3)
        lag.admit()  # an idle loop: taken
        await asyncio.sleep(0)  # the tick is scheduled; now the loop is held up, as by a backlog
        time.sleep(0.4)  # noqa: ASYNC251 (blocking the loop is the point: a backlog)
        await asyncio.sleep(TICK_SECONDS)
        with pytest.raises(RateLimited) as refused:
            lag.admit()
        assert refused.value.retry_after_ms >= 200
        await asyncio.sleep(TICK_SECONDS * 3)  # caught up
        lag.admit()
    finally:
        watching.cancel()
