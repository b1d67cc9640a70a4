"""The load generator's worker side: jobs that run in client worker processes, each job many
lightweight clients (benchmarks/wire_client.py) on one uvloop event loop.

The suite (benchmarks/suite/) hands each worker a job (a plain dict) and a `Sync`: the worker
connects its clients, reports ready, waits for the plan (wall-clock times chosen by the suite once
every worker is ready, so all workers start, drop or stop together), runs it, and returns a dict
of counts and latency samples. Latencies are measured on CLOCK_MONOTONIC (`time.monotonic`), which
on Linux is one clock for every process of the machine, so a send in one process and its
`message_new` in another are comparable: each message body carries its send time.
"""

import asyncio
import os
import random
import resource
import time
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp

from benchmarks.wire_client import WireClient

CONNECT_CONCURRENCY = 100  # connections a worker opens at once (the server's listen backlog is 128)


class Sync:
    """Worker <-> suite coordination through a multiprocessing Manager's queue and dict."""

    def __init__(self, queue: Any, shared: Any) -> None:
        self.queue = queue
        self.shared = shared

    def ready(self, worker: int, info: dict[str, Any]) -> None:
        self.queue.put((worker, info))

    async def plan(self, timeout: float) -> dict[str, Any]:
        return await self.value("plan", timeout)

    async def value(self, key: str, timeout: float) -> Any:
        """Wait for a value the suite or another worker publishes under `key`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.shared.get(key)
            if value is not None:
                return value
            await asyncio.sleep(0.02)
        raise TimeoutError(f"nothing published under {key!r}")

    def publish(self, key: str, value: Any) -> None:
        self.shared[key] = value


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def run_job(job: dict[str, Any], sync: Sync) -> dict[str, Any]:
    """Entry point in a worker process."""
    raise_nofile()
    import uvloop

    kind = job["kind"]
    return uvloop.run(JOBS[kind](job, sync))


async def at(wall_time: float) -> None:
    """Sleep until a wall-clock time (time.time()) chosen by the suite."""
    delay = wall_time - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


def mono(wall_time: float) -> float:
    """The monotonic time of a wall-clock time in the near future or past."""
    return time.monotonic() + (wall_time - time.time())


def session() -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None, connect=30))


async def gather_limited(coros: list[Any], limit: int = CONNECT_CONCURRENCY) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with semaphore:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros), return_exceptions=True)


async def drain(samples: list[Any], quiet: float = 1.5, limit: float = 30.0) -> None:
    """Wait for late events: until `samples` stops growing for `quiet` seconds (at most `limit`)."""
    deadline = time.monotonic() + limit
    seen, since = len(samples), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        await asyncio.sleep(0.1)
        if len(samples) != seen:
            seen, since = len(samples), time.monotonic()


def cpu_seconds() -> float:
    return time.process_time()


def stamp() -> str:
    """A message body that carries its send time (monotonic, seconds)."""
    return f"{time.monotonic():.6f}"


def count(errors: dict[str, int], kind: str) -> None:
    errors[kind] = errors.get(kind, 0) + 1


def failure_code(ack: dict[str, Any]) -> str:
    return ack.get("error", {}).get("code", "?")


async def send_stamped(client: WireClient, conversation: str, errors: dict[str, int]) -> float | None:
    """Send one message whose body is its send time and wait for the ack: the send time once it is
    acknowledged, or None with the failure counted in `errors`."""
    started = time.monotonic()
    payload = {"conversation_id": conversation, "client_message_id": str(uuid.uuid4()), "body": f"{started:.6f}"}
    try:
        ack = await client.call("send_message", payload, timeout=30)
    except (TimeoutError, ConnectionError) as error:
        count(errors, type(error).__name__)
        return None
    if not ack.get("ok"):
        count(errors, failure_code(ack))
        return None
    return started


# -- (a) pairs: each sender one message in flight (closed) or paced sends (open) ------------------------
class SioClient:
    """python-socketio's own AsyncClient behind the calls the pairs job makes of a WireClient: what a new
    user's client costs (about a millisecond of CPU per event), websocket transport only, authenticated
    as the light client is (the Socket.IO CONNECT packet carries `{"token": ...}`)."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        import socketio

        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=http)

    def on(self, event: str, handler: Callable[[Any], None]) -> None:
        self.sio.on(event, handler)

    async def connect(self, auth: Any = None, timeout: float = 20) -> "SioClient":
        async with asyncio.timeout(timeout):
            await self.sio.connect(self.url, auth=auth, transports=["websocket"], wait_timeout=timeout)
        return self

    def call_nowait(self, event: str, data: Any = None) -> "asyncio.Future[Any]":
        """Emit with an ack callback; the future of the ack's first argument."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_ack(*args: Any) -> None:
            if not future.done():
                future.set_result(args[0] if args else None)

        def sent(task: "asyncio.Future[None]") -> None:
            error = None if task.cancelled() else task.exception()
            if error is not None and not future.done():
                future.set_exception(ConnectionError(f"emit failed: {error!r}"))

        asyncio.ensure_future(self.sio.emit(event, data, callback=on_ack)).add_done_callback(sent)
        return future

    async def call(self, event: str, data: Any = None, timeout: float = 20) -> Any:
        future = self.call_nowait(event, data)
        try:
            async with asyncio.timeout(timeout):
                return await future
        finally:
            future.cancel()

    async def disconnect(self) -> None:
        await self.sio.disconnect()


def make_client(kind: str, http: aiohttp.ClientSession, url: str) -> Any:
    """A client of the kind a job names: "light" (benchmarks/wire_client.py) or "socketio" (python-socketio's)."""
    if kind == "light":
        return WireClient(http, url)
    if kind == "socketio":
        return SioClient(http, url)
    raise ValueError(f"unknown client kind {kind!r}")


async def pairs_job(job: dict[str, Any], sync: Sync) -> dict[str, Any]:
    """job: url, worker, pairs [(token_a, token_b, conversation_id)], mode "closed"|"open",
    rate_per_pair (open), client "light"|"socketio", plan timeout. Receiver b joins the conversation;
    sender a sends to it. With `timeline` (the lag workload) it also returns each sample's send time
    (seconds after the window's start), errors by code per `window_seconds` of arrival, and how many
    acknowledged messages had not reached their receiver `undelivered_wait` seconds after the last ack."""
    url, mode = job["url"], job["mode"]
    timeline, bucket = bool(job.get("timeline")), float(job.get("window_seconds", 5.0))
    ack_ms: list[float] = []
    deliver_ms: list[float] = []
    ack_sent: list[float] = []  # timeline: the send time of each ack_ms sample, after the window's start
    deliver_sent: list[float] = []
    errors: dict[str, int] = {}
    errors_by_window: dict[int, dict[str, int]] = {}  # timeline: window index (by arrival) -> code -> count
    acked_ids: set[str] = set()  # timeline: messages acknowledged, and those seen as message_new
    delivered_ids: set[str] = set()
    window: list[float] = [0.0, 0.0]  # monotonic start, end of the measured window
    in_window = [0]  # acks received within the window: the rate counts these (the latency samples are all)
    late_sends: list[float] = [0, 0.0]  # open loop: sends made over 50 ms after their scheduled time, the most late

    def on_message(data: dict[str, Any]) -> None:
        sent = float(data["body"])
        if window[0] <= sent < window[1]:
            deliver_ms.append((time.monotonic() - sent) * 1000)
            if timeline:
                deliver_sent.append(sent - window[0])
                delivered_ids.add(data["id"])

    def failed(code: str) -> None:
        count(errors, code)
        if timeline:
            count(errors_by_window.setdefault(int((time.monotonic() - window[0]) // bucket), {}), code)

    def acked(sent: float, ack: dict[str, Any]) -> None:
        now = time.monotonic()
        ack_ms.append((now - sent) * 1000)
        if now <= window[1]:
            in_window[0] += 1
        if timeline:
            ack_sent.append(sent - window[0])
            acked_ids.add(ack["message"]["id"])

    async with session() as http:

        async def setup(pair: list[Any]) -> tuple[Any, Any, str]:
            token_a, token_b, conversation = pair
            a = await make_client(job.get("client", "light"), http, url).connect({"token": token_a})
            b = make_client(job.get("client", "light"), http, url)
            b.on("message_new", on_message)
            await b.connect({"token": token_b})
            joined = await b.call("join_conversation", {"conversation_id": conversation})
            assert joined.get("ok"), joined
            return a, b, conversation

        clients = await gather_limited([setup(p) for p in job["pairs"]])
        failed_pairs = [c for c in clients if isinstance(c, BaseException)]
        if failed_pairs:
            raise RuntimeError(f"{len(failed_pairs)} pairs failed to connect: {failed_pairs[0]!r}")
        sync.ready(job["worker"], {"pairs": len(clients)})
        plan = await sync.plan(job.get("plan_timeout", 120))
        window[0], window[1] = mono(plan["start"]), mono(plan["end"])
        await at(plan["start"])
        cpu0 = cpu_seconds()

        async def closed(a: Any, conversation: str) -> None:
            await asyncio.sleep(random.random() * 0.01)  # do not start in lockstep
            while time.monotonic() < window[1]:
                started = time.monotonic()
                payload = {
                    "conversation_id": conversation,
                    "client_message_id": str(uuid.uuid4()),
                    "body": f"{started:.6f}",
                }
                try:
                    ack = await a.call("send_message", payload, timeout=30)
                except (TimeoutError, ConnectionError) as error:
                    failed(type(error).__name__)
                    continue
                if ack.get("ok"):
                    acked(started, ack)
                    continue
                failed(failure_code(ack))
                if ack.get("error", {}).get("retry_after_ms"):  # pushed back: wait as a well-behaved client does
                    await asyncio.sleep(min(1.0, ack["error"]["retry_after_ms"] / 1000))

        async def paced(a: Any, conversation: str) -> None:
            interval = 1.0 / job["rate_per_pair"]
            due = window[0] + random.random() * interval
            pending: list[asyncio.Future[Any]] = []

            def on_ack(sent: float) -> Any:
                def done(future: asyncio.Future[Any]) -> None:
                    if future.cancelled() or future.exception() is not None:
                        failed("no_ack")
                    elif not future.result().get("ok"):
                        failed(failure_code(future.result()))
                    else:
                        acked(sent, future.result())

                return done

            while due < window[1]:
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                # the body carries the scheduled time: a late send counts its lateness (no coordinated omission)
                payload = {
                    "conversation_id": conversation,
                    "client_message_id": str(uuid.uuid4()),
                    "body": f"{due:.6f}",
                }
                lateness = time.monotonic() - due
                if lateness > 0.05:  # the load generator fell behind its schedule (CPU, or a blocked loop)
                    late_sends[0] += 1
                late_sends[1] = max(late_sends[1], lateness)
                future = a.call_nowait("send_message", payload)
                future.add_done_callback(on_ack(due))
                pending.append(future)
                pending = [f for f in pending if not f.done()] if len(pending) > 1000 else pending
                due += interval
            if pending:
                _, late = await asyncio.wait(pending, timeout=job.get("ack_wait", 30))
                for future in late:  # never acknowledged: counted as no_ack by its callback
                    future.cancel()

        senders = [closed(a, c) if mode == "closed" else paced(a, c) for a, _, c in clients]
        await asyncio.gather(*senders)
        cpu = cpu_seconds() - cpu0
        undelivered = None
        if timeline:  # every acknowledged message should reach its receiver: wait a bounded time for the last
            deadline = time.monotonic() + job.get("undelivered_wait", 5.0)
            while time.monotonic() < deadline and not acked_ids <= delivered_ids:
                await asyncio.sleep(0.05)
            undelivered = len(acked_ids - delivered_ids)
        else:
            await drain(deliver_ms)  # the last message_new events
        await asyncio.gather(*(c.disconnect() for pair in clients for c in pair[:2]), return_exceptions=True)
    out: dict[str, Any] = {
        "ack_ms": ack_ms,
        "deliver_ms": deliver_ms,
        "errors": errors,
        "cpu_seconds": cpu,
        "sends": len(ack_ms),
        "acked_in_window": in_window[0],
    }
    if mode == "open":
        out |= {"sends_late_over_50ms": int(late_sends[0]), "max_send_lateness_ms": round(late_sends[1] * 1000, 1)}
    if timeline:
        out |= {
            "ack_sent": ack_sent,
            "deliver_sent": deliver_sent,
            "errors_by_window": errors_by_window,
            "acked_messages": len(acked_ids),
            "undelivered": undelivered,
        }
    return out


# -- (b) fan-out: one sender, many members --------------------------------------------------------------
async def fanout_job(job: dict[str, Any], sync: Sync) -> dict[str, Any]:
    """job: url, worker, conversation_id, sender_token (or None in this worker), member_tokens.
    Every member socket joins; the sender keeps `window` messages in flight."""
    url, conversation = job["url"], job["conversation_id"]
    deliver_ms: list[float] = []
    last_by_message: dict[float, float] = {}  # send time -> latest delivery latency in this worker
    ack_ms: list[float] = []
    errors: dict[str, int] = {}
    window: list[float] = [0.0, 0.0]
    last_at = [0.0]
    in_window = [0]

    def on_message(data: dict[str, Any]) -> None:
        sent = float(data["body"])
        if window[0] <= sent < window[1]:
            last_at[0] = now = time.monotonic()
            latency = (now - sent) * 1000
            deliver_ms.append(latency)
            if latency > last_by_message.get(sent, 0.0):
                last_by_message[sent] = latency

    async with session() as http:

        async def member(token: str) -> WireClient:
            client = await WireClient(http, url).connect({"token": token})
            client.on("message_new", on_message)
            joined = await client.call("join_conversation", {"conversation_id": conversation})
            assert joined.get("ok"), joined
            return client

        members = await gather_limited([member(t) for t in job["member_tokens"]])
        failed = [m for m in members if isinstance(m, BaseException)]
        if failed:
            raise RuntimeError(f"{len(failed)} members failed to connect: {failed[0]!r}")
        sender = await WireClient(http, url).connect({"token": job["sender_token"]}) if job["sender_token"] else None
        sync.ready(job["worker"], {"members": len(members)})
        plan = await sync.plan(job.get("plan_timeout", 120))
        window[0], window[1] = mono(plan["start"]), mono(plan["end"])
        await at(plan["start"])
        cpu0 = cpu_seconds()

        async def send_loop() -> None:
            assert sender is not None
            while time.monotonic() < window[1]:
                if (started := await send_stamped(sender, conversation, errors)) is not None:
                    now = time.monotonic()
                    ack_ms.append((now - started) * 1000)
                    if now <= window[1]:
                        in_window[0] += 1

        if sender is not None:
            await asyncio.gather(*(send_loop() for _ in range(job.get("window", 1))))
        else:
            await at(plan["end"])
        cpu = cpu_seconds() - cpu0
        await drain(deliver_ms, quiet=2.0, limit=45.0)  # a backlog of broadcasts may still be on its way
        everyone = [*members, *([sender] if sender else [])]
        await asyncio.gather(*(c.disconnect() for c in everyone), return_exceptions=True)
    return {
        "deliver_ms": deliver_ms,
        "last_by_message": last_by_message,
        "ack_ms": ack_ms,
        "errors": errors,
        "last_delivery_s": max(0.0, last_at[0] - window[0]),
        "acked_in_window": in_window[0],
        "cpu_seconds": cpu,
        "sends": len(ack_ms),
    }


# -- (c) idle sockets ------------------------------------------------------------------------------------
async def idle_job(job: dict[str, Any], sync: Sync) -> dict[str, Any]:
    """job: url, worker, tokens (one per socket). Connects them all, reports, holds until the plan's
    release time (answering pings), then drops them."""
    url = job["url"]
    async with session() as http:
        began = time.monotonic()
        clients = await gather_limited([WireClient(http, url).connect({"token": t}, timeout=60) for t in job["tokens"]])
        connected = [c for c in clients if isinstance(c, WireClient)]
        failures = [repr(c) for c in clients if not isinstance(c, WireClient)]
        sync.ready(
            job["worker"],
            {
                "connected": len(connected),
                "failed": len(failures),
                "connect_seconds": round(time.monotonic() - began, 2),
            },
        )
        plan = await sync.plan(job.get("plan_timeout", 300))
        await at(plan["release"])
        still_open = sum(1 for c in connected if not c.closed.is_set())
        await asyncio.gather(*(c.drop() for c in connected), return_exceptions=True)
    return {"connected": len(connected), "failed": len(failures), "failures": failures[:3], "still_open": still_open}


# -- (d) reconnect storm --------------------------------------------------------------------------------
class Follower:
    """A socket that follows one conversation, remembering every seq it has seen."""

    def __init__(self, http: aiohttp.ClientSession, url: str, token: str, conversation: str) -> None:
        self.http, self.url, self.token, self.conversation = http, url, token, conversation
        self.client: WireClient | None = None
        self.seen: set[int] = set()
        self.duplicates = 0  # live message_new for a seq already held (overlap of join and fetch: harmless)
        self.baseline = 0
        self.catch_up_ms: float | None = None
        self.pages = 0
        self.phases: dict[str, float] = {}
        self.last_live_at = 0.0

    def on_message(self, data: dict[str, Any]) -> None:
        self.last_live_at = time.monotonic()
        self.note(data["seq"])

    def note(self, seq: int) -> None:
        if seq in self.seen:
            self.duplicates += 1
        self.seen.add(seq)

    @property
    def last(self) -> int:
        return max(self.seen, default=self.baseline)

    async def connect(self) -> None:
        self.client = WireClient(self.http, self.url)
        self.client.on("message_new", self.on_message)
        await self.client.connect({"token": self.token}, timeout=60)
        joined = await self.client.call("join_conversation", {"conversation_id": self.conversation}, timeout=60)
        assert joined.get("ok"), joined

    async def start(self) -> None:
        await self.connect()
        newest = await self.client.call("get_messages", {"conversation_id": self.conversation, "limit": 1})  # type: ignore[union-attr]
        assert newest.get("ok"), newest
        self.baseline = newest["messages"][-1]["seq"] if newest["messages"] else 0

    async def reconnect(self) -> None:
        """Reconnect, join, then page with after_seq = the last seq seen until has_more is false."""
        began = time.monotonic()
        last = self.last
        self.client = WireClient(self.http, self.url)
        self.client.on("message_new", self.on_message)
        await self.client.connect({"token": self.token}, timeout=60)
        self.phases["connect_ms"] = (time.monotonic() - began) * 1000
        if self.client.upgraded_ms is not None:  # of connect_ms: the websocket upgrade (TCP + HTTP 101)
            self.phases["upgrade_ms"] = self.client.upgraded_ms
        joined = await self.client.call("join_conversation", {"conversation_id": self.conversation}, timeout=60)
        assert joined.get("ok"), joined
        self.phases["join_ms"] = (time.monotonic() - began) * 1000 - self.phases["connect_ms"]
        while True:
            page = await self.client.call(  # type: ignore[union-attr]
                "get_messages", {"conversation_id": self.conversation, "after_seq": last, "limit": 200}, timeout=60
            )
            assert page.get("ok"), page
            self.pages += 1
            for message in page["messages"]:
                if message["seq"] not in self.seen:
                    self.seen.add(message["seq"])
                last = max(last, message["seq"])
            if not page["has_more"]:
                break
        self.catch_up_ms = (time.monotonic() - began) * 1000
        self.phases["fetch_ms"] = self.catch_up_ms - self.phases["connect_ms"] - self.phases["join_ms"]

    def report(self) -> dict[str, Any]:
        expected_from = self.baseline + 1
        top = max(self.seen, default=self.baseline)
        missing = [s for s in range(expected_from, top + 1) if s not in self.seen]
        return {
            "conversation": self.conversation,
            "baseline": self.baseline,
            "top": top,
            "missing": len(missing),
            "duplicates": self.duplicates,
            "catch_up_ms": self.catch_up_ms,
            "pages": self.pages,
            **self.phases,
        }


async def storm_job(job: dict[str, Any], sync: Sync) -> dict[str, Any]:
    """job: url, worker, followers [(token, conversation_id)]. Plan: drop (all abort their TCP
    connection), reconnect (all at once), end (stop listening)."""
    url = job["url"]
    async with session() as http:
        followers = [Follower(http, url, token, conversation) for token, conversation in job["followers"]]
        started = await gather_limited([f.start() for f in followers])
        failed = [s for s in started if isinstance(s, BaseException)]
        if failed:
            raise RuntimeError(f"{len(failed)} followers failed to connect: {failed[0]!r}")
        sync.ready(job["worker"], {"followers": len(followers)})
        plan = await sync.plan(job.get("plan_timeout", 120))
        await at(plan["drop"])
        await asyncio.gather(*(f.client.drop() for f in followers if f.client), return_exceptions=True)
        await at(plan["reconnect"])
        cpu, wall = time.process_time(), time.monotonic()
        outcomes = await asyncio.gather(*(f.reconnect() for f in followers), return_exceptions=True)
        # this worker's CPU over its followers' reconnects: near 1.0, the load generator limits the storm
        worker_cores = (time.process_time() - cpu) / max(1e-6, time.monotonic() - wall)
        errors = [repr(o) for o in outcomes if isinstance(o, BaseException)]
        await at(plan["end"])
        # The heads the sender saw acknowledged; a follower still short of its head is late or has lost
        # messages: wait (bounded) for the live message_new events, and say how late the last one was.
        heads = await sync.value("heads", timeout=60)
        stopped = mono(plan["stop"])
        deadline = time.monotonic() + job.get("grace_seconds", 15)
        while time.monotonic() < deadline and any(f.last < heads.get(f.conversation, 0) for f in followers):
            await asyncio.sleep(0.05)
        behind_at_end = sum(1 for f in followers if f.last < heads.get(f.conversation, 0))
        reports = [f.report() for f in followers]
        # when the last live message_new a follower needed arrived, from the moment the sender stopped
        last_arrival_after_stop_ms = (
            max((f.last_live_at - stopped) * 1000 for f in followers) if behind_at_end == 0 else None
        )
        await asyncio.gather(*(f.client.disconnect() for f in followers if f.client), return_exceptions=True)
    return {
        "reports": reports,
        "errors": errors[:5],
        "error_count": len(errors),
        "behind_after_grace": behind_at_end,
        "all_at_head_after_stop_ms": last_arrival_after_stop_ms,
        "worker_cores_during_reconnect": round(worker_cores, 3),
    }


async def storm_sender_job(job: dict[str, Any], sync: Sync) -> dict[str, Any]:
    """job: url, worker, senders [(token, conversation_id)], rate (messages/s in all). Sends round-robin
    from plan start to plan stop; returns the last acknowledged seq of each conversation."""
    url = job["url"]
    heads: dict[str, int] = {}
    errors: dict[str, int] = {}
    async with session() as http:
        senders = await gather_limited([WireClient(http, url).connect({"token": t}) for t, _ in job["senders"]])
        failed = [s for s in senders if isinstance(s, BaseException)]
        if failed:
            raise RuntimeError(f"{len(failed)} senders failed to connect: {failed[0]!r}")
        sync.ready(job["worker"], {"senders": len(senders)})
        plan = await sync.plan(job.get("plan_timeout", 120))
        await at(plan["start"])
        interval = 1.0 / job["rate"]
        pending: list[asyncio.Future[Any]] = []
        stop = mono(plan["stop"])
        due = time.monotonic()
        i = 0
        while due < stop:
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sender, (_, conversation) = senders[i % len(senders)], job["senders"][i % len(senders)]
            future = sender.call_nowait(
                "send_message",
                {"conversation_id": conversation, "client_message_id": str(uuid.uuid4()), "body": stamp()},
            )

            def done(f: asyncio.Future[Any], conversation: str = conversation) -> None:
                if f.cancelled() or f.exception() is not None or not f.result().get("ok"):
                    count(errors, "failed")
                else:
                    heads[conversation] = max(heads.get(conversation, 0), f.result()["message"]["seq"])

            future.add_done_callback(done)
            pending.append(future)
            i += 1
            due += interval
        if pending:
            await asyncio.wait(pending, timeout=30)
        sync.publish("heads", heads)
        await asyncio.gather(*(s.disconnect() for s in senders), return_exceptions=True)
    return {"heads": heads, "sent": i, "errors": errors}


JOBS = {
    "pairs": pairs_job,
    "fanout": fanout_job,
    "idle": idle_job,
    "storm": storm_job,
    "storm_sender": storm_sender_job,
}


def worker_pid() -> int:
    return os.getpid()
