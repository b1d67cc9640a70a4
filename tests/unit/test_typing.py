"""Typing states: announced on change only, ended by time, and bounded per user."""

import asyncio
from uuid import UUID, uuid4

import pytest

from interfaces.sockets.typing import MAX_TYPING_PER_USER, TypingTracker


async def test_typing_is_announced_on_change_and_ends_by_itself() -> None:
    said: list[tuple[UUID, UUID, bool]] = []

    async def announce(user: UUID, conversation: UUID, is_typing: bool) -> None:
        said.append((user, conversation, is_typing))

    tracker = TypingTracker(announce, seconds=0.2)
    user, conversation = uuid4(), uuid4()
    await tracker.start(user, conversation)
    await asyncio.sleep(0.1)
    await tracker.start(user, conversation)  # extends, says nothing new
    await asyncio.sleep(0.15)
    assert said == [(user, conversation, True)]  # 0.25 s after the first start, still typing
    await asyncio.sleep(0.15)
    assert said == [(user, conversation, True), (user, conversation, False)]
    assert not tracker.is_typing(user, conversation)


async def test_one_user_cannot_hold_more_than_the_bound_of_typing_states() -> None:
    said: list[tuple[UUID, UUID, bool]] = []

    async def announce(user: UUID, conversation: UUID, is_typing: bool) -> None:
        said.append((user, conversation, is_typing))

    tracker = TypingTracker(announce, seconds=60)
    user = uuid4()
    conversations = [uuid4() for _ in range(MAX_TYPING_PER_USER + 5)]
    for conversation in conversations:
        await tracker.start(user, conversation)
    assert sum(tracker.is_typing(user, c) for c in conversations) == MAX_TYPING_PER_USER
    assert [c for _, c, typing in said if not typing] == conversations[:5]  # the oldest ended first
    await tracker.stop_all(user)
    assert not any(tracker.is_typing(user, c) for c in conversations)


async def test_an_expiry_whose_announcement_fails_still_ends_the_state_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def announce(user: UUID, conversation: UUID, is_typing: bool) -> None:
        if not is_typing:
            raise ConnectionError("Redis is down")

    tracker = TypingTracker(announce, seconds=0.05)
    user, conversation = uuid4(), uuid4()
    await tracker.start(user, conversation)
    assert tracker.is_typing(user, conversation)
    deadline = asyncio.get_running_loop().time() + 5
    while tracker.is_typing(user, conversation) or tracker.expiring:
        assert asyncio.get_running_loop().time() < deadline, "the typing state never ended"
        await asyncio.sleep(0.01)
    assert "could not announce the end of a typing state" in caplog.text
