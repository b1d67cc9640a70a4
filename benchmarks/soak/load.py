"""The load: clients that behave as a real chat client does when things break.

Every client is one user with one socket (benchmarks/wire_client.py) on its home server, joined to
one conversation (its pair's, or the group). It sends on a fixed schedule (open loop), one message at
a time and in order, each with a client_message_id of its own; a send that fails, gets no answer or
loses its socket is retried with the same id until it is acknowledged. A dropped socket reconnects
with backoff (0.1 s doubling to 2 s, jittered), joins again and catches up with `get_messages`
(after_seq = the last seq it holds without a hole, paged until has_more is false); a `message_new`
whose seq skips one it lacks (a broadcast lost while Redis restarted) makes it catch up the same way.
"""

import asyncio
import collections
import contextlib
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from benchmarks.loadgen import failure_code, session
from benchmarks.wire_client import ConnectError, WireClient

# The server answers every event within PARLEY_REQUEST_TIMEOUT_SECONDS (10 s) of taking it up; past
# 15 s (5 s for the event's wait in the socket and the loop) a send or query counts as unanswered.
ATTEMPT_TIMEOUT = 15.0
NETWORK_ERRORS = (ConnectError, ConnectionError, TimeoutError, aiohttp.ClientError, OSError, AssertionError)


class RequestFailed(Exception):
    """The server answered a query with ok false; the code is the message."""


@dataclass
class Metrics:
    """Everything the clients saw, stamped with seconds since the load began."""

    t0: float = 0.0
    acks: list[tuple[float, float, float, int]] = field(default_factory=list)  # (t, attempt ms, due -> ack ms, client)
    failures: list[tuple[float, str, int]] = field(default_factory=list)  # failed send attempts: (t, code, client)
    unanswered: list[tuple[float, str]] = field(default_factory=list)  # (t, event) no answer on an open socket
    disconnects: list[tuple[float, int]] = field(default_factory=list)  # (t, client)
    reconnects: list[float] = field(default_factory=list)
    connect_failures: list[tuple[float, str]] = field(default_factory=list)
    catch_ups: list[tuple[float, str, int]] = field(default_factory=list)  # (t, why, messages it filled in)

    def now(self) -> float:
        return time.monotonic() - self.t0


@dataclass
class Acked:
    conversation: str
    seq: int
    message_id: str


