"""Token buckets in Redis: one bucket per user however many processes take from it."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from infrastructure.redis_clients import RedisClients
from infrastructure.redis_rate_limit import RedisBuckets
from tests.support.redis import REDIS_URL, redis_prefix


@pytest.fixture
async def two_processes() -> AsyncIterator[tuple[RedisClients, RedisClients]]:
    with redis_prefix() as prefix:
        first, second = RedisClients(REDIS_URL, prefix), RedisClients(REDIS_URL, prefix)
        yield first, second
        for clients in (first, second):
            await clients.aclose()
            clients.close()


async def test_a_burst_then_the_rate_shared_by_two_processes(two_processes: tuple[RedisClients, RedisClients]) -> None:
    first, second = (RedisBuckets(clients, "send", rate_per_second=1, burst=3) for clients in two_processes)
    assert [await first.take("alice"), await second.take("alice"), await first.take("alice")] == [0, 0, 0]
    wait = await second.take("alice")
    assert 0 < wait <= 1000  # the next token comes within a second
    assert 0 < await first.wait_ms("alice") <= 1000  # looking takes nothing
    assert await second.take("bob") == 0  # each key has its own bucket
    await asyncio.sleep(await first.wait_ms("alice") / 1000 + 0.05)
    assert await first.take("alice") == 0
    assert await second.take("alice") > 0


async def test_a_zero_rate_disables_limiting(two_processes: tuple[RedisClients, RedisClients]) -> None:
    buckets = RedisBuckets(two_processes[0], "send", rate_per_second=0, burst=1)
    assert all([await buckets.take("alice") == 0 for _ in range(50)])


async def test_spend_raises_with_the_wait(two_processes: tuple[RedisClients, RedisClients]) -> None:
    from infrastructure.rate_limit import RateLimited

    buckets = RedisBuckets(two_processes[0], "login_failures", rate_per_second=5 / 300, burst=1)
    await buckets.spend("carol")
    with pytest.raises(RateLimited) as refused:
        await buckets.spend("carol")
    assert 59_000 < refused.value.retry_after_ms <= 60_000
