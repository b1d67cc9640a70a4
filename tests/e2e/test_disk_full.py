"""The disk under the SQLite store fills up (a small tmpfs of the test's own, filled to the last byte
while people chat): every send is answered at once with a clear `internal` error, reads keep working,
nothing is corrupted, and once space is freed the same process stores, projects and broadcasts again
by itself, with every acknowledged message stored exactly once.

What SQLite does (checked): a write that finds no room fails with SQLITE_FULL, "database or disk is
full", at a statement (a page spilled from the cache) or at the COMMIT (the WAL cannot grow); at a
COMMIT SQLite rolls the whole transaction back itself, so no pooled connection stays inside one. The
event store reports it as eventsourcing's OperationalError; the projector's batch, written through
infrastructure/sql.py, rolls back and is retried with a backoff until there is room.
"""

import asyncio
import inspect
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.clients import Person, Socket
from tests.support.log_checks import assert_acknowledged_exactly_once, assert_projections_verify
from tests.support.server import ServerProcess
from tests.support.small_disk import fill, free_bytes, release, small_tmpfs

FAILURE_ACK_SECONDS = 5.0  # a refused send or request is answered within this, never left waiting
# A send stored while the projector finds no room waits for its read model (read your writes, 5 s),
# then is answered anyway.
STORED_ACK_SECONDS = 5.0 + 3.0
FULL = "storage is full"  # what the error says: the server could not store it, and why
PAGE = 4096  # space comes back this much at a time, to find the moment a commit just fits


@dataclass
class Sender:
    """One socket sending one message after another, keeping every key it tried and every answer."""

    socket: Socket
    conversation: str
    acked: dict[str, int]  # client_message_id: seq, shared by all senders
    attempted: list[tuple[Socket, str]]
    refusals: list[dict[str, Any]] = field(default_factory=list)
    slowest: dict[str, float] = field(default_factory=lambda: {"ok": 0.0, "refused": 0.0})

    async def send(self, body: str, key: str | None = None) -> dict[str, Any]:
        key = key or str(uuid.uuid4())
        self.attempted.append((self.socket, key))
        started = time.monotonic()
        ack = await self.socket.call(
            "send_message", {"conversation_id": self.conversation, "client_message_id": key, "body": body}, timeout=20
        )
        elapsed = time.monotonic() - started
        kind = "ok" if ack["ok"] else "refused"
        self.slowest[kind] = max(self.slowest[kind], elapsed)
        if ack["ok"]:
            self.acked.setdefault(key, ack["message"]["seq"])
        else:
            self.refusals.append(ack["error"])
        return ack

    async def keep_sending(self, stop: asyncio.Event) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            await self.send(f"{self.socket.person.username} {number}")
            await asyncio.sleep(0.02)  # pacing: a refusal takes a millisecond

    def check_answers(self) -> None:
        for error in self.refusals:
            assert error["code"] == "internal", error
            assert FULL in error["message"] and "Traceback" not in error["message"], error
        assert self.slowest["refused"] < FAILURE_ACK_SECONDS, self.slowest
        assert self.slowest["ok"] < STORED_ACK_SECONDS, self.slowest


async def test_a_full_disk_refuses_writes_clearly_and_the_same_process_resumes_once_space_is_freed(
    tmp_path: Path,
) -> None:
    with small_tmpfs(tmp_path / "disk", size="8m") as disk:
        url = f"sqlite:///{disk / 'parley.db'}"
        server = ServerProcess(url)
        try:
            server.start()
            chat = await Chat.open(server, disk)
            await chat.fill_the_disk_while_chatting()
            await chat.check_while_full()
            await chat.store_a_message_with_no_room_to_project_it()
            resumed_after = await chat.free_space_and_check_recovery()
            await chat.close()
        finally:
            server.stop()
        assert "database or disk is full" in server.log_path.read_text(errors="replace"), "the log does not say why"
        with closing(sqlite3.connect(disk / "parley.db")) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = assert_acknowledged_exactly_once(url, chat.conversation, chat.acked)
        assert_projections_verify(url)
    refusals = sum(len(sender.refusals) for sender in chat.senders)
    slowest = {kind: max(sender.slowest[kind] for sender in chat.senders) for kind in ("ok", "refused")}
    print(
        f"\ndisk full: {refusals} sends refused (slowest refusal {slowest['refused']:.2f}s, slowest stored send "
        f"{slowest['ok']:.2f}s); sending resumed {resumed_after:.1f}s after space was freed; {stored} messages "
        "stored, each acknowledged one once, seqs gap-free"
    )


