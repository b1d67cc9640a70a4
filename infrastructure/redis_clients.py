"""The Redis connections of one process and the names it uses there.

Async code (the socket server's event loop) uses `asyncio`; threads (queries, the projector) use
`sync`. Neither connects before its first command. Every key and the Socket.IO channel start with
the deployment's prefix (PARLEY_REDIS_PREFIX), so deployments, or test runs, can share one Redis.

Redis is not the store: what lives there (presence, rate-limit buckets, the fan-out between processes)
may degrade while it is down, but no request waits on it for long. Every call is bounded by
TIMEOUT_SECONDS; a failed call marks Redis down (`RedisOutage`) so that, for a moment, the callers
that follow degrade at once instead of each waiting out its own timeout.
"""

import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

TIMEOUT_SECONDS = 2.0  # a Redis that does not answer fails the call, it does not hang it
PROBE_SECONDS = 1.0  # while Redis is down, one call in this long tries it; the others degrade at once

log = logging.getLogger("parley.redis")


def redis_options(asyncio: bool = False) -> dict[str, Any]:
    """Options for every Redis client of Parley's. One immediate retry on a connection error, so a
    pooled connection that a Redis restart closed is replaced without failing the call; none on a
    timeout (redis-py's default, ten retries with backoff, makes a refused connection cost seconds and
    an unanswered one more than twenty)."""
    retry_class = AsyncRetry if asyncio else Retry
    return {
        "socket_timeout": TIMEOUT_SECONDS,
        "socket_connect_timeout": TIMEOUT_SECONDS,
        "retry": retry_class(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    }


class RedisOutage:
    """Whether Redis is taken to be down: one per Redis URL in a process (`outage_of`), shared by every
    caller (presence, rate limits, the Socket.IO manager, the projector's publisher), thread-safe.

    After a failed call, `skip()` says yes for PROBE_SECONDS, then no once (that caller probes), and so
    on until a call succeeds: a request pays for one timeout at most, not one per piece it touches. One
    warning when Redis goes down, one when it answers again: an outage is two log lines."""

    def __init__(self, url: str) -> None:
        self.url = redacted(url)  # for the log lines
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._probe_at = 0.0

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def skip(self) -> bool:
        if self._down_since is None:
            return False
        with self._lock:
            now = time.monotonic()
            if now < self._probe_at:
                return True
            self._probe_at = now + PROBE_SECONDS  # this caller probes; the others skip meanwhile
            return False

    def failed(self, error: BaseException) -> None:
        with self._lock:
            now = time.monotonic()
            self._probe_at = now + PROBE_SECONDS
            if self._down_since is None:
                self._down_since = now
                log.warning(
                    "Redis at %s is unreachable (%s: %s); until it answers, users show offline, each process "
                    "applies the rate limits on its own, and events between processes are dropped (clients "
                    "catch up with get_messages)",
                    self.url,
                    type(error).__name__,
                    error,
                )

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is not None:
                log.warning("Redis at %s answers again after %.1fs", self.url, time.monotonic() - self._down_since)
                self._down_since = None


def redacted(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


_outages: dict[str, RedisOutage] = {}
_outages_lock = threading.Lock()


def outage_of(url: str) -> RedisOutage:
    """This process's `RedisOutage` for the Redis at `url`: what one caller learns, the others use."""
    with _outages_lock:
        return _outages.setdefault(url, RedisOutage(url))


class RedisClients:
    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self.sync = redis.Redis.from_url(url, **redis_options())
        self.asyncio = redis.asyncio.Redis.from_url(url, **redis_options(asyncio=True))
        self.outage = outage_of(url)

    @property
    def channel(self) -> str:
        """The pub/sub channel of python-socketio's Redis manager."""
        return f"{self.prefix}:socketio"

    def key(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def ping(self) -> None:
        """Raise when Redis cannot be reached (used at start-up, for a one-line refusal)."""
        self.sync.ping()

    def close(self) -> None:
        self.sync.close()

    async def aclose(self) -> None:
        await self.asyncio.aclose()
