"""Typing indicators: ephemeral, never stored. A typing state ends 6 s after the last typing_start,
when the typist sends in that conversation, or when their last socket disconnects."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol
from uuid import UUID

log = logging.getLogger("parley.typing")

TYPING_SECONDS = 6.0
MAX_TYPING_PER_USER = 20  # bounds the timers one client can hold

Announce = Callable[[UUID, UUID, bool], Awaitable[None]]  # (user, conversation, is_typing)
Expiry = Callable[[], Coroutine[Any, Any, None]]


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Where the tracker's expiries are scheduled: the event loop in the server, a clock a test
    advances by hand in tests/unit/test_typing.py (so "6 s later" takes no time there)."""

    def call_later(self, delay: float, expire: Expiry) -> Timer: ...


class LoopClock:
    """The running event loop's timers; each expiry runs as a task of its own, kept here until it is
    done (the loop holds only weak references to tasks)."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[None]] = set()

    def call_later(self, delay: float, expire: Expiry) -> Timer:
        return asyncio.get_running_loop().call_later(delay, self._run, expire)

    def _run(self, expire: Expiry) -> None:
        task = asyncio.get_running_loop().create_task(expire())
        self._running.add(task)
        task.add_done_callback(self._running.discard)


class TypingTracker:
    def __init__(self, announce: Announce, seconds: float = TYPING_SECONDS, clock: Clock | None = None) -> None:
        self.announce = announce
        self.seconds = seconds
        self.clock: Clock = clock or LoopClock()
        self._timers: dict[UUID, dict[UUID, Timer]] = {}  # user -> conversation -> expiry

    async def start(self, user_id: UUID, conversation_id: UUID) -> None:
        timers = self._timers.setdefault(user_id, {})
        already = timers.pop(conversation_id, None)
        if already:
            already.cancel()
        elif len(timers) >= MAX_TYPING_PER_USER:
            oldest = next(iter(timers))
            await self.stop(user_id, oldest)
        timers[conversation_id] = self.clock.call_later(self.seconds, lambda: self._expire(user_id, conversation_id))
        if not already:
            await self.announce(user_id, conversation_id, True)

    async def stop(self, user_id: UUID, conversation_id: UUID) -> None:
        timers = self._timers.get(user_id, {})
        timer = timers.pop(conversation_id, None)
        if not timers:
            self._timers.pop(user_id, None)
        if timer:
            timer.cancel()
            await self.announce(user_id, conversation_id, False)

    async def stop_all(self, user_id: UUID) -> None:
        for conversation_id in list(self._timers.get(user_id, {})):
            await self.stop(user_id, conversation_id)

    def is_typing(self, user_id: UUID, conversation_id: UUID) -> bool:
        return conversation_id in self._timers.get(user_id, {})

    async def _expire(self, user_id: UUID, conversation_id: UUID) -> None:
        """The state has ended (`stop` forgets it before it announces) even when telling the room fails."""
        try:
            await self.stop(user_id, conversation_id)
        except Exception as error:
            log.warning("could not announce the end of a typing state: %r", error)
