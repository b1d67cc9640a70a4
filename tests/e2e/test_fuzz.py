"""Property-based attack: random and malformed payloads at every event and endpoint of a running
server. Every one gets a contract error, nothing is stored, and the server stays healthy."""

import asyncio
import json
from typing import Any, get_args
from urllib.parse import urlencode

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from interfaces.contract import ErrorCode
from tests.support.clients import Person, Socket
from tests.support.server import ServerProcess
from tests.support.waiting import until

CONTRACT_CODES = set(get_args(ErrorCode)) - {"internal"}  # every code a refusal may carry: never `internal`
EVENTS = [
    "start_conversation",
    "join_conversation",
    "leave_conversation",
    "send_message",
    "typing_start",
    "typing_stop",
    "get_conversations",
    "get_messages",
    "mark_as_delivered",
    "mark_as_read",
    "edit_message",
    "get_message_edits",
    "delete_message",
    "react",
    "add_members",
    "remove_member",
    "leave_group",
    "rename_conversation",
    "set_member_role",
    "mute_conversation",
]
FIELDS = [
    "conversation_id",
    "user_ids",
    "title",
    "client_message_id",
    "body",
    "limit",
    "before",
    "before_seq",
    "after_seq",
    "up_to_seq",
    "username",
    "password",
    "display_name",
    "query",
    "message_id",
    "reply_to",
    "emoji",
    "add",
    "user_id",
    "role",
    "until",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=50),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=5),
    st.just("00000000-0000-0000-0000-000000000000"),
    st.just("x" * 5000),
    st.uuids().map(str),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
deep = st.integers(20, 300).map(lambda depth: json.loads("[" * depth + "]" * depth))
payloads = st.one_of(
    json_values,
    deep,
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5),
    st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), scalars, max_size=6),
)


def is_contract_error(ack: Any) -> bool:
    return (
        isinstance(ack, dict)
        and ack.get("ok") is False
        and isinstance(ack.get("error"), dict)
        and ack["error"].get("code") in CONTRACT_CODES
        and isinstance(ack["error"].get("message"), str)
        and "Traceback" not in ack["error"]["message"]
    )


def head(server: ServerProcess) -> int:
    return httpx.get(f"{server.url}/readyz", timeout=10).json()["head"]


async def test_random_socket_payloads_get_contract_errors_and_store_nothing(server: ServerProcess) -> None:
    mallory = Person(server.url, "mallory").register()
    friend = Person(server.url, "friend").register()
    mallory.connect_with(friend)
    socket = await Socket(mallory).connect()
    conversation = (await socket.call("start_conversation", {"user_ids": [friend.id]}))["conversation"]["id"]
    ids = st.sampled_from([conversation, friend.id, mallory.id]) | st.uuids().map(str)
    aimed = st.fixed_dictionaries(
        {"conversation_id": ids},
        optional={
            "body": scalars,
            "client_message_id": ids | scalars,
            "up_to_seq": scalars,
            "limit": scalars,
            "before_seq": scalars,
            "after_seq": scalars,
            "user_ids": st.lists(ids | scalars, max_size=3),
            "user_id": ids | scalars,
            "role": st.sampled_from(["admin", "member", "owner"]) | scalars,
            "title": scalars,
            "message_id": ids | scalars,
            "reply_to": ids | scalars,
            "emoji": scalars | st.sampled_from(["👍", "👍🏽", "❤", "a"]),
            "add": scalars,
            "extra": scalars,
        },
    )
    seen: list[str] = []

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(event=st.sampled_from(EVENTS), payload=payloads | aimed)
    # (besides what is drawn, every run tries at least these: a conversation that does not exist, and
    # a payload of the wrong shape, so both codes below are always exercised)
    @example(event="get_messages", payload={"conversation_id": "00000000-0000-4000-8000-000000000000"})
    @example(event="join_conversation", payload={"conversation_id": "00000000-0000-4000-8000-000000000001"})
    @example(event="send_message", payload={"conversation_id": 7})
    def attack(event: str, payload: Any) -> None:
        before = head(server)
        ack = asyncio.run_coroutine_threadsafe(socket.call(event, payload), loop).result(timeout=15)
        if isinstance(ack, dict) and ack.get("ok") is True:
            return  # a lucky valid payload: a fine answer
        assert is_contract_error(ack), (event, payload, ack)
        assert head(server) == before, ("a refused payload stored an event", event, payload)
        seen.append(ack["error"]["code"])

    loop = asyncio.get_running_loop()
    await asyncio.to_thread(attack)
    assert {"validation_error", "not_found"} <= set(seen)
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    await socket.disconnect()


def test_random_http_bodies_get_contract_errors_and_store_nothing(server: ServerProcess) -> None:
    person = Person(server.url, "mallory").register()
    before = head(server)
    endpoints = [
        ("POST", "/api/auth/register", False),
        ("POST", "/api/auth/login", False),
        ("POST", "/api/connections", True),
        ("POST", "/api/connections/00000000-0000-0000-0000-000000000000/accept", True),
        ("GET", "/api/users", True),
        ("GET", "/api/conversations", True),
    ]

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(endpoint=st.sampled_from(endpoints), payload=payloads, raw=st.binary(max_size=64) | st.none())
    def attack(endpoint: tuple[str, str, bool], payload: Any, raw: bytes | None) -> None:
        method, path, authenticated = endpoint
        headers = {"Authorization": f"Bearer {person.token}"} if authenticated else {}
        if method == "GET":
            params = {k: str(v)[:100] for k, v in payload.items()} if isinstance(payload, dict) else {"query": ""}
            query = urlencode(params, encoding="utf-8", errors="surrogatepass")  # broken UTF-8 on purpose
            response = httpx.get(f"{server.url}{path}?{query}", headers=headers, timeout=15)
        else:
            content = raw if raw is not None else json.dumps(payload).encode("utf-8", "surrogatepass")
            response = httpx.request(method, server.url + path, content=content, headers=headers, timeout=15)
        if response.status_code == 200 and method == "GET":
            return
        body = response.json()
        assert response.status_code in (401, 403, 404, 409, 422, 429), (path, payload, response.text)
        assert body["error"]["code"] in CONTRACT_CODES and isinstance(body["error"]["message"], str)

    attack()
    assert head(server) == before, "a malformed request stored an event"
    assert httpx.get(f"{server.url}/healthz").status_code == 200


async def test_oversized_frames_and_bodies_are_refused_before_parsing(server: ServerProcess) -> None:
    person = Person(server.url, "mallory").register()
    before = head(server)
    socket = await Socket(person).connect()
    huge = {"conversation_id": person.id, "client_message_id": person.id, "body": "x" * 400_000}
    try:
        await socket.call("send_message", huge, timeout=5)
    except Exception:
        pass
    await until(lambda: not socket.client.connected, "a frame over 256 KiB must close the socket")
    response = httpx.post(
        f"{server.url}/api/auth/register", content=b'{"username": "' + b"a" * 100_000 + b'"}', timeout=10
    )
    assert response.status_code == 422 and "larger than 64 KiB" in response.json()["error"]["message"]
    assert head(server) == before
    again = await Socket(person).connect()  # the server is fine
    assert (await again.call("get_conversations"))["ok"] is True
    await again.disconnect()