class SoakClient:
    def __init__(
        self, index: int, name: str, url: str, token: str, conversation: str, rate: float, metrics: Metrics
    ) -> None:
        self.index, self.name, self.url, self.token, self.conversation = index, name, url, token, conversation
        self.rate = rate  # messages a second this client sends (0: it only listens)
        self.metrics = metrics
        self.client: WireClient | None = None
        self.connected = asyncio.Event()
        self.need_catch_up = asyncio.Event()
        self.catch_up_why = "join"  # join, reconnect or gap: why the next catch-up runs
        self.closing = False
        self.seen: set[int] = set()
        self.contiguous = 0  # every seq up to this one is held
        self.queue: collections.deque[tuple[str, float]] = collections.deque()  # (client_message_id, due)
        self.queued = asyncio.Event()
        self.producing = True
        self.acked: dict[str, Acked] = {}
        self.sent = 0  # messages made (acknowledged or not)

    # -- what it holds ---------------------------------------------------------------------------------
    def note(self, seq: int) -> bool:
        if seq in self.seen:
            return False
        self.seen.add(seq)
        while self.contiguous + 1 in self.seen:
            self.contiguous += 1
        return True

    def on_message(self, data: dict[str, Any]) -> None:
        if data.get("conversation_id") != self.conversation:
            return
        seq = data["seq"]
        self.note(seq)
        if seq > self.contiguous + 1 and not self.need_catch_up.is_set():  # one below never arrived: fetch it
            self.catch_up_why = "gap"
            self.need_catch_up.set()

    # -- the socket ------------------------------------------------------------------------------------
    async def connection_loop(self, http: aiohttp.ClientSession) -> None:
        backoff, first = 0.1, True
        while not self.closing:
            client = WireClient(http, self.url)
            client.on("message_new", self.on_message)
            try:
                await client.connect({"token": self.token}, timeout=ATTEMPT_TIMEOUT)
                await self.request(client, "join_conversation", {"conversation_id": self.conversation})
            except (*NETWORK_ERRORS, RequestFailed) as error:
                why = f"join:{error}" if isinstance(error, RequestFailed) else type(error).__name__
                self.metrics.connect_failures.append((self.metrics.now(), why))
                with contextlib.suppress(*NETWORK_ERRORS):
                    await client.drop()
                await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
                backoff = min(backoff * 2, 2.0)
                continue
            if not first:
                self.metrics.reconnects.append(self.metrics.now())
            self.catch_up_why = "join" if first else "reconnect"
            first, backoff = False, 0.1
            self.client = client
            self.connected.set()
            self.need_catch_up.set()  # whatever was sent while this socket was away
            await client.closed.wait()
            self.connected.clear()
            self.client = None
            if not self.closing:
                self.metrics.disconnects.append((self.metrics.now(), self.index))

    async def request(self, client: WireClient, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A query or join: its answer, RequestFailed on ok false, TimeoutError (counted) on silence."""
        try:
            ack = await client.call(event, payload, timeout=ATTEMPT_TIMEOUT)
        except TimeoutError:
            if not client.closed.is_set():
                self.metrics.unanswered.append((self.metrics.now(), event))
            raise
        if not ack.get("ok"):
            raise RequestFailed(failure_code(ack))
        return ack

    async def catch_up(self, client: WireClient) -> int:
        """get_messages after the last seq held without a hole, paged; how many it filled in."""
        filled, after = 0, self.contiguous
        while True:
            page = await self.request(
                client, "get_messages", {"conversation_id": self.conversation, "after_seq": after, "limit": 200}
            )
            seqs = [m["seq"] for m in page["messages"]]
            filled += sum(1 for s in seqs if self.note(s))
            if not page["has_more"] or not seqs:
                return filled
            after = max(seqs)

    async def catch_up_loop(self) -> None:
        backoff = 0.2
        while not self.closing:
            await self.need_catch_up.wait()
            await self.connected.wait()
            client = self.client
            if client is None:
                continue
            self.need_catch_up.clear()
            why = self.catch_up_why
            try:
                filled = await self.catch_up(client)
                self.metrics.catch_ups.append((self.metrics.now(), why, filled))
                backoff = 0.2
            except (*NETWORK_ERRORS, RequestFailed) as error:
                self.metrics.connect_failures.append((self.metrics.now(), f"catch_up:{error}"))
                self.need_catch_up.set()
                await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
                backoff = min(backoff * 2, 2.0)

    # -- sending ---------------------------------------------------------------------------------------
    async def produce(self, start: float, end: float) -> None:
        """Queue a message at each due time from `start` to `end` (monotonic), late or not."""
        if self.rate <= 0:
            self.producing = False
            return
        interval = 1.0 / self.rate
        due = start + random.random() * interval
        while due < end:
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.queue.append((str(uuid.uuid4()), due))
            self.sent += 1
            self.queued.set()
            due += interval
        self.producing = False
        self.queued.set()

    async def deliver(self, give_up: list[float]) -> None:
        """Send the queue in order, each message until acknowledged; stop at give_up[0] (monotonic)."""
        backoff = 0.25
        while time.monotonic() < give_up[0]:
            if not self.queue:
                if not self.producing:
                    return
                self.queued.clear()
                await self.queued.wait()
                continue
            client = self.client
            if client is None or client.closed.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.connected.wait(), 1.0)
                continue
            key, due = self.queue[0]
            outcome = await self.attempt(client, key, due)
            if outcome is None:
                self.queue.popleft()
                backoff = 0.25
            elif outcome == "retry_now":
                continue
            else:
                await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
                backoff = min(backoff * 2, 2.0)

    async def attempt(self, client: WireClient, key: str, due: float) -> str | None:
        """One send: None once acknowledged, else how to go on."""
        started = time.monotonic()
        future = client.call_nowait(
            "send_message",
            {"conversation_id": self.conversation, "client_message_id": key, "body": f"soak {self.name} {key[:8]}"},
        )
        try:
            ack = await asyncio.wait_for(future, ATTEMPT_TIMEOUT)
        except TimeoutError:
            if not client.closed.is_set():
                self.metrics.unanswered.append((self.metrics.now(), "send_message"))
                self.metrics.failures.append((self.metrics.now(), "unanswered", self.index))
            return "retry_now"
        except ConnectionError:
            self.metrics.failures.append((self.metrics.now(), "socket_closed", self.index))
            return "retry_now"  # waits for the reconnect
        if not ack.get("ok"):
            self.metrics.failures.append((self.metrics.now(), failure_code(ack), self.index))
            return "backoff"
        now = time.monotonic()
        message = ack["message"]
        self.acked[key] = Acked(self.conversation, message["seq"], message["id"])
        self.note(message["seq"])
        self.metrics.acks.append((now - self.metrics.t0, (now - started) * 1000, (now - due) * 1000, self.index))
        return None


@dataclass
class Cast:
    """Who chats: (client name, home url, token, conversation, messages/s) for each client."""

    clients: list[tuple[str, str, str, str, float]]
    conversations: list[str]


class Load:
    def __init__(self, cast: Cast, metrics: Metrics) -> None:
        self.metrics = metrics
        self.clients = [
            SoakClient(i, name, url, token, conversation, rate, metrics)
            for i, (name, url, token, conversation, rate) in enumerate(cast.clients)
        ]
        self.http: aiohttp.ClientSession | None = None
        self.tasks: list[asyncio.Task[Any]] = []
        self.senders: list[asyncio.Task[Any]] = []
        self.give_up = [float("inf")]

    async def connect(self, timeout: float = 60) -> None:
        """Every client connected and joined before the clock starts."""
        self.http = session()
        for c in self.clients:
            self.tasks.append(asyncio.create_task(c.connection_loop(self.http)))
            self.tasks.append(asyncio.create_task(c.catch_up_loop()))
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(c.connected.wait() for c in self.clients))

    def start(self, start: float, end: float) -> None:
        for c in self.clients:
            self.senders.append(asyncio.create_task(c.produce(start, end)))
            self.senders.append(asyncio.create_task(c.deliver(self.give_up)))

    async def drain(self, seconds: float) -> None:
        """After the schedule ends: until every queued message is acknowledged, at most `seconds`."""
        self.give_up[0] = time.monotonic() + seconds
        await asyncio.wait(self.senders, timeout=seconds + ATTEMPT_TIMEOUT + 1)

    def unacked(self) -> int:
        return sum(len(c.queue) for c in self.clients)

    async def final_catch_up(self, timeout: float) -> list[str]:
        """Each client, connected, fetches whatever it lacks; the names of those that could not."""
        deadline = time.monotonic() + timeout

        async def one(c: SoakClient) -> str | None:
            while time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(c.connected.wait(), max(0.1, deadline - time.monotonic()))
                client = c.client
                if client is None:
                    continue
                try:
                    filled = await c.catch_up(client)
                    c.metrics.catch_ups.append((c.metrics.now(), "final", filled))
                    return None
                except (*NETWORK_ERRORS, RequestFailed):
                    await asyncio.sleep(0.5)
            return c.name

        failed = await asyncio.gather(*(one(c) for c in self.clients))
        return [name for name in failed if name]

    async def close(self) -> None:
        for c in self.clients:
            c.closing = True
        for task in [*self.tasks, *self.senders]:
            task.cancel()
        await asyncio.gather(*self.tasks, *self.senders, return_exceptions=True)
        await asyncio.gather(*(c.client.disconnect() for c in self.clients if c.client), return_exceptions=True)
        if self.http:
            await self.http.close()
