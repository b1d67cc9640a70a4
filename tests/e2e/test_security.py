"""Attacks on authentication and authorisation, and the abuse limits, against a running server."""

import asyncio
import base64
import json
import statistics
import time
import uuid
from collections.abc import Iterator

import httpx
import jwt
import pytest
import socketio

from tests.support.clients import Person, Socket
from tests.support.server import ServerProcess

SECRET = "test-secret-" + "x" * 32  # the secret tests/support/server.py gives the server


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def forged_tokens(user_id: str) -> dict[str, str]:
    now = int(time.time())
    good = jwt.encode({"sub": user_id, "exp": now + 600}, SECRET, algorithm="HS256")
    header, payload, signature = good.split(".")
    other = b64({"sub": str(uuid.uuid4()), "exp": now + 600})
    return {
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "wrong algorithm": jwt.encode({"sub": user_id, "exp": now + 600}, SECRET, algorithm="HS512"),
        "wrong secret": jwt.encode({"sub": user_id, "exp": now + 600}, "not-the-secret" * 3, algorithm="HS256"),
        "tampered payload": f"{header}.{other}.{signature}",
        "missing exp": jwt.encode({"sub": user_id}, SECRET, algorithm="HS256"),
        "past exp": jwt.encode({"sub": user_id, "exp": now - 5}, SECRET, algorithm="HS256"),
        "user that does not exist": jwt.encode({"sub": str(uuid.uuid4()), "exp": now + 600}, SECRET, algorithm="HS256"),
        "not a jwt": "hello",
    }


