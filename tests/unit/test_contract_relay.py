"""The contract relay (benchmarks/contract_relay.py), the suite's second ceiling, does a send's socket
work as the contract declares it: its ack carries a Message, `message_new` reaches the room and each
member gets their own `conversation_updated`. Otherwise Parley would be measured against less work."""

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from benchmarks.contract_relay import TEST_SECRET
from infrastructure.tokens import Tokens
from interfaces.contract import ConversationAck, MessageAck, MessagesAck, ReadAck
from projections import shapes
from tests.support.contract import conforms
from tests.support.server import free_port

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module")
def relay_url() -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.contract_relay", "--port", str(port)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "the contract relay exited"
            try:
                if httpx.get(f"{url}/socket.io/?EIO=4&transport=polling", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the contract relay did not start within 30 s"
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Member:
    """A user's socket and what it received."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.token = Tokens(TEST_SECRET, 3600).issue(user_id, uuid.uuid4())  # (the relay reads the subject only)
        self.sio = socketio.AsyncClient()
        self.received: list[tuple[str, Any]] = []
        for event in ("message_new", "conversation_updated", "messages_read"):
            self.sio.on(event, self._keep(event))

    def _keep(self, event: str) -> Any:
        async def handler(data: Any) -> None:
            self.received.append((event, data))

        return handler

    async def connect(self, url: str) -> "Member":
        await self.sio.connect(url, auth={"token": self.token}, transports=["websocket"], wait_timeout=10)
        return self

    async def call(self, event: str, data: dict[str, Any]) -> Any:
        return await self.sio.call(event, data, timeout=10)

    async def first(self, event: str, matches: Any, timeout: float = 10) -> Any:
        """The first `event` received whose payload satisfies `matches`, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, data in self.received:
                if name == event and matches(data):
                    return data
            await asyncio.sleep(0.02)
        raise AssertionError(f"no matching {event} within {timeout} s; received {self.received!r}")


async def test_a_send_is_acked_with_a_message_and_each_member_gets_the_events_the_contract_declares(
    relay_url: str,
) -> None:
    alice = await Member(str(uuid.uuid4())).connect(relay_url)
    bob = await Member(str(uuid.uuid4())).connect(relay_url)
    try:
        started = conforms(ConversationAck, await alice.call("start_conversation", {"user_ids": [bob.user_id]}))
        conversation = started["conversation"]
        assert {m["user"]["id"] for m in conversation["members"]} == {alice.user_id, bob.user_id}
        assert conversation["kind"] == "direct"
        for member in (alice, bob):
            joined = await member.call("join_conversation", {"conversation_id": conversation["id"]})
            conforms(ConversationAck, joined)

        payload = {"conversation_id": conversation["id"], "client_message_id": str(uuid.uuid4()), "body": " hi "}
        ack = conforms(MessageAck, await alice.call("send_message", payload))
        message = ack["message"]
        assert (message["seq"], message["sender_id"], message["body"]) == (1, alice.user_id, "hi")

        for member in (alice, bob):  # the room: both joined
            live = await member.first("message_new", lambda m: m["id"] == message["id"])
            assert conforms(shapes.Message, live) == message
        for member, unread in ((alice, 0), (bob, 1)):  # each member's own summary
            summary = await member.first(
                "conversation_updated", lambda s: (s["last_message"] or {}).get("id") == message["id"]
            )
            conforms(shapes.ConversationSummary, summary)
            assert summary["unread_count"] == unread, summary
            assert summary["last_message_at"] == message["sent_at"]

        again = conforms(MessageAck, await alice.call("send_message", payload))  # a retry: the same message
        assert again["message"] == message
        page = conforms(MessagesAck, await bob.call("get_messages", {"conversation_id": conversation["id"]}))
        assert [m["id"] for m in page["messages"]] == [message["id"]] and not page["has_more"]

        read = conforms(
            ReadAck, await bob.call("mark_as_read", {"conversation_id": conversation["id"], "up_to_seq": 1})
        )
        assert read["unread_count"] == 0
        seen = await alice.first("conversation_updated", lambda s: (s["last_message"] or {}).get("status") == "read")
        conforms(shapes.ConversationSummary, seen)

        refused = await alice.call("send_message", {"conversation_id": "not a uuid", "body": "x"})
        assert refused["ok"] is False and refused["error"]["code"] == "validation_error", refused
    finally:
        await asyncio.gather(alice.sio.disconnect(), bob.sio.disconnect())
