"""The Redis connections of one process and the names it uses there.

Async code (the socket server's event loop) uses `asyncio`; threads (queries, the projector) use
`sync`. Neither connects before its first command. Every key and the Socket.IO channel start with
the deployment's prefix (PARLEY_REDIS_PREFIX), so deployments, or test runs, can share one Redis.
"""

import redis
import redis.asyncio

TIMEOUT_SECONDS = 2.0  # a Redis that does not answer fails the call, it does not hang it


class RedisClients:
    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        options = {"socket_timeout": TIMEOUT_SECONDS, "socket_connect_timeout": TIMEOUT_SECONDS}
        self.sync = redis.Redis.from_url(url, **options)
        self.asyncio = redis.asyncio.Redis.from_url(url, **options)

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
