"""Presence, in one process (LocalPresence) and shared through Redis (RedisPresence): a user is online
once however many sockets and processes they use, and offline once, when the last socket goes,
also when that socket's process was killed."""

import asyncio
from collections.abc import AsyncIterator, Callable
from uuid import UUID, uuid4

import pytest

from infrastructure.presence import LocalPresence, Presence
from infrastructure.redis_clients import RedisClients
from infrastructure.redis_presence import RedisPresence
from tests.support.redis import REDIS_URL, redis_prefix
from tests.support.waiting import until

TTL = 0.5


def expired(presence: RedisPresence, user: UUID, sid: str) -> bool:
    """Whether the socket's time has passed on Redis's own clock (the one the scripts read): the TTL
    is Redis's, so the test polls it rather than sleeping past it on its own clock."""
    score = presence.redis.sync.zscore(presence.expiries, f"{user}|{sid}")
    seconds, microseconds = presence.redis.sync.time()
    return score is not None and seconds * 1000 + microseconds // 1000 > score


@pytest.fixture
async def processes() -> AsyncIterator[Callable[[], RedisPresence]]:
    """Makes the presence of another process, all on one Redis."""
    with redis_prefix() as prefix:
        opened: list[RedisClients] = []

        def make() -> RedisPresence:
            opened.append(RedisClients(REDIS_URL, prefix))
            return RedisPresence(opened[-1], TTL)

        yield make
        for clients in opened:
            await clients.aclose()
            clients.close()


@pytest.fixture(params=["local", "redis"])
async def presence(request: pytest.FixtureRequest) -> AsyncIterator[Presence]:
    if request.param == "local":
        yield LocalPresence()
        return
    with redis_prefix() as prefix:
        clients = RedisClients(REDIS_URL, prefix)
        yield RedisPresence(clients, TTL)
        await clients.aclose()
        clients.close()


async def test_a_user_is_online_from_the_first_socket_to_the_last(presence: Presence) -> None:
    user, other = uuid4(), uuid4()
    assert await presence.join(user, "s1") is True
    assert await presence.join(user, "s2") is False
    assert presence.online([user, other]) == {user}
    assert sorted(await presence.sockets(user)) == ["s1", "s2"]
    assert await presence.leave(user, "s1") is False
    assert await presence.leave(user, "s1") is False  # a socket leaves once
    assert await presence.leave(user, "s2") is True
    assert presence.online([user]) == set() and await presence.sockets(user) == []


async def test_sockets_on_two_processes_count_once(processes: Callable[[], RedisPresence]) -> None:
    first, second, user = processes(), processes(), uuid4()
    assert await first.join(user, "a1") is True
    assert await second.join(user, "b1") is False
    assert first.online([user]) == second.online([user]) == {user}
    assert await first.leave(user, "a1") is False
    assert await second.leave(user, "b1") is True


async def test_the_sockets_of_a_killed_process_expire_and_their_user_goes_offline_once(
    processes: Callable[[], RedisPresence],
) -> None:
    killed, survivor, third = processes(), processes(), processes()
    alone, also_elsewhere = uuid4(), uuid4()
    await killed.join(alone, "k1")
    await killed.join(also_elsewhere, "k2")
    await survivor.join(also_elsewhere, "s2")
    # `killed` never beats again; the others do.
    assert (await survivor.heartbeat()).offline == []
    await until(lambda: expired(killed, alone, "k1") and expired(killed, also_elsewhere, "k2"), "the TTL passing", 5)
    assert await survivor.join(also_elsewhere, "s2") is False  # (a beat of survivor's that does not sweep)
    changes = await asyncio.gather(survivor.heartbeat(), third.heartbeat())
    assert sorted(u for c in changes for u in c.offline) == [alone]  # announced by one of them
    assert survivor.online([alone, also_elsewhere]) == {also_elsewhere}
    assert (await third.heartbeat()).offline == []


async def test_heartbeats_keep_sockets_alive_and_revive_one_swept_while_its_process_stalled(
    processes: Callable[[], RedisPresence],
) -> None:
    alive, stalled, other = processes(), processes(), processes()
    user, sleeper = uuid4(), uuid4()
    await alive.join(user, "a1")
    await stalled.join(sleeper, "z1")
    offline: list[UUID] = []

    async def beat() -> bool:  # alive beats, well within the TTL, until stalled's socket is swept
        offline.extend((await alive.heartbeat()).offline)
        return bool(offline)

    await until(beat, "the stalled process's socket swept", 5)  # z1 joined after a1: a1's first TTL is over too
    assert offline == [sleeper]  # swept by alive's heartbeats; alive's own user stays online
    assert other.online([user, sleeper]) == {user}
    changes = await stalled.heartbeat()  # it wakes up: its socket is still connected
    assert changes.online == [sleeper] and other.online([sleeper]) == {sleeper}
