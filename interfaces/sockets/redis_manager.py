"""python-socketio's Redis manager (rooms shared by every server process), made to degrade and heal
well when Redis goes away.

What the library does on its own, and why that is not enough here: its publish has no timeout (a Redis
that hangs would hang every emit, the handshake's among them) and logs two errors per emit while Redis
is down; its listener backs off 1, 2, 4 ... 60 s between attempts to subscribe again, so after a long
outage the fan-out could stay off for up to a minute after Redis is back, and it replaces the client
the publisher uses without closing the old one. Here: every publish is bounded (TIMEOUT_SECONDS), and
skipped at once while Redis is known to be down (`RedisOutage`, shared with presence and rate limits:
two log lines an outage); the listener has a client of its own, closes it when it fails, and tries
again every LISTEN_RETRY_SECONDS.

While Redis is down an emit still reaches the sockets of this process (the manager hands it to them
before publishing); the other processes' sockets miss it, and clients catch up with `get_messages`.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID

import redis
import redis.asyncio
import socketio
from redis import RedisError

from infrastructure.redis_clients import outage_of, redis_options
from interfaces.sockets.fanout import DirectFanout

LISTEN_RETRY_SECONDS = 1.0
SESSIONS_ENDED = "parley_sessions_ended"  # our own message on the channel (python-socketio ignores it)
ENDED_MARK = SESSIONS_ENDED.encode()
log = logging.getLogger("parley.sockets")


class SocketRedisManager(socketio.AsyncRedisManager, DirectFanout):  # type: ignore[misc]  # (python-socketio is untyped)
    """Events heard in Redis reach this process's sockets through `DirectFanout.emit` (fanout.py)."""

    def __init__(self, url: str, channel: str) -> None:
        super().__init__(url, channel=channel, redis_options=redis_options(asyncio=True))
        self.outage = outage_of(url)
        self._publisher = redis.asyncio.Redis.from_url(url, **redis_options(asyncio=True))
        # Told the sign-in sessions another process ended (their sockets here are to be disconnected).
        self.on_sessions_ended: Callable[[list[UUID]], Awaitable[None]] | None = None

    async def publish_sessions_ended(self, session_ids: list[UUID]) -> None:
        """Every other process disconnects its sockets of these sessions (bounded like every publish)."""
        message = {"method": SESSIONS_ENDED, "sessions": [str(s) for s in session_ids], "host_id": self.host_id}
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await self._publish(message)

    async def _listen(self) -> AsyncIterator[Any]:
        """What the library hears, less the sessions-ended messages, which are handled here."""
        async for data in super()._listen():
            if isinstance(data, bytes) and ENDED_MARK in data:  # (a cheap test first: most messages are emits)
                with contextlib.suppress(Exception):
                    await self._sessions_ended(self.json.loads(data))
                    continue
            yield data

    async def _sessions_ended(self, message: dict[str, Any]) -> None:
        if message.get("method") != SESSIONS_ENDED or message.get("host_id") == self.host_id:
            return
        if self.on_sessions_ended is not None:
            await self.on_sessions_ended([UUID(s) for s in message["sessions"]])

    async def _publish(self, data: Any) -> None:
        if self.outage.skip():
            return
        try:
            await self._publisher.publish(self.channel, self.json.dumps(data))
        except RedisError as error:
            self.outage.failed(error)
        else:
            self.outage.succeeded()

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        """Subscribe (again), and hand on what is heard; a failure closes the listener's client and
        tries again in LISTEN_RETRY_SECONDS, for as long as it takes."""
        failed_at: float | None = None
        loop = asyncio.get_running_loop()
        while True:
            client = redis.asyncio.Redis.from_url(self.redis_url, **redis_options(asyncio=True))
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.redis, self.pubsub = client, pubsub
                if failed_at is not None:
                    log.warning(
                        "subscribed to the Socket.IO channel in Redis again after %.1fs", loop.time() - failed_at
                    )
                    failed_at = None
                async for message in pubsub.listen():
                    yield message
            except Exception as error:  # (RedisError, mostly) the listener never dies: it tries again
                if failed_at is None:
                    failed_at = loop.time()
                    log.warning(
                        "lost the Socket.IO channel in Redis (%s: %s); subscribing again every %.0fs",
                        type(error).__name__,
                        error,
                        LISTEN_RETRY_SECONDS,
                    )
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(LISTEN_RETRY_SECONDS)


class RedisPublisher(socketio.RedisManager):  # type: ignore[misc]  # (python-socketio is untyped)
    """For a process without sockets (`parley projections run`): python-socketio's write-only Redis
    manager, publishing from the broadcaster's thread with every publish bounded, and none tried while
    Redis is known to be down: those events are dropped at once (counted, and said in one line when
    Redis is back) rather than holding up the broadcasts that follow. Clients catch up with
    `get_messages(after_seq=...)`."""

    def __init__(self, url: str, channel: str) -> None:
        super().__init__(url, channel=channel, write_only=True, redis_options=redis_options())
        self.outage = outage_of(url)
        self.dropped = 0
        self._publisher = redis.Redis.from_url(url, **redis_options())
        self._held: list[str] = []

    def emit_json(self, event: str, payload: Any, room: str) -> None:
        """python-socketio's `emit` to a room of "/", held (encoded) until `publish_held`: the message
        its managers expect, built here because Parley's payloads are JSON, never binary (its `emit`
        walks every payload for bytes: 14% of the projector process's samples under load)."""
        self._held.append(
            self.json.dumps(
                {
                    "method": "emit",
                    "event": event,
                    "data": [payload],
                    "binary": False,
                    "namespace": "/",
                    "room": room,
                    "skip_sid": None,
                    "callback": None,
                    "host_id": self.host_id,
                }
            )
        )

    def _publish(self, data: Any) -> None:
        """(python-socketio's own emits end here) Held, encoded, until `publish_held`."""
        self._held.append(self.json.dumps(data))

    def publish_held(self) -> None:
        """Publish what is held, in order, in one round trip (a pipeline, not a transaction)."""
        held, self._held = self._held, []
        if not held:
            return
        if self.outage.skip():
            self.dropped += len(held)
            return
        try:
            pipeline = self._publisher.pipeline(transaction=False)
            for message in held:
                pipeline.publish(self.channel, message)
            pipeline.execute()
        except RedisError as error:
            self.dropped += len(held)
            self.outage.failed(error)
            return
        self.outage.succeeded()
        if self.dropped:
            logging.getLogger("parley.broadcasts").warning(
                "%d events were not broadcast while Redis was down", self.dropped
            )
            self.dropped = 0