async def test_a_send_refused_for_a_full_disk_was_not_stored_even_when_its_snapshot_was_due(tmp_path: Path) -> None:
    """The 499th message of a conversation brings it to version 500, where the application takes a
    snapshot after storing the events. With room for the events but none for the snapshot, the send
    is stored: its sender must not be told "nothing was stored" (a snapshot only speeds up loads)."""
    snapshot_interval = 500  # Parley.snapshotting_intervals[Conversation]
    with small_tmpfs(tmp_path / "disk", size="8m") as disk:
        url = f"sqlite:///{disk / 'parley.db'}"
        server = ServerProcess(url)
        try:
            server.start()
            chat = await Chat.open(server, disk)
            sender = chat.senders[0]
            for start in range(0, snapshot_interval - 2, 50):  # in bursts a busy server takes whole (no push-back)
                burst = await asyncio.gather(*(sender.send(f"m{n}") for n in range(start, min(start + 50, 498))))
                assert all(ack["ok"] for ack in burst), [a for a in burst if not a["ok"]][:1]
            # (the conversation is at version 499)
            # (That many writes pass SQLite's automatic checkpoint, at 1000 pages of WAL.)
            await empty_the_wal(disk / "parley.db")
            await asyncio.to_thread(fill, disk / "filler")
            for _ in range(64):  # space comes back a page at a time until the 499th message is stored
                release(disk / "filler", PAGE)
                if (await sender.send("x" * 2000))["ok"]:
                    break
            assert len(chat.acked) == snapshot_interval - 1, "no send was stored as space came back"
            assert sender.refusals, "the disk was never full"
            sender.check_answers()
            await chat.close()
        finally:
            server.stop()
        # Exactly the acknowledged messages are stored: a send refused as "nothing was stored" was not.
        stored = assert_acknowledged_exactly_once(url, chat.conversation, chat.acked)
        assert stored == len(chat.acked), f"{stored - len(chat.acked)} refused sends were stored anyway"


