"""Scale-out: two `parley serve --no-projections` processes and one `parley projections run` on one
PostgreSQL and one Redis. Clients on different processes chat; receipts, typing and presence cross
processes; a user's rate limit holds across them; killing a server process loses nothing acknowledged."""

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.clients import Person, Socket
from tests.support.databases import postgres_database
from tests.support.redis import REDIS_URL, redis_prefix
from tests.support.server import ProjectorProcess, ServerProcess
from tests.support.waiting import until

PRESENCE_TTL_SECONDS = 1.5


@dataclass
class Cluster:
    database_url: str
    projector: ProjectorProcess
    a: ServerProcess
    b: ServerProcess

    def stop(self) -> None:
        for process in (self.a, self.b, self.projector):
            process.stop()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """Shared by the tests that do not kill anything; each test has users of its own. Sends are
    limited to bursts of 5 (then a token every 20 s) per user, for the shared-limit test."""
    with started_cluster({"PARLEY_SEND_RATE_PER_SECOND": "0.05", "PARLEY_SEND_BURST": "5"}) as started:
        yield started


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    with started_cluster({}) as started:
        yield started


@contextmanager
def started_cluster(env: dict[str, str]) -> Iterator[Cluster]:
    with postgres_database() as url, redis_prefix() as prefix:
        env = {
            "PARLEY_REDIS_URL": REDIS_URL,
            "PARLEY_REDIS_PREFIX": prefix,
            "PARLEY_PRESENCE_TTL_SECONDS": str(PRESENCE_TTL_SECONDS),
            **env,
        }
        projector = ProjectorProcess(url, env)
        a = ServerProcess(url, env, args=("--no-projections",))
        b = ServerProcess(url, env, args=("--no-projections",))
        cluster = Cluster(url, projector, a, b)
        try:
            a.start()  # creates the tables
            projector.start()
            b.start()
            yield cluster
        finally:
            cluster.stop()


def person(server: ServerProcess, name: str) -> Person:
    return Person(server.url, f"{name}-{uuid.uuid4().hex[:6]}", display_name=name.title()).register()


def on(server: ServerProcess, someone: Person) -> Person:
    """The same user, talking to another server process."""
    return Person(
        server.url, someone.username, token=someone.token, user=someone.user, refresh_token=someone.refresh_token
    )


async def direct_conversation(starter: Socket, other: Person) -> str:
    started = await starter.call("start_conversation", {"user_ids": [other.id]})
    assert started["ok"], started
    return started["conversation"]["id"]


async def test_clients_on_two_processes_chat_with_receipts_and_typing(cluster: Cluster) -> None:
    alice, bob = person(cluster.a, "alice"), person(cluster.b, "bob")
    alice.connect_with(bob)
    a = await Socket(alice).connect()  # on A
    b = await Socket(bob).connect()  # on B
    b_elsewhere = await Socket(on(cluster.a, bob)).connect()  # bob's second socket, on A
    conversation = await direct_conversation(a, bob)
    assert (await b.next("conversation_updated"))["id"] == conversation  # user rooms cross
    for s in (a, b, b_elsewhere):
        assert (await s.call("join_conversation", {"conversation_id": conversation}))["ok"]

    sent = await a.send(conversation, "hello from A")
    assert sent["ok"], sent
    assert await b.next("message_new") == sent["message"]
    assert await b_elsewhere.next("message_new") == sent["message"]
    updated = await b.next_matching("conversation_updated", lambda c: c["last_message"] is not None)
    assert updated["unread_count"] == 1
    reply = await b.send(conversation, "hello from B")
    assert (await a.next_matching("message_new", lambda m: m["seq"] == 2)) == reply["message"]

    assert (await b.call("mark_as_delivered", {"conversation_id": conversation, "up_to_seq": 1}))["ok"]
    delivered = await a.next("messages_delivered")
    assert (delivered["user_id"], delivered["up_to_seq"]) == (bob.id, 1)
    assert (await b.call("mark_as_read", {"conversation_id": conversation, "up_to_seq": 1}))["ok"]
    read = await a.next("messages_read")
    assert (read["user_id"], read["up_to_seq"]) == (bob.id, 1)
    history = await a.call("get_messages", {"conversation_id": conversation})
    assert [m["status"] for m in history["messages"] if m["sender_id"] == alice.id] == ["read"]

    # Typing from B reaches A; none of the typist's sockets hear it, not even the one on A.
    assert (await b.call("typing_start", {"conversation_id": conversation}))["ok"]
    assert await a.next("typing", timeout=5) == {"conversation_id": conversation, "user_id": bob.id, "is_typing": True}
    assert (await b.call("typing_stop", {"conversation_id": conversation}))["ok"]
    assert (await a.next("typing"))["is_typing"] is False
    # ... and ends by itself 6 s after the last typing_start.
    assert (await b.call("typing_start", {"conversation_id": conversation}))["ok"]
    assert (await a.next("typing"))["is_typing"] is True
    assert (await a.next("typing", timeout=9))["is_typing"] is False
    assert b_elsewhere.pending("typing") == [] and b.pending("typing") == []
    for s in (a, b, b_elsewhere):
        await s.disconnect()


