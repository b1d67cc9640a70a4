"""Redis down and back under a scale-out deployment: two `parley serve --no-projections` processes and a
`parley projections run`, on one PostgreSQL and a redis-server of the test's own (never the shared one).

Redis is not the store. While it is down every request is still answered, quickly: sends are
acknowledged and stored, sockets connect, histories read. What degrades: events between processes
(message_new from the projector reaches nobody; clients catch up with get_messages), presence (everyone
reads as offline), rate limits (each process limits on its own). What heals by itself, with no process
restarted: the fan-out, presence (the heartbeat records every connected socket again), the shared limits.
"""

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.support.clients import Person, Socket
from tests.support.databases import postgres_database
from tests.support.redis_server import RedisServer
from tests.support.server import ProjectorProcess, ServerProcess

PRESENCE_TTL_SECONDS = 1.5  # a heartbeat every 0.5 s
SEND_BURST = 60  # and (almost) no refill: a user's sends are counted over the whole test
ACK_SECONDS = 5.0  # a request answered later than this while Redis is down counts as hanging
HEAL_SECONDS = 30.0  # everything is back this long after Redis is


@dataclass
class Cluster:
    database_url: str
    env: dict[str, str]
    projector: ProjectorProcess
    a: ServerProcess
    b: ServerProcess

    def alive(self) -> bool:
        return all(p.process is not None and p.process.poll() is None for p in (self.projector, self.a, self.b))


@contextmanager
def cluster_on(redis: RedisServer) -> Iterator[Cluster]:
    with postgres_database() as url:
        env = {
            "PARLEY_REDIS_URL": redis.url,
            "PARLEY_REDIS_PREFIX": f"parley-test-{uuid.uuid4().hex[:8]}",
            "PARLEY_PRESENCE_TTL_SECONDS": str(PRESENCE_TTL_SECONDS),
            "PARLEY_SEND_RATE_PER_SECOND": "0.001",
            "PARLEY_SEND_BURST": str(SEND_BURST),
        }
        projector = ProjectorProcess(url, env)
        a = ServerProcess(url, env, args=("--no-projections",))
        b = ServerProcess(url, env, args=("--no-projections",))
        try:
            a.start()  # creates the tables
            projector.start()
            b.start()
            yield Cluster(url, env, projector, a, b)
        finally:
            for process in (a, b, projector):
                process.stop()


def person(server: ServerProcess, name: str) -> Person:
    return Person(server.url, f"{name}-{uuid.uuid4().hex[:6]}", display_name=name.title()).register()


def on(server: ServerProcess, someone: Person) -> Person:
    """The same user, talking to another server process."""
    return Person(server.url, someone.username, token=someone.token, user=someone.user)


async def conversation_with(starter: Socket, other: Person) -> str:
    started = await starter.call("start_conversation", {"user_ids": [other.id]})
    assert started["ok"], started
    return started["conversation"]["id"]


slowest = [0.0]  # the longest wait for an answer so far in the running test, for its summary line


async def timed(call: Awaitable[Any]) -> Any:
    """The answer, which must come within ACK_SECONDS."""
    started = time.monotonic()
    answer = await call
    elapsed = time.monotonic() - started
    assert elapsed < ACK_SECONDS, f"answered after {elapsed:.1f}s: {answer}"
    slowest[0] = max(slowest[0], elapsed)
    return answer


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = HEAL_SECONDS) -> float:
    """Poll `check` until it holds; how long that took."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < seconds, f"not within {seconds:.0f}s: {what}"
        await asyncio.sleep(0.2)
    return time.monotonic() - started


async def online_as_seen_by(viewer: Socket) -> dict[str, bool]:
    listed = await viewer.call("get_conversations")
    assert listed["ok"], listed
    return {m["user"]["id"]: m["online"] for c in listed["conversations"] for m in c["members"]}


async def history(reader: Socket, conversation: str, after: int = 0) -> list[dict[str, Any]]:
    """The conversation after `after`, every page: the contract's gap-free catch-up."""
    messages: list[dict[str, Any]] = []
    while True:
        page = await reader.call("get_messages", {"conversation_id": conversation, "after_seq": after, "limit": 100})
        assert page["ok"], page
        messages += page["messages"]
        if not page["has_more"]:
            return messages
        after = messages[-1]["seq"]


class Sender:
    """Sends to one conversation and remembers what was acknowledged (client_message_id -> seq)."""

    def __init__(self, conversation: str) -> None:
        self.conversation = conversation
        self.acked: dict[str, int] = {}

    async def send(self, socket: Socket, body: str) -> dict[str, Any]:
        key = str(uuid.uuid4())
        ack = await timed(
            socket.call("send_message", {"conversation_id": self.conversation, "client_message_id": key, "body": body})
        )
        assert ack["ok"], ack
        self.acked[key] = ack["message"]["seq"]
        return ack["message"]