@dataclass
class Chat:
    """Alice and Bob chatting on a server whose database lives on `disk`; a third socket of Bob's
    watches the conversation's message_new events."""

    server: ServerProcess
    disk: Path
    alice: Person
    conversation: str
    senders: list[Sender]
    watcher: Socket
    acked: dict[str, int]
    attempted: list[tuple[Socket, str]]
    delivered: list[dict[str, Any]] = field(default_factory=list)  # the watcher's message_new, in order

    @classmethod
    async def open(cls, server: ServerProcess, disk: Path) -> "Chat":
        alice, bob = Person(server.url, "alice").register(), Person(server.url, "bob").register()
        Person(server.url, "carol").register()
        alice.connect_with(bob)
        a, b, watcher = [await Socket(p).connect() for p in (alice, bob, bob)]
        conversation = (await a.call("start_conversation", {"user_ids": [bob.id]}))["conversation"]["id"]
        assert (await watcher.call("join_conversation", {"conversation_id": conversation}))["ok"]
        acked: dict[str, int] = {}
        attempted: list[tuple[Socket, str]] = []
        senders = [Sender(s, conversation, acked, attempted) for s in (a, b)]
        return cls(server, disk, alice, conversation, senders, watcher, acked, attempted)

    async def fill_the_disk_while_chatting(self) -> None:
        for number in range(5):
            assert (await self.senders[0].send(f"before {number}"))["ok"]
        await empty_the_wal(self.disk / "parley.db")  # what came before leaves no room in it to reuse
        stop = asyncio.Event()
        traffic = [asyncio.create_task(sender.keep_sending(stop)) for sender in self.senders]
        await until(lambda: len(self.acked) >= 25, 20, "the senders did not get going")
        await asyncio.to_thread(fill, self.disk / "filler")
        assert free_bytes(self.disk) == 0
        refused_before = [len(sender.refusals) for sender in self.senders]
        await until(
            lambda: all(len(s.refusals) >= n + 3 for s, n in zip(self.senders, refused_before, strict=True)),
            30,
            "sends were not refused once the disk was full",
        )
        stop.set()
        await asyncio.gather(*traffic)

    async def check_while_full(self) -> None:
        """Each send is refused at once, saying why; so are other writes (a sign-in too: it stores its
        session); reads and the sessions already signed in work."""
        a = self.senders[0]
        for number in range(5):
            assert (await a.send(f"while full {number}"))["ok"] is False
        for sender in self.senders:
            sender.check_answers()
        history = await a.socket.call("get_messages", {"conversation_id": self.conversation})
        assert history["ok"] and [m["body"] for m in history["messages"][:5]] == [f"before {n}" for n in range(5)]
        bob = self.senders[1].socket.person
        assert (await http_get(self.server.url, "/api/users/me", bob.token))[0] == 200
        for path, payload, token in [
            ("/api/auth/login", {"username": "bob", "password": bob.password}, ""),
            ("/api/auth/register", {"username": "dave", "password": "correct horse battery"}, ""),
            ("/api/connections", {"username": "carol"}, self.alice.token),
        ]:
            started = time.monotonic()
            status, body = await http_post(self.server.url, path, payload, token)
            assert time.monotonic() - started < FAILURE_ACK_SECONDS, path
            assert status in (500, 503) and body["error"]["code"] == "internal", (path, body)
            assert FULL in body["error"]["message"], (path, body)
        started = time.monotonic()
        assert not await ready(self.server.url), "/readyz said ready with no room left to write"
        assert time.monotonic() - started < FAILURE_ACK_SECONDS
        assert self.server.process is not None and self.server.process.poll() is None, "the server died"

    async def store_a_message_with_no_room_to_project_it(self) -> None:
        """Room for a message in the log but none for the read models: the send is stored and answered
        (after the bounded read-your-writes wait); the projector keeps failing, and /readyz says so."""
        a = self.senders[0]
        for _ in range(64):
            release(self.disk / "filler", PAGE)
            if (stored := await a.send("stored, not yet projected"))["ok"]:
                break
        assert stored["ok"], "no send was stored as space came back a page at a time"
        a.check_answers()
        assert not await ready(self.server.url), "/readyz was 200 while the projector had no room to write"

    async def free_space_and_check_recovery(self) -> float:
        """Space is freed: the same process stores, projects and broadcasts again by itself. Returns
        how long after the freeing sends were stored again."""
        assert self.server.process is not None
        pid = self.server.process.pid
        (self.disk / "filler").unlink()
        freed_at = time.monotonic()
        while not (after := await self.senders[0].send("after"))["ok"]:
            assert time.monotonic() - freed_at < 15, f"sends did not resume once space was freed: {after}"
            await asyncio.sleep(0.2)
        resumed_after = time.monotonic() - freed_at
        await until(lambda: ready(self.server.url), 20, "/readyz did not come back to 200: the projector is stuck")
        await until(
            lambda: any(m["id"] == after["message"]["id"] for m in self.drain()),
            15,
            "message_new was not delivered again once space was freed",
        )
        burst = await asyncio.gather(*(self.senders[1].send(f"burst {n}") for n in range(20)))  # group commit
        assert all(ack["ok"] for ack in burst), burst
        for socket, key in [(s, k) for s, k in self.attempted if k not in self.acked]:  # clients retry
            again = await socket.call(
                "send_message", {"conversation_id": self.conversation, "client_message_id": key, "body": "retried"}
            )
            assert again["ok"], again
            self.acked.setdefault(key, again["message"]["seq"])
        status, body = await http_post(self.server.url, "/api/connections", {"username": "carol"}, self.alice.token)
        assert status == 201, body
        Person(self.server.url, "dave").register()
        # The watcher saw every stored message once, in seq order: the projector skipped and doubled nothing.
        highest = max(self.acked.values())
        await until(lambda: len(self.drain()) >= highest, 15, "message_new did not catch up")
        assert [m["seq"] for m in self.delivered] == list(range(1, highest + 1))
        assert self.server.process.poll() is None and self.server.process.pid == pid, "not the same process"
        return resumed_after

    def drain(self) -> list[dict[str, Any]]:
        self.delivered.extend(self.watcher.pending("message_new"))
        return self.delivered

    async def close(self) -> None:
        for socket in {id(s.socket): s.socket for s in self.senders}.values():
            await socket.disconnect()
        await self.watcher.disconnect()


async def empty_the_wal(database: Path) -> None:
    """Checkpoint the database and truncate its WAL to nothing. After a checkpoint SQLite reuses the
    WAL from its start, so commits need no new space until they pass the WAL's old size: a test that
    fills the disk empties it first, so that from then on every commit needs room of its own."""
    await until(
        lambda: asyncio.to_thread(_truncate_wal, database),
        20,
        "the WAL could not be checkpointed (a reader or writer kept it busy)",
    )


def _truncate_wal(database: Path) -> bool:
    with closing(sqlite3.connect(database, timeout=5)) as connection:
        return connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0  # 1: busy


async def until(condition: Callable[[], bool | Awaitable[bool]], seconds: float, failure: str) -> None:
    """Poll `condition` until it holds; fail with `failure` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await _value(condition()):
        assert time.monotonic() < deadline, failure
        await asyncio.sleep(0.1)


async def _value(result: bool | Awaitable[bool]) -> bool:
    return await result if inspect.isawaitable(result) else result


async def ready(url: str) -> bool:
    async with httpx.AsyncClient(timeout=10) as http:
        return (await http.get(f"{url}/readyz")).status_code == 200


async def http_post(url: str, path: str, body: dict[str, Any], token: str = "") -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(f"{url}{path}", json=body, headers=headers)
    return response.status_code, response.json()


async def http_get(url: str, path: str, token: str) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"{url}{path}", headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json()