async def test_presence_crosses_processes_and_a_user_on_two_processes_is_online_once(cluster: Cluster) -> None:
    carol, dave = person(cluster.a, "carol"), person(cluster.b, "dave")
    d = await Socket(dave).connect()  # on B
    carol.connect_with(dave)
    # Once the acceptance is broadcast (with the presence of whoever is online by then), every
    # presence event of carol's comes from her sockets.
    await d.next_matching("connection_updated", lambda c: c["status"] == "connected")

    def carols(events: list[dict[str, Any]]) -> list[str]:
        return [e["status"] for e in events if e["user_id"] == carol.id]

    c1 = await Socket(carol).connect()  # on A: carol comes online
    assert (await d.next_matching("presence", lambda e: e["user_id"] == carol.id))["status"] == "online"
    c2 = await Socket(on(cluster.b, carol)).connect()  # her second socket, on B: still online, once
    d_late = await Socket(on(cluster.a, dave)).connect()  # a new socket learns who is online already
    assert (await d_late.next_matching("presence", lambda e: e["user_id"] == carol.id))["status"] == "online"
    conversation = await d.call("start_conversation", {"user_ids": [carol.id]})
    assert {m["user"]["id"]: m["online"] for m in conversation["conversation"]["members"]} == {
        carol.id: True,
        dave.id: True,
    }

    await c1.disconnect()  # her socket on B remains: no offline
    await c2.disconnect()  # her last socket: offline, once
    assert (await d.next_matching("presence", lambda e: e["user_id"] == carol.id))["status"] == "offline"
    listed = await d.call("get_conversations")
    assert {m["user"]["id"]: m["online"] for m in listed["conversations"][0]["members"]}[carol.id] is False
    # The sentinel: her coming back is the next thing dave hears of her, so "offline" was said once.
    c3 = await Socket(carol).connect()
    back = await d.arrived_before("presence", lambda e: e["user_id"] == carol.id and e["status"] == "online")
    assert carols(back) == []
    await c3.disconnect()
    await d.disconnect()
    await d_late.disconnect()


async def test_a_users_sends_through_two_processes_share_one_rate_limit(cluster: Cluster) -> None:
    erin, frank = person(cluster.a, "erin"), person(cluster.a, "frank")
    erin.connect_with(frank)
    on_a, on_b = await Socket(erin).connect(), await Socket(on(cluster.b, erin)).connect()
    conversation = await direct_conversation(on_a, frank)
    acks = [await s.send(conversation, f"m{n}") for n, s in enumerate([on_a, on_b, on_a, on_b, on_a])]
    assert all(ack["ok"] for ack in acks), acks  # the burst of 5, spent through both processes
    for s in (on_b, on_a):  # each process alone would still have tokens left
        refused = await s.send(conversation, "one too many")
        assert refused["ok"] is False and refused["error"]["code"] == "rate_limited", refused
        assert refused["error"]["retry_after_ms"] > 0
    await on_a.disconnect()
    await on_b.disconnect()


