"""Token buckets per key (a user): `rate` tokens a second up to `burst`.

`TokenBuckets` holds them in this process (bounded memory); `RedisBuckets`
(infrastructure/redis_rate_limit.py) holds them in Redis, so a user's limit holds across processes.
Handlers use either through the async `Buckets` interface.
"""

import time
from abc import ABC, abstractmethod
from collections.abc import Callable


class RateLimited(Exception):
    def __init__(self, retry_after_ms: int, message: str = "Too many requests; slow down.") -> None:
        super().__init__(message)
        self.retry_after_ms = retry_after_ms


class TokenBuckets:
    def __init__(self, rate_per_second: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate = rate_per_second
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[object, tuple[float, float]] = {}  # key -> (tokens, at)

    def wait_ms(self, key: object, now: float | None = None) -> int:
        """Milliseconds until `key` has a token again (0 when it has one), without taking it."""
        if self.rate <= 0:
            return 0
        return self._wait(self._tokens(key, time.monotonic() if now is None else now))

    def take(self, key: object, now: float | None = None) -> int:
        """Take one token: 0 when allowed, else the milliseconds until one is available."""
        if self.rate <= 0:
            return 0
        now = time.monotonic() if now is None else now
        tokens = self._tokens(key, now)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > self.max_keys:
                self._forget_full(now)
            return 0
        self._buckets[key] = (tokens, now)
        return self._wait(tokens)

    def _tokens(self, key: object, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) * self.rate)

    def _wait(self, tokens: float) -> int:
        return 0 if tokens >= 1 else max(1, int((1 - tokens) / self.rate * 1000 + 0.999))

    def _forget_full(self, now: float) -> None:
        """A bucket that has refilled is the same as no bucket: drop those."""
        full = [k for k, (t, at) in self._buckets.items() if t + (now - at) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]


class Buckets(ABC):
    """Token buckets as the handlers use them, from the event loop."""

    @abstractmethod
    async def wait_ms(self, key: str) -> int:
        """Milliseconds until `key` has a token again (0 when it has one), without taking it."""

    @abstractmethod
    async def take(self, key: str) -> int:
        """Take one token: 0 when allowed, else the milliseconds until one is available."""

    async def spend(self, key: str) -> None:
        """Take a token or raise RateLimited with the wait until the next one."""
        wait = await self.take(key)
        if wait:
            raise RateLimited(wait)


class LocalBuckets(Buckets):
    def __init__(self, name: str, rate_per_second: float, burst: int) -> None:
        self.buckets = TokenBuckets(rate_per_second, burst)

    async def wait_ms(self, key: str) -> int:
        return self.buckets.wait_ms(key)

    async def take(self, key: str) -> int:
        return self.buckets.take(key)


BucketsFactory = Callable[[str, float, int], Buckets]  # (name, rate per second, burst)


class Limits:
    """Every abuse limit, by what it protects; per process or shared, as `buckets` makes them."""

    def __init__(self, send_rate_per_second: float, send_burst: int, buckets: BucketsFactory = LocalBuckets) -> None:
        self.send = buckets("send", send_rate_per_second, send_burst)
        self.connection_requests = buckets("connection_requests", 10 / 60, 10)  # per user: 10 a minute
        self.conversations = buckets("conversations", 30 / 60, 20)  # per user: starts of conversations
        self.login_failures = buckets("login_failures", 5 / 300, 5)  # per username: 5 failures, then 1 a minute