async def spend_until_refused(sockets: list[Socket], conversation: str, most: int) -> int:
    """Send through `sockets` in turn until one is refused as rate limited; how many were accepted."""
    for n in range(most + 1):
        ack = await timed(sockets[n % len(sockets)].send(conversation, f"spend {n}"))
        if not ack["ok"]:
            assert ack["error"]["code"] == "rate_limited" and ack["error"]["retry_after_ms"] > 0, ack
            return n
    raise AssertionError(f"{most + 1} sends and none refused: the rate limit does not hold")


def check_the_store(cluster: Cluster, conversation: str, acked: dict[str, int]) -> None:
    """Every acknowledged message stored exactly once with its seq, seqs gap-free, and `parley
    projections verify` clean."""
    from infrastructure.settings import Settings
    from interfaces.bootstrap import bootstrap

    container = bootstrap(Settings(database_url=cluster.database_url, jwt_secret="t" * 40))
    try:
        sent = [e for e in container.app.events.get(uuid.UUID(conversation)) if type(e).__name__ == "MessageSent"]
    finally:
        container.close()
    keys = [str(e.client_message_id) for e in sent]
    assert len(keys) == len(set(keys)), "a message was stored twice"
    assert {str(e.client_message_id): e.seq for e in sent if str(e.client_message_id) in acked} == acked
    assert sorted(e.seq for e in sent) == list(range(1, len(sent) + 1))
    done = subprocess.run(
        [sys.executable, "-m", "interfaces.cli", "projections", "verify"],
        env={**os.environ, **cluster.a.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


async def test_a_redis_restart_loses_nothing_acknowledged_and_everything_heals_by_itself() -> None:
    redis = RedisServer().start()
    try:
        with cluster_on(redis) as cluster:
            await restart_scenario(cluster, redis)
    finally:
        redis.kill()


async def restart_scenario(cluster: Cluster, redis: RedisServer) -> None:
    alice, bob = person(cluster.a, "alice"), person(cluster.b, "bob")
    carol, dave, frank = person(cluster.b, "carol"), person(cluster.b, "dave"), person(cluster.a, "frank")
    for other in (bob, carol, dave, frank):
        alice.connect_with(other)
    a = await Socket(alice).connect()  # on A, throughout
    b = await Socket(bob).connect()  # on B, throughout
    d = await Socket(dave).connect()  # on B; leaves while Redis is down
    conversation = await conversation_with(a, bob)
    for other in (carol, dave, frank):
        await conversation_with(a, other)  # so that alice's list shows their presence
    f_on_a, f_on_b = await Socket(frank).connect(), await Socket(on(cluster.b, frank)).connect()
    franks = await conversation_with(f_on_a, alice)
    for s in (a, b):
        assert (await s.call("join_conversation", {"conversation_id": conversation}))["ok"]
    chat = Sender(conversation)

    first = await chat.send(a, "before")
    assert await b.next_matching("message_new", lambda m: m["seq"] == first["seq"]) == first  # A -> B
    seen = await online_as_seen_by(a)
    assert seen[bob.id] and seen[dave.id] and not seen[carol.id]

    redis.kill()  # everything Redis held is gone: presence, rate-limit buckets, subscriptions
    slowest[0] = 0.0

    # Every request is still answered, quickly; sends are acknowledged and stored.
    for n in range(4):
        await chat.send(a, f"alice while down {n}")
        await chat.send(b, f"bob while down {n}")
    c = await timed(Socket(carol).connect())  # a handshake does not need Redis ...
    await d.disconnect()  # ... nor does a goodbye
    b_late = await timed(Socket(on(cluster.a, bob)).connect())
    assert (await timed(b_late.call("join_conversation", {"conversation_id": conversation})))["ok"]
    await chat.send(b_late, "bob's new socket while down")
    assert set((await online_as_seen_by(a)).values()) == {False}  # presence reads as nobody meanwhile
    with alice.http() as http:
        assert http.get("/api/connections").status_code == 200
    # Rate limits hold, each process on its own (a fresh bucket in each).
    assert await spend_until_refused([f_on_a], franks, SEND_BURST) == SEND_BURST
    assert await spend_until_refused([f_on_b], franks, SEND_BURST) == SEND_BURST
    slowest_while_down = slowest[0]
    last_seen_by_b = first["seq"]
    assert b.pending("message_new") == []  # the projector's broadcasts reached nobody

    redis.start()  # empty, as a real restart leaves it

    # Cross-process fan-out resumes by itself: alice (A) sends until bob's socket on B hears one.
    async def delivered_across() -> bool:
        sent = await chat.send(a, "probe")
        try:
            await b.next_matching("message_new", lambda m: m["seq"] == sent["seq"], timeout=1)
        except TimeoutError:
            return False
        return True

    fanout_after = await eventually(delivered_across, "message_new from A reaches B again")
    # What bob's socket on B missed, it catches up with get_messages(after_seq=...): all, once, in order.
    caught_up = await history(b, conversation, after=last_seen_by_b)
    assert [m["seq"] for m in caught_up] == list(range(last_seen_by_b + 1, last_seen_by_b + 1 + len(caught_up)))
    everything = {m["client_message_id"]: m["seq"] for m in await history(b, conversation)}
    assert {key: everything.get(key) for key in chat.acked} == chat.acked, "an acknowledged message is missing"
    assert sorted(everything.values()) == list(range(1, len(everything) + 1))

    # Presence heals: the sockets still connected (those made while Redis was down too) count again;
    # dave, who left meanwhile, does not.
    async def presence_is_true() -> bool:
        seen = await online_as_seen_by(b_late)
        return (await online_as_seen_by(a)) == {
            alice.id: True,
            bob.id: True,
            carol.id: True,
            dave.id: False,
            frank.id: True,
        } and seen[alice.id]

    presence_after = await eventually(presence_is_true, "presence true again", PRESENCE_TTL_SECONDS * 4 + 5)

    # The shared limit is back: a user's burst holds across both processes again.
    erin = person(cluster.a, "erin")
    alice.connect_with(erin)
    e_on_a, e_on_b = await Socket(erin).connect(), await Socket(on(cluster.b, erin)).connect()
    erins = await conversation_with(e_on_a, alice)
    assert await spend_until_refused([e_on_a, e_on_b], erins, SEND_BURST) == SEND_BURST
    assert (await e_on_a.send(erins, "one too many"))["error"]["code"] == "rate_limited"

    assert cluster.alive(), "a process died"  # the same processes, none restarted
    for s in (a, b, c, b_late, f_on_a, f_on_b, e_on_a, e_on_b):
        await s.disconnect()
    check_the_store(cluster, conversation, chat.acked)
    print(
        f"\nRedis restart: {len(chat.acked)} acknowledged messages checked, lost: 0; slowest answer while "
        f"down {slowest_while_down:.2f}s; fan-out back {fanout_after:.1f}s, presence {presence_after:.1f}s after"
    )


async def test_a_redis_that_hangs_holds_no_request_up_and_the_same_processes_carry_on() -> None:
    """SIGSTOP: Redis keeps its connections and accepts new ones, and answers nothing; only the
    clients' own timeouts end their calls. Each request may wait for one (TIMEOUT_SECONDS), no more."""
    redis = RedisServer().start()
    try:
        with cluster_on(redis) as cluster:
            await hang_scenario(cluster, redis)
    finally:
        redis.kill()


async def hang_scenario(cluster: Cluster, redis: RedisServer) -> None:
    alice, bob, carol = person(cluster.a, "alice"), person(cluster.b, "bob"), person(cluster.b, "carol")
    alice.connect_with(bob)
    alice.connect_with(carol)
    a, b = await Socket(alice).connect(), await Socket(bob).connect()
    conversation = await conversation_with(a, bob)
    await conversation_with(a, carol)
    for s in (a, b):
        assert (await s.call("join_conversation", {"conversation_id": conversation}))["ok"]
    chat = Sender(conversation)
    first = await chat.send(a, "before")
    assert await b.next_matching("message_new", lambda m: m["seq"] == first["seq"]) == first

    redis.freeze()
    slowest[0] = 0.0
    for n in range(3):
        await chat.send(a, f"alice while Redis hangs {n}")
        await chat.send(b, f"bob while Redis hangs {n}")
    c = await timed(Socket(carol).connect())
    assert (await timed(a.call("get_conversations")))["ok"]
    assert (await timed(b.call("typing_start", {"conversation_id": conversation})))["ok"]
    assert (await timed(b.call("typing_stop", {"conversation_id": conversation})))["ok"]
    slowest_while_hung = slowest[0]
    redis.thaw()

    async def delivered_across() -> bool:
        sent = await chat.send(a, "probe")
        try:
            await b.next_matching("message_new", lambda m: m["seq"] == sent["seq"], timeout=1)
        except TimeoutError:
            return False
        return True

    fanout_after = await eventually(delivered_across, "message_new from A reaches B again")
    everything = {m["client_message_id"]: m["seq"] for m in await history(b, conversation)}
    assert {key: everything.get(key) for key in chat.acked} == chat.acked, "an acknowledged message is missing"
    assert sorted(everything.values()) == list(range(1, len(everything) + 1))

    async def presence_is_true() -> bool:
        return await online_as_seen_by(a) == {alice.id: True, bob.id: True, carol.id: True}

    presence_after = await eventually(presence_is_true, "presence true again", PRESENCE_TTL_SECONDS * 4 + 5)
    assert cluster.alive(), "a process died"
    for s in (a, b, c):
        await s.disconnect()
    check_the_store(cluster, conversation, chat.acked)
    print(
        f"\nRedis hung: {len(chat.acked)} acknowledged messages checked, lost: 0; slowest answer while hung "
        f"{slowest_while_hung:.2f}s; fan-out back {fanout_after:.1f}s, presence {presence_after:.1f}s after"
    )
