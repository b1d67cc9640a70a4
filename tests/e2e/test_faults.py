"""Faults under the server: a SIGKILL at load, the database going away, two processes at once.
Nothing acknowledged is lost, nothing is stored twice."""

import asyncio
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg

from tests.support.clients import Person, Socket
from tests.support.databases import postgres_database
from tests.support.log_checks import stored_messages
from tests.support.server import ServerProcess
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import until


async def chat_pair(url: str, a_name: str = "alice", b_name: str = "bob") -> tuple[Person, Person, str]:
    alice = Person(url, a_name).register()
    bob = Person(url, b_name).register()
    alice.connect_with(bob)
    s = await Socket(alice).connect()
    conversation = (await s.call("start_conversation", {"user_ids": [bob.id]}))["conversation"]["id"]
    await s.disconnect()
    return alice, bob, conversation


async def test_sigkill_at_load_loses_no_acknowledged_message_and_retries_make_no_duplicates(
    server: ServerProcess, database_url: str
) -> None:
    alice, bob, conversation = await chat_pair(server.url)
    senders = [await Socket(p).connect() for p in (alice, alice, bob, bob)]
    acked: dict[str, int] = {}
    attempted: list[tuple[Person, str]] = []

    async def send_until_killed(s: Socket) -> None:
        while True:
            key = str(uuid.uuid4())
            attempted.append((s.person, key))
            try:
                ack = await s.call(
                    "send_message",
                    {"conversation_id": conversation, "client_message_id": key, "body": "load"},
                    timeout=3,
                )
            except Exception:
                return
            if ack.get("ok"):
                acked[key] = ack["message"]["seq"]

    tasks = [asyncio.create_task(send_until_killed(s)) for s in senders]
    await asyncio.sleep(1.5)
    server.kill()  # SIGKILL: no shutdown, no flush
    await asyncio.gather(*tasks)
    assert len(acked) > 20
    server.start()

    # Every client retries what it never got an ack for, with the same client_message_id.
    alice_again, bob_again = await Socket(alice).connect(), await Socket(bob).connect()
    again = {alice.id: alice_again, bob.id: bob_again}
    unacked = [(person, key) for person, key in attempted if key not in acked]
    assert unacked
    for person, key in unacked:
        ack = await again[person.id].call(
            "send_message", {"conversation_id": conversation, "client_message_id": key, "body": "load"}
        )
        assert ack["ok"], ack
        acked.setdefault(key, ack["message"]["seq"])
    # A retry of an acknowledged message returns the original.
    some_key = next(iter(acked))
    retry = await alice_again.call(
        "send_message", {"conversation_id": conversation, "client_message_id": some_key, "body": "load"}
    )
    assert retry["message"]["seq"] == acked[some_key]
    await alice_again.disconnect()
    await bob_again.disconnect()
    server.stop()

    stored = stored_messages(database_url, conversation)
    keys = [m["client_message_id"] for m in stored]
    assert len(keys) == len(set(keys)), "a message was stored twice"
    assert set(keys) == set(acked), "an acknowledged message is missing, or an unacknowledged one appeared"
    assert sorted(m["seq"] for m in stored) == list(range(1, len(stored) + 1))
    assert {m["client_message_id"]: m["seq"] for m in stored} == acked
    print(f"\nSIGKILL at load: {len(acked)} messages checked, {len(unacked)} retried, lost: 0, duplicated: 0")


async def test_losing_postgres_fails_fast_and_the_same_process_recovers(tmp_path: Path) -> None:
    with postgres_database() as direct_url:
        proxy = TcpProxy("127.0.0.1", 5432)
        url = direct_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        server = ServerProcess(url).start()
        try:
            alice, bob, conversation = await chat_pair(server.url)
            s = await Socket(alice).connect()
            assert (await s.send(conversation, "before"))["ok"]

            proxy.cut()
            started = time.monotonic()
            failed = await s.send(conversation, "while down")
            elapsed = time.monotonic() - started
            assert failed["ok"] is False and failed["error"]["code"] == "internal", failed
            assert "database is unavailable" in failed["error"]["message"]
            assert "Traceback" not in failed["error"]["message"]
            assert elapsed < 15, f"the send took {elapsed:.1f}s to fail"
            ready = httpx.get(f"{server.url}/readyz", timeout=15)
            assert ready.status_code == 503
            assert httpx.get(f"{server.url}/healthz").status_code == 200

            proxy.restore()
            deadline = time.monotonic() + 30
            while httpx.get(f"{server.url}/readyz", timeout=15).status_code != 200:
                assert time.monotonic() < deadline, "the server did not recover"
                await asyncio.sleep(0.5)
            after = await s.send(conversation, "after")
            assert after["ok"], after
            history = await s.call("get_messages", {"conversation_id": conversation})
            assert [m["body"] for m in history["messages"]] == ["before", "after"]
            assert server.process is not None and server.process.poll() is None  # same process
            await s.disconnect()
        finally:
            server.stop()
            proxy.cut()


