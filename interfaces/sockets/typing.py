"""Typing indicators: ephemeral, never stored. A typing state ends 6 s after the last typing_start,
when the typist sends in that conversation, or when their last socket disconnects."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

log = logging.getLogger("parley.typing")

TYPING_SECONDS = 6.0
MAX_TYPING_PER_USER = 20  # bounds the timers one client can hold

Announce = Callable[[UUID, UUID, bool], Awaitable[None]]  # (user, conversation, is_typing)


class TypingTracker:
    def __init__(self, announce: Announce, seconds: float = TYPING_SECONDS) -> None:
        self.announce = announce
        self.seconds = seconds
        self._timers: dict[UUID, dict[UUID, asyncio.TimerHandle]] = {}  # user -> conversation -> expiry
        self._expiring: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks

    async def start(self, user_id: UUID, conversation_id: UUID) -> None:
        timers = self._timers.setdefault(user_id, {})
        already = timers.pop(conversation_id, None)
        if already:
            already.cancel()
        elif len(timers) >= MAX_TYPING_PER_USER:
            oldest = next(iter(timers))
            await self.stop(user_id, oldest)
        loop = asyncio.get_running_loop()
        timers[conversation_id] = loop.call_later(self.seconds, self._expire, user_id, conversation_id)
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

    @property
    def expiring(self) -> int:
        """Expiries still announcing."""
        return len(self._expiring)

    def _expire(self, user_id: UUID, conversation_id: UUID) -> None:
        task = asyncio.get_running_loop().create_task(self.stop(user_id, conversation_id))
        self._expiring.add(task)
        task.add_done_callback(self._expired)

    def _expired(self, task: "asyncio.Task[None]") -> None:
        self._expiring.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.warning("could not announce the end of a typing state: %r", error)