async def test_forged_and_expired_tokens_are_refused_on_http_and_on_the_handshake(server: ServerProcess) -> None:
    alice = Person(server.url, "alice").register()
    for name, token in forged_tokens(alice.id).items():
        response = httpx.get(f"{server.url}/api/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized", name

        client = socketio.AsyncClient(reconnection=False)
        refusals: list[object] = []
        client.on("connect_error", refusals.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(server.url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
        assert refusals and isinstance(refusals[0], dict) and refusals[0]["code"] == "unauthorized", name
    # and the real token works, both ways
    assert (
        httpx.get(f"{server.url}/api/users/me", headers={"Authorization": f"Bearer {alice.token}"}).status_code == 200
    )
    ok = await Socket(alice).connect()
    await ok.disconnect()


async def test_outsiders_and_non_members_get_the_contract_error_on_every_event_and_endpoint(
    server: ServerProcess,
) -> None:
    alice = Person(server.url, "alice").register()
    bob = Person(server.url, "bob").register()
    eve = Person(server.url, "eve").register()
    alice.connect_with(bob)
    a = await Socket(alice).connect()
    conversation = (await a.call("start_conversation", {"user_ids": [bob.id]}))["conversation"]["id"]
    assert (await a.send(conversation, "private"))["ok"]
    with alice.http() as http:
        connection_id = http.get("/api/connections").json()["connections"][0]["id"]

    e = await Socket(eve).connect()
    ref = {"conversation_id": conversation}
    expectations = {
        "join_conversation": (ref, "not_a_member"),
        "leave_conversation": (ref, "not_a_member"),
        "send_message": ({**ref, "client_message_id": str(uuid.uuid4()), "body": "hi"}, "not_a_member"),
        "typing_start": (ref, "not_a_member"),
        "typing_stop": (ref, "not_a_member"),
        "get_messages": (ref, "not_a_member"),
        "mark_as_delivered": ({**ref, "up_to_seq": 1}, "not_a_member"),
        "mark_as_read": ({**ref, "up_to_seq": 1}, "not_a_member"),
        "start_conversation": ({"user_ids": [alice.id]}, "not_connected"),
    }
    for event, (payload, code) in expectations.items():
        ack = await e.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == code, (event, ack)
    assert (await e.call("get_conversations"))["conversations"] == []

    with eve.http() as http:
        assert http.get(f"/api/conversations/{conversation}/messages").json()["error"]["code"] == "not_a_member"
        for method, path in (("POST", "accept"), ("POST", "decline")):
            response = http.request(method, f"/api/connections/{connection_id}/{path}")
            assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")
        response = http.delete(f"/api/connections/{connection_id}")
        assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")
        assert http.get("/api/connections").json()["connections"] == []
        assert http.get("/api/conversations").json()["conversations"] == []

    endpoints: list[tuple[str, str]] = [
        ("GET", "/api/users/me"),
        ("GET", "/api/users?query=a"),
        ("POST", "/api/connections"),
        ("GET", "/api/connections"),
        ("POST", f"/api/connections/{connection_id}/accept"),
        ("POST", f"/api/connections/{connection_id}/decline"),
        ("DELETE", f"/api/connections/{connection_id}"),
        ("GET", "/api/conversations"),
        ("GET", f"/api/conversations/{conversation}/messages"),
    ]
    for method, path in endpoints:  # without a token
        response = httpx.request(method, server.url + path, json={"username": "bob"})
        assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized"), path
    await a.disconnect()
    await e.disconnect()


def test_sign_in_takes_as_long_for_unknown_users_and_repeated_failures_are_throttled(server: ServerProcess) -> None:
    for name in ("alice", "bob", "carol", "dave"):
        Person(server.url, name).register()

    def timed(username: str) -> float:
        started = time.perf_counter()
        response = httpx.post(f"{server.url}/api/auth/login", json={"username": username, "password": "wrong password"})
        assert response.status_code in (401, 429)
        return time.perf_counter() - started

    known, unknown = [], []
    for i in range(9):  # interleaved, so load on the machine hits both alike
        known.append(timed(["bob", "carol", "dave"][i % 3]))
        unknown.append(timed(f"nobody{i}"))
    # Without the dummy hash an unknown user answers in about 1 ms, a known one after the argon2id check.
    assert statistics.median(unknown) > 0.5 * statistics.median(known), (known, unknown)
    for _ in range(5):
        assert timed("alice") > 0

    throttled = httpx.post(f"{server.url}/api/auth/login", json={"username": "alice", "password": "wrong password"})
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "rate_limited" and throttled.json()["error"]["retry_after_ms"] > 0
    # Even the right password waits now; another user is not affected.
    assert (
        httpx.post(
            f"{server.url}/api/auth/login", json={"username": "alice", "password": "correct horse battery"}
        ).status_code
        == 429
    )
    assert (
        httpx.post(
            f"{server.url}/api/auth/login", json={"username": "bob", "password": "correct horse battery"}
        ).status_code
        == 200
    )


@pytest.fixture
def limited_server(database_url: str) -> Iterator[ServerProcess]:
    process = ServerProcess(database_url, env={"PARLEY_SEND_RATE_PER_SECOND": "2", "PARLEY_SEND_BURST": "5"}).start()
    yield process
    process.stop()


async def test_sends_are_rate_limited_per_user_across_all_their_sockets(limited_server: ServerProcess) -> None:
    alice = Person(limited_server.url, "alice").register()
    bob = Person(limited_server.url, "bob").register()
    alice.connect_with(bob)
    first, second = await Socket(alice).connect(), await Socket(alice).connect()
    conversation = (await first.call("start_conversation", {"user_ids": [bob.id]}))["conversation"]["id"]
    acks = [await (first if n % 2 else second).send(conversation, f"m{n}") for n in range(7)]
    assert [a["ok"] for a in acks] == [True] * 5 + [False] * 2
    refused = acks[-1]["error"]
    assert refused["code"] == "rate_limited" and 0 < refused["retry_after_ms"] <= 500
    await asyncio.sleep(refused["retry_after_ms"] / 1000 + 0.05)
    assert (await first.send(conversation, "after waiting"))["ok"]
    history = await first.call("get_messages", {"conversation_id": conversation})
    assert len(history["messages"]) == 6  # refused sends stored nothing
    bob_socket = await Socket(bob).connect()  # another user has a bucket of their own
    assert (await bob_socket.send(conversation, "hi"))["ok"]
    for s in (first, second, bob_socket):
        await s.disconnect()


def test_connection_requests_are_limited(server: ServerProcess) -> None:
    alice = Person(server.url, "alice").register()
    names = [f"target{i}" for i in range(12)]
    for name in names:
        Person(server.url, name).register()
    with alice.http() as http:
        statuses = [http.post("/api/connections", json={"username": name}).status_code for name in names]
    assert statuses[:10] == [201] * 10
    assert statuses[10:] == [429, 429]


async def test_starting_conversations_is_limited(server: ServerProcess) -> None:
    alice = Person(server.url, "alice").register()
    friends = [Person(server.url, f"friend{i}").register() for i in range(2)]
    for friend in friends:
        alice.connect_with(friend)
    s = await Socket(alice).connect()
    acks = [
        await s.call("start_conversation", {"user_ids": [f.id for f in friends], "title": f"group {n}"})
        for n in range(21)
    ]
    assert all(a["ok"] for a in acks[:20])
    assert acks[20]["error"]["code"] == "rate_limited" and acks[20]["error"]["retry_after_ms"] > 0
    await s.disconnect()