async def test_two_server_processes_on_one_database_keep_seqs_gap_free_and_unique() -> None:
    with postgres_database() as url:
        first = ServerProcess(url).start()
        second = ServerProcess(url).start()
        try:
            alice, bob, conversation = await chat_pair(first.url)
            a = await Socket(Person(first.url, "alice", token=alice.token, user=alice.user)).connect()
            b = await Socket(Person(second.url, "bob", token=bob.token, user=bob.user)).connect()

            async def burst(s: Socket) -> list[int]:
                acks = await asyncio.gather(*(s.send(conversation, f"m{n}") for n in range(25)))
                assert all(ack["ok"] for ack in acks), acks
                return [ack["message"]["seq"] for ack in acks]

            seqs = await asyncio.gather(burst(a), burst(b))
            everything = seqs[0] + seqs[1]
            assert sorted(everything) == list(range(1, 51))
            for s in (a, b):  # both processes answer the same history, once each has projected the other's
                # (a user's query waits for their own acknowledged writes; others' arrive as projected)
                mine = {ack_seq for ack_seq in (seqs[0] if s is a else seqs[1])}
                first_read = await s.call("get_messages", {"conversation_id": conversation, "limit": 200})
                assert mine <= {m["seq"] for m in first_read["messages"]}  # read your writes, at once

                async def whole(s: Socket = s) -> bool:
                    history = await s.call("get_messages", {"conversation_id": conversation, "limit": 200})
                    return [m["seq"] for m in history["messages"]] == list(range(1, 51))

                await until(whole, "both processes answer the whole history")
            await a.disconnect()
            await b.disconnect()
        finally:
            first.stop()
            second.stop()


def test_projection_killed_mid_batch_resumes_from_its_position_with_nothing_skipped_or_doubled(
    tmp_path: Path,
) -> None:
    """SIGKILL the projector process in the middle of its batches; the next one resumes and ends equal
    to a rebuild from the events."""
    from infrastructure.settings import Settings
    from interfaces.bootstrap import bootstrap
    from projections.verify import verify
    from tests.support.fakes import PlainPasswords
    from tests.support.workload import run_workload

    url = f"sqlite:///{tmp_path / 'parley.db'}"
    settings = Settings(database_url=url, jwt_secret="t" * 40)
    container = bootstrap(settings, passwords=PlainPasswords())
    run_workload(container.app, users=10, messages=1500)  # written, not yet projected
    head = container.projector.head()
    container.close()

    env = {"PARLEY_DATABASE_URL": url, "PARLEY_JWT_SECRET": "t" * 40, "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "interfaces.cli", "projections", "run", "--batch-size", "20"]

    def project_until(done: Callable[[int], bool]) -> int:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seen = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not done(seen := position_of(tmp_path / "parley.db")):
            time.sleep(0.002)
        process.kill()
        process.wait()
        return seen

    killed_at = project_until(lambda position: 0 < position < head // 2)
    assert 0 < killed_at < head, "the projector was not caught in the middle"
    assert project_until(lambda position: position == head) == head

    container = bootstrap(settings, passwords=PlainPasswords())
    assert verify(container.app, container.db).ok
    container.close()


def position_of(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=0.1) as connection:
            row = connection.execute("SELECT notification_id FROM rm_position").fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0]) if row else 0


def test_postgres_is_reachable() -> None:
    """The suite needs PostgreSQL; when it is down this fails loudly instead of skipping."""
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=5) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
