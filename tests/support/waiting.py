"""Waiting on facts, never on time: poll a condition until it holds, or fail at a generous deadline
saying what never happened. (Absences are shown with a sentinel instead: Socket.arrived_before.)"""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

POLL_SECONDS = 0.02


async def until(condition: Callable[[], bool | Awaitable[bool]], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while True:
        holds = condition()
        if inspect.isawaitable(holds):
            holds = await holds
        if holds:
            return
        assert time.monotonic() < deadline, f"{what}: not within {seconds}s"
        await asyncio.sleep(POLL_SECONDS)


def until_sync(condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    """For threads and synchronous tests."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {seconds}s"
        time.sleep(POLL_SECONDS)
