"""Token buckets held in Redis: a user's limit holds however many processes serve them.

One hash per bucket, `<prefix>:rate:<limit>:<key>` = {tokens, at (ms, Redis's clock)}; refill and take
are one Lua script, so two processes taking at once cannot both spend the last token. A bucket
expires once it would have refilled: a full bucket is the same as none. Same arithmetic as
`TokenBuckets` (infrastructure/rate_limit.py).

While Redis cannot be reached, each process limits with buckets of its own (`TokenBuckets`, the same
rate and burst): a request is never failed, nor held up, because Redis is down, and the limits still
hold, per process (with N processes a user may get up to N times the burst). When Redis answers again
the shared buckets take over; a restarted Redis has forgotten them, so everyone starts with a full one.
"""

from redis import RedisError

from infrastructure.rate_limit import Buckets, BucketsFactory, TokenBuckets
from infrastructure.redis_clients import RedisClients

# KEYS: the bucket. ARGV: rate per second, burst, 1 to take a token (0 to look). Returns the wait in ms.
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1]) / 1000
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
if tokens >= 1 then
  if ARGV[3] == '1' then
    tokens = tokens - 1
    redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', now)
    redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 1000)
  end
  return 0
end
return math.max(1, math.ceil((1 - tokens) / rate))
"""


class RedisBuckets(Buckets):
    def __init__(self, redis: RedisClients, name: str, rate_per_second: float, burst: int) -> None:
        self.redis = redis
        self.name = name
        self.rate = rate_per_second
        self.burst = burst
        self._take = redis.asyncio.register_script(TAKE)
        self.local = TokenBuckets(rate_per_second, burst)  # while Redis is down

    async def wait_ms(self, key: str) -> int:
        return await self._run(key, take=False)

    async def take(self, key: str) -> int:
        return await self._run(key, take=True)

    async def _run(self, key: str, take: bool) -> int:
        if self.rate <= 0:  # limiting disabled
            return 0
        outage = self.redis.outage
        if not outage.skip():
            bucket = self.redis.key("rate", self.name, key)
            try:
                wait = int(await self._take(keys=[bucket], args=[repr(self.rate), self.burst, 1 if take else 0]))
            except RedisError as error:
                outage.failed(error)
            else:
                outage.succeeded()
                return wait
        return self.local.take(key) if take else self.local.wait_ms(key)


def redis_buckets(redis: RedisClients) -> BucketsFactory:
    """Make every limit of `Limits` a bucket in Redis."""
    return lambda name, rate, burst: RedisBuckets(redis, name, rate, burst)