async def test_a_connection_removed_through_one_process_is_seen_by_the_other(cluster: Cluster) -> None:
    gina, hank = person(cluster.a, "gina"), person(cluster.a, "hank")
    gina.connect_with(hank)
    g = await Socket(on(cluster.b, gina)).connect()
    conversation = await direct_conversation(g, hank)
    assert (await g.send(conversation, "before"))["ok"]  # B now holds the connection, connected
    with hank.http() as http:  # ... which hank removes through A
        connection_id = http.get("/api/connections").json()["connections"][0]["id"]
        assert http.delete(f"/api/connections/{connection_id}").status_code == 200
    refused = await g.send(conversation, "after the removal")
    assert refused["ok"] is False and refused["error"]["code"] == "not_connected", refused

    hank.connect_with(gina)  # connected again, through A; B last saw the connection removed
    again = await g.call("start_conversation", {"user_ids": [hank.id]})
    assert again["ok"] and again["conversation"]["id"] == conversation, again
    assert (await g.send(conversation, "connected again"))["ok"]
    await g.disconnect()


async def test_a_member_removed_through_one_process_hears_nothing_more_on_the_other(cluster: Cluster) -> None:
    """Contract section 7: a removed member gets a last conversation_updated, then no events of that
    conversation, whichever process their sockets are on (each process's sockets leave its rooms as
    that process hands the last update to them)."""
    alice, bob, carol = person(cluster.a, "alice"), person(cluster.a, "bob"), person(cluster.b, "carol")
    alice.connect_with(bob)
    alice.connect_with(carol)
    a, b = await Socket(alice).connect(), await Socket(bob).connect()  # on A
    c = await Socket(carol).connect()  # on B
    started = await a.call("start_conversation", {"user_ids": [bob.id, carol.id], "title": "Crew"})
    assert started["ok"], started
    group = started["conversation"]["id"]
    for s in (a, b, c):
        assert (await s.call("join_conversation", {"conversation_id": group}))["ok"]
    removed = await a.call("remove_member", {"conversation_id": group, "user_id": carol.id})
    assert removed["ok"], removed
    await c.next_matching("conversation_updated", lambda u: u["id"] == group and u["left"])
    after = await a.send(group, "after carol left")
    assert after["ok"], after
    await b.next_matching("message_new", lambda m: m["id"] == after["message"]["id"])
    direct = await direct_conversation(a, carol)  # a sentinel on carol's ordered path, after the send
    sentinel = await a.send(direct, "sentinel")
    assert sentinel["ok"], sentinel
    before = await c.arrived_before("conversation_updated", lambda u: u["id"] == direct and u["last_message"])
    assert [u["id"] for u in before if u["id"] == group and not u["left"]] == []
    assert all(m["conversation_id"] != group or m["seq"] < after["message"]["seq"] for m in c.pending("message_new"))
    for s in (a, b, c):
        await s.disconnect()


async def test_a_session_ended_through_one_process_disconnects_its_sockets_on_the_other(cluster: Cluster) -> None:
    alice = person(cluster.a, "alice")
    phone = alice.sign_in()
    on_b, phone_on_b = await Socket(on(cluster.b, alice)).connect(), await Socket(on(cluster.b, phone)).connect()
    with alice.http() as http:
        assert http.post("/api/auth/logout", json={}).status_code == 200  # through process a
    await until(lambda: not on_b.client.connected, "the ended session's socket on process b is disconnected")
    with on(cluster.b, alice).http() as http:
        assert http.get("/api/users/me").status_code == 401
    assert phone_on_b.client.connected  # the other session's socket stays
    assert (await phone_on_b.call("get_conversations"))["ok"] is True
    await phone_on_b.disconnect()


