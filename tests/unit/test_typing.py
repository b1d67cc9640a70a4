"""Typing states: announced on change only, ended by time, and bounded per user. Time is a clock the
tests advance by hand: "6 s later" is a fact here, not a wait."""

import asyncio
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import pytest

from interfaces.sockets.typing import MAX_TYPING_PER_USER, TYPING_SECONDS, Announce, Expiry, LoopClock, TypingTracker


@dataclass
class FakeTimer:
    at: float
    expire: Expiry
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class FakeClock:
    """The tracker's `Clock`: expiries run, in time order, only when the test advances the time."""

    now: float = 0.0
    timers: list[FakeTimer] = field(default_factory=list)

    def call_later(self, delay: float, expire: Expiry) -> FakeTimer:
        self.timers.append(FakeTimer(self.now + delay, expire))
        return self.timers[-1]

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        while due := sorted((t for t in self.timers if t.at <= self.now and not t.cancelled), key=lambda t: t.at):
            self.timers.remove(due[0])
            await due[0].expire()


Said = list[tuple[UUID, UUID, bool]]


def recording() -> tuple[Said, Announce]:
    said: Said = []

    async def announce(user: UUID, conversation: UUID, is_typing: bool) -> None:
        said.append((user, conversation, is_typing))

    return said, announce


async def test_typing_is_announced_on_change_and_ends_by_itself() -> None:
    said, announce = recording()
    clock = FakeClock()
    tracker = TypingTracker(announce, clock=clock)  # the contract's 6 s
    user, conversation = uuid4(), uuid4()
    await tracker.start(user, conversation)
    await clock.advance(4)
    await tracker.start(user, conversation)  # extends, says nothing new
    await clock.advance(TYPING_SECONDS - 0.1)
    assert said == [(user, conversation, True)]  # 9.9 s after the first start, 5.9 s after the last: still typing
    assert tracker.is_typing(user, conversation)
    await clock.advance(0.1)
    assert said == [(user, conversation, True), (user, conversation, False)]
    assert not tracker.is_typing(user, conversation)


async def test_a_stopped_state_does_not_end_again_when_its_time_comes() -> None:
    said, announce = recording()
    clock = FakeClock()
    tracker = TypingTracker(announce, clock=clock)
    user, conversation = uuid4(), uuid4()
    await tracker.start(user, conversation)
    await tracker.stop(user, conversation)
    await tracker.stop(user, conversation)  # stopping what has ended says nothing
    await clock.advance(TYPING_SECONDS * 2)
    assert said == [(user, conversation, True), (user, conversation, False)]


async def test_one_user_cannot_hold_more_than_the_bound_of_typing_states() -> None:
    said, announce = recording()
    clock = FakeClock()
    tracker = TypingTracker(announce, seconds=60, clock=clock)
    user = uuid4()
    conversations = [uuid4() for _ in range(MAX_TYPING_PER_USER + 5)]
    for conversation in conversations:
        await tracker.start(user, conversation)
    assert sum(tracker.is_typing(user, c) for c in conversations) == MAX_TYPING_PER_USER
    assert [c for _, c, typing in said if not typing] == conversations[:5]  # the oldest ended first
    assert sum(not t.cancelled for t in clock.timers) == MAX_TYPING_PER_USER  # their timers went with them
    await tracker.stop_all(user)
    assert not any(tracker.is_typing(user, c) for c in conversations)


async def test_an_expiry_whose_announcement_fails_still_ends_the_state_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def announce(user: UUID, conversation: UUID, is_typing: bool) -> None:
        if not is_typing:
            raise ConnectionError("Redis is down")

    clock = FakeClock()
    tracker = TypingTracker(announce, clock=clock)
    user, conversation = uuid4(), uuid4()
    await tracker.start(user, conversation)
    assert tracker.is_typing(user, conversation)
    await clock.advance(TYPING_SECONDS)  # the expiry does not raise: it logs
    assert not tracker.is_typing(user, conversation)
    assert "could not announce the end of a typing state" in caplog.text


async def test_the_loop_clock_runs_each_expiry_as_a_task_unless_it_was_cancelled() -> None:
    """The server's clock: an expiry due earlier runs earlier, so once the later one has run, the
    cancelled earlier one would have run too."""
    ran: list[str] = []
    done = asyncio.Event()

    async def expire(name: str) -> None:
        ran.append(name)
        if name == "kept":
            done.set()

    clock = LoopClock()
    clock.call_later(0, lambda: expire("cancelled")).cancel()
    clock.call_later(0.01, lambda: expire("kept"))
    await asyncio.wait_for(done.wait(), 5)
    assert ran == ["kept"]