def test_a_refusal_on_a_stale_copy_is_checked_against_the_store(cluster: Cluster) -> None:
    kate, liam = person(cluster.a, "kate"), person(cluster.a, "liam")
    with on(cluster.b, kate).http() as kate_on_b:
        requested = kate_on_b.post("/api/connections", json={"username": liam.username})
        assert requested.status_code == 201  # B holds the connection, pending
        with liam.http() as liam_on_a:
            declined = liam_on_a.post(f"/api/connections/{requested.json()['connection']['id']}/decline")
            assert declined.status_code == 200
        again = kate_on_b.post("/api/connections", json={"username": liam.username})
        assert again.status_code == 201, again.text  # declined, so she may ask again
        assert again.json()["connection"]["status"] == "pending"


async def test_killing_a_server_process_loses_nothing_acknowledged(own_cluster: Cluster) -> None:
    cluster = own_cluster
    ivan, judy = person(cluster.a, "ivan"), person(cluster.b, "judy")
    ivan.connect_with(judy)
    i = await Socket(ivan).connect()  # ivan's only socket: on A, which will be killed
    j = await Socket(judy).connect()  # on B
    assert (await j.next_matching("presence", lambda e: e["user_id"] == ivan.id))["status"] == "online"
    conversation = await direct_conversation(i, judy)
    senders = [i, await Socket(ivan).connect(), j, await Socket(on(cluster.b, judy)).connect()]
    acked: dict[str, int] = {}
    stop = asyncio.Event()

    async def send_until_stopped(s: Socket) -> None:
        while not stop.is_set():
            key = str(uuid.uuid4())
            try:
                ack = await s.call(
                    "send_message", {"conversation_id": conversation, "client_message_id": key, "body": "load"}, 3
                )
            except Exception:  # its server is gone
                return
            if ack.get("ok"):
                acked[key] = ack["message"]["seq"]

    tasks = [asyncio.create_task(send_until_stopped(s)) for s in senders]
    await until(lambda: len(acked) >= 40, "40 sends acknowledged", 30)
    cluster.a.kill()  # SIGKILL: no shutdown; its sockets never say goodbye
    acked_at_kill = len(acked)
    await until(lambda: len(acked) >= acked_at_kill + 20, "B goes on acknowledging sends", 30)
    stop.set()
    await asyncio.gather(*tasks)

    survivor = j  # connected to B throughout
    messages: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await survivor.call("get_messages", {"conversation_id": conversation, "after_seq": after, "limit": 200})
        messages += page["messages"]
        if not page["has_more"]:
            break
        after = messages[-1]["seq"]
    by_key = {m["client_message_id"]: m["seq"] for m in messages}
    assert {key: by_key.get(key) for key in acked} == acked, "an acknowledged message is missing"
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    print(f"\nSIGKILL of one of two servers: {len(acked)} acknowledged messages checked, lost: 0")

    # ivan's sockets died with A: after the presence TTL he is announced offline, by B.
    offline = await j.next_matching(
        "presence", lambda e: e["user_id"] == ivan.id and e["status"] == "offline", timeout=PRESENCE_TTL_SECONDS * 4
    )
    assert offline["status"] == "offline"
    for s in senders[2:]:
        await s.disconnect()


def test_serving_without_projections_needs_redis() -> None:
    env = {"PARLEY_DATABASE_URL": "sqlite:////nonexistent/parley.db", "PARLEY_REDIS_URL": "", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "interfaces.cli", "serve", "--no-projections"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "parley: --no-projections needs PARLEY_REDIS_URL: only through Redis can the process that projects "
        "(`parley projections run`) tell this server's clients what changed"
    ]


def test_a_redis_that_cannot_be_reached_stops_serve_with_one_line(tmp_path: Path) -> None:
    env = {
        "PARLEY_DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}",
        "PARLEY_REDIS_URL": "redis://127.0.0.1:1/0",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-m", "interfaces.cli", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("parley: cannot reach Redis at redis://127.0.0.1:1/0: "), lines
