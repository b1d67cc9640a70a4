"""Socket.IO against the wire contract (section 2 of the protocol), with python-socketio clients on a real server."""

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
import socketio

from tests.support.clients import Person, Socket
from tests.support.contract import (
    Api,
    assert_message,
    assert_summary,
    bad_tokens,
    direct_conversation,
    send_ok,
    session_of,
)
from tests.support.server import ServerProcess

NO_PAYLOAD = object()


def refused_code(data: Any) -> Any:
    """The `code` a refused handshake reports to the client's `connect_error` handler.

    python-socketio hands the handler the CONNECT_ERROR packet's data, {"message", "data"}; socket.io-client
    (JavaScript) shows the same as `err.message` and `err.data`, and the contract's {code, message} is that `data`.
    """
    assert isinstance(data, dict), data
    assert isinstance(data.get("message"), str) and data["message"], data
    details = data.get("data")
    assert isinstance(details, dict), f"connect_error carries no data object: {data}"
    assert isinstance(details.get("message"), str) and details["message"], data
    return details.get("code")


async def connect_refused(url: str, **connect: Any) -> Any:
    """Connect and expect a refusal: returns what the `connect_error` handler received."""
    client = socketio.AsyncClient(reconnection=False)
    received: list[Any] = []

    @client.on("connect_error")
    async def on_connect_error(data: Any = None) -> None:
        received.append(data)

    connect.setdefault("transports", ["websocket"])
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(url, wait_timeout=5, **connect)
    finally:
        if client.connected:
            await client.disconnect()
    assert len(received) == 1, f"connect_error handler got {received}"
    return received[0]


async def connect_raw(url: str, **connect: Any) -> tuple[socketio.AsyncClient, asyncio.Queue[Any]]:
    """An accepted connection without the Socket helper's `auth`; records connection_updated."""
    client = socketio.AsyncClient(reconnection=False)
    updates: asyncio.Queue[Any] = asyncio.Queue()
    client.on("connection_updated", updates.put)
    connect.setdefault("transports", ["websocket"])
    await client.connect(url, wait_timeout=5, **connect)
    return client, updates


class Polling:
    """A Socket.IO session over Engine.IO v4 long-polling, spoken directly over HTTP.

    (python-socketio's client waits for its pending long-poll, up to the ping interval, whenever it
    disconnects a polling transport; speaking the protocol directly keeps these tests fast.)
    """

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=10)
        self.params: dict[str, str] = {"EIO": "4", "transport": "polling"}

    async def open(self, auth: Any = None) -> list[str]:
        """Engine.IO open, Socket.IO CONNECT; returns the packets the server answered with."""
        opened = await self.http.get("/socket.io/", params=self.params)
        assert opened.status_code == 200 and opened.text.startswith("0"), opened.text
        self.params["sid"] = json.loads(opened.text[1:])["sid"]
        await self.post("40" + (json.dumps(auth) if auth is not None else ""))
        return await self.receive()

    async def post(self, packet: str) -> None:
        response = await self.http.post("/socket.io/", params=self.params, content=packet)
        assert response.status_code == 200, response.text

    async def receive(self) -> list[str]:
        response = await self.http.get("/socket.io/", params=self.params)
        assert response.status_code == 200, response.text
        return response.text.split("\x1e")

    async def call(self, event: str, payload: Any, ack_id: int) -> Any:
        await self.post(f"42{ack_id}" + json.dumps([event, payload]))
        for _ in range(10):
            for packet in await self.receive():
                if packet.startswith(f"43{ack_id}["):
                    return json.loads(packet[len(f"43{ack_id}") :])[0]
        raise AssertionError(f"no acknowledgement of {event}")

    async def next_event(self, event: str) -> Any:
        for _ in range(10):
            for packet in await self.receive():
                if packet.startswith("42["):
                    name, *args = json.loads(packet[2:])
                    if name == event:
                        return args[0]
        raise AssertionError(f"no {event} event")

    async def close(self) -> None:
        if "sid" in self.params:
            try:
                await self.post("1")
            except (AssertionError, httpx.HTTPError):
                pass
        await self.http.aclose()


async def polling_refused(base_url: str, auth: Any) -> Any:
    """A CONNECT over polling that must be refused: returns the CONNECT_ERROR packet's data."""
    session = Polling(base_url)
    try:
        packets = await session.open(auth)
    finally:
        await session.close()
    assert packets and packets[0].startswith("44"), f"expected a CONNECT_ERROR packet, got {packets}"
    return json.loads(packets[0][2:])


def is_error(ack: Any, code: str) -> bool:
    return (
        isinstance(ack, dict)
        and ack.get("ok") is False
        and isinstance(ack.get("error"), dict)
        and ack["error"].get("code") == code
        and isinstance(ack["error"].get("message"), str)
        and bool(ack["error"]["message"])
    )


def assert_error(ack: Any, code: str) -> None:
    assert is_error(ack, code), f"expected an ack with error {code}, got {ack}"


async def joined(*sockets: Socket, conversation_id: str) -> None:
    for s in sockets:
        ack = await s.call("join_conversation", {"conversation_id": conversation_id})
        assert ack["ok"] is True, ack
        assert_summary(ack["conversation"])
        assert ack["conversation"]["id"] == conversation_id


async def disconnect(*sockets: Socket) -> None:
    for s in sockets:
        if s.client.connected:
            await s.disconnect()


# -- handshake ------------------------------------------------------------------------------------
async def test_handshake_refuses_missing_malformed_forged_and_expired_tokens_as_unauthorized(
    server: ServerProcess,
) -> None:
    alice = Person(server.url, "alice").register()
    refusals: dict[str, Any] = {
        "no auth at all": await connect_refused(server.url),
        "auth without a token": await connect_refused(server.url, auth={}),
        "empty token": await connect_refused(server.url, auth={"token": ""}),
        "token not a string": await connect_refused(server.url, auth={"token": 12345}),
        "polling transport, garbage token": await polling_refused(server.url, {"token": "garbage"}),
        "polling transport, no auth": await polling_refused(server.url, None),
        "header with a bad token": await connect_refused(server.url, headers={"Authorization": "Bearer garbage"}),
        "query with a bad token": await connect_refused(server.url + "?token=garbage"),
    }
    for case, token in bad_tokens(server, alice.id, session_of(alice.token)).items():
        refusals[case] = await connect_refused(server.url, auth={"token": token})
    codes = {case: refused_code(data) for case, data in refusals.items()}
    assert codes == {case: "unauthorized" for case in refusals}

    # The same user with the real token is accepted.
    accepted = await Socket(alice).connect()
    assert accepted.client.connected
    assert (await accepted.call("get_conversations"))["ok"] is True
    await accepted.disconnect()


async def test_handshake_accepts_the_token_from_auth_header_or_query_over_websocket_and_polling(
    server: ServerProcess,
) -> None:
    alice = Person(server.url, "alice").register()
    bob = Person(server.url, "bob").register()
    clients = {
        "auth, websocket": await connect_raw(server.url, auth={"token": alice.token}),
        "Authorization header": await connect_raw(server.url, headers={"Authorization": f"Bearer {alice.token}"}),
        "token query parameter": await connect_raw(f"{server.url}?token={alice.token}"),
    }
    polling = Polling(server.url)
    try:
        packets = await polling.open({"token": alice.token})
        assert packets[0].startswith("40"), f"polling handshake refused: {packets}"
        ack = await polling.call("get_conversations", {}, ack_id=1)
        assert ack == {"ok": True, "conversations": [], "next_cursor": None}, ack
        for case, (client, _) in clients.items():
            assert client.connected, case
            ack = await client.call("get_conversations", {}, timeout=10)
            assert ack == {"ok": True, "conversations": [], "next_cursor": None}, (case, ack)
        # Each socket is in alice's user room: all of them hear of bob's request to her.
        with bob.http() as http:
            response = http.post("/api/connections", json={"username": "alice"})
            assert response.status_code == 201, response.text
        for case, (_, updates) in clients.items():
            update = await asyncio.wait_for(updates.get(), 5)
            assert update["id"] == response.json()["connection"]["id"], case
            assert update["addressee"]["id"] == alice.id and update["status"] == "pending", case
        update = await polling.next_event("connection_updated")
        assert update["id"] == response.json()["connection"]["id"], "polling"
    finally:
        await polling.close()
        for client, _ in clients.values():
            await client.disconnect()


# -- payload validation ---------------------------------------------------------------------------
async def test_every_event_answers_a_malformed_payload_with_validation_error(server: ServerProcess) -> None:
    alice = Person(server.url, "alice").register()
    bob = Person(server.url, "bob").register()
    alice.connect_with(bob)
    a = await Socket(alice).connect()
    try:
        conversation = await direct_conversation(a, bob)
        first = await send_ok(a, conversation, "first")
        about = {"conversation_id": conversation, "message_id": first["id"]}
        valid: dict[str, dict[str, Any]] = {
            "start_conversation": {"user_ids": [bob.id]},
            "join_conversation": {"conversation_id": conversation},
            "leave_conversation": {"conversation_id": conversation},
            "send_message": {"conversation_id": conversation, "client_message_id": str(uuid.uuid4()), "body": "hi"},
            "typing_start": {"conversation_id": conversation},
            "typing_stop": {"conversation_id": conversation},
            "get_conversations": {"limit": 10},
            "get_messages": {"conversation_id": conversation},
            "mark_as_delivered": {"conversation_id": conversation, "up_to_seq": 1},
            "mark_as_read": {"conversation_id": conversation, "up_to_seq": 1},
            "edit_message": {**about, "body": "edited"},
            "get_message_edits": about,
            "delete_message": about,
            "react": {**about, "emoji": "👍", "add": True},
        }
        cases: list[tuple[str, Any]] = []
        for event, payload in valid.items():
            cases += [(event, "a string"), (event, ["a", "list"]), (event, 42), (event, True)]
            cases.append((event, {**payload, "unexpected": 1}))
            if event != "get_conversations":
                cases.append((event, NO_PAYLOAD))
                cases.append((event, {}))
            for field in payload:
                if event != "get_conversations":
                    cases.append((event, {k: v for k, v in payload.items() if k != field}))
            if "conversation_id" in payload:
                for bad_id in ("not-a-uuid", "", 123, None, [conversation], conversation[:-1]):
                    cases.append((event, {**payload, "conversation_id": bad_id}))
            if "up_to_seq" in payload:
                for bad_seq in ("1", True, -1, 1.5, None):
                    cases.append((event, {**payload, "up_to_seq": bad_seq}))
        start, send, messages, listing = (
            valid["start_conversation"],
            valid["send_message"],
            valid["get_messages"],
            valid["get_conversations"],
        )
        for value in (bob.id, [], ["not-a-uuid"], [123], None):
            cases.append(("start_conversation", {**start, "user_ids": value}))
        cases += [("start_conversation", {**start, "title": value}) for value in (5, ["title"], {"t": 1})]
        cases += [("send_message", {**send, "client_message_id": value}) for value in ("not-a-uuid", 5, None)]
        cases += [("send_message", {**send, "body": value}) for value in (5, None, ["hi"], {"text": "hi"})]
        cases += [("send_message", {**send, "reply_to": value}) for value in ("not-a-uuid", 5, [first["id"]])]
        for event in ("edit_message", "get_message_edits", "delete_message", "react"):
            cases += [(event, {**valid[event], "message_id": value}) for value in ("not-a-uuid", 5, None)]
        cases += [("edit_message", {**valid["edit_message"], "body": value}) for value in (5, None, ["x"])]
        cases += [("react", {**valid["react"], "add": value}) for value in (1, "true", None)]
        cases += [("react", {**valid["react"], "emoji": value}) for value in (5, None, "a", "👍👍", "❤")]
        for field in ("before_seq", "after_seq"):
            cases += [("get_messages", {**messages, field: value}) for value in ("5", True, -1, 1.5, [1])]
        cases += [("get_messages", {**messages, "limit": value}) for value in (True, "10", 0, 201, 2.5)]
        cases += [("get_conversations", {**listing, "limit": value}) for value in (True, "10", 0, 101, 2.5)]
        cases += [("get_conversations", {"before": value}) for value in (5, ["x"], "garbage-cursor")]

        mismatches = []
        for event, payload in cases:
            try:
                if payload is NO_PAYLOAD:
                    ack = await a.client.call(event, timeout=5)
                else:
                    ack = await a.client.call(event, payload, timeout=5)
            except socketio.exceptions.TimeoutError:
                ack = "no acknowledgement within 5 s"
            if not is_error(ack, "validation_error"):
                shown = "(no payload)" if payload is NO_PAYLOAD else payload
                mismatches.append(f"{event} {shown!r} -> {ack!r}")
        summary = f"{len(mismatches)} of {len(cases)} malformed payloads not refused with validation_error:\n"
        assert mismatches == [], summary + "\n".join(mismatches)

        # Nothing was changed by the refused calls, and the socket still works.
        assert a.client.connected
        history = await a.call("get_messages", {"conversation_id": conversation})
        assert [(m["body"], m["deleted"], m["edited_at"], m["reactions"]) for m in history["messages"]] == [
            ("first", False, None, [])
        ], history
        # get_conversations: every field optional, so no payload at all means {}.
        for ack in (await a.call("get_conversations"), await a.call("get_conversations", {})):
            assert ack["ok"] is True and ack["next_cursor"] is None, ack
            assert [assert_summary(c)["id"] for c in ack["conversations"]] == [conversation]
        # An event the server does not know still gets an acknowledgement, with ok false.
        for ack in (await a.call("no_such_event", {}, timeout=5), await a.call("no_such_event", timeout=5)):
            assert isinstance(ack, dict) and ack.get("ok") is False, ack
            assert isinstance(ack["error"]["code"], str) and isinstance(ack["error"]["message"], str), ack
    finally:
        await a.disconnect()


# -- start_conversation ---------------------------------------------------------------------------
async def test_start_conversation_direct_is_unique_per_pair_group_has_a_title_and_errors_are_ordered(
    server: ServerProcess,
) -> None:
    alice, bob, carol, dave, erin = (
        Person(server.url, n, display_name=n.title()).register() for n in ("alice", "bob", "carol", "dave", "erin")
    )
    alice.connect_with(bob)
    alice.connect_with(carol)
    with alice.http() as http:  # erin's request stays pending
        assert http.post("/api/connections", json={"username": "erin"}).status_code == 201
    a, b = await Socket(alice).connect(), await Socket(bob).connect()
    try:
        started = await a.call("start_conversation", {"user_ids": [bob.id]})
        assert started["ok"] is True, started
        direct = assert_summary(started["conversation"])
        assert direct["kind"] == "direct" and direct["title"] is None
        assert direct["last_message"] is None and direct["last_message_at"] is None and direct["unread_count"] == 0
        assert sorted(m["user"]["id"] for m in direct["members"]) == sorted([alice.id, bob.id])
        assert all(m["last_read_seq"] == 0 and m["last_delivered_seq"] == 0 for m in direct["members"])
        assert {m["user"]["id"]: m["online"] for m in direct["members"]} == {alice.id: True, bob.id: True}
        # Bob hears of it on his user room without joining anything.
        assert (await b.next_matching("conversation_updated", lambda s: s["id"] == direct["id"]))["kind"] == "direct"

        # Never two direct conversations for a pair, whoever starts it.
        again = await a.call("start_conversation", {"user_ids": [bob.id]})
        assert again["ok"] is True and again["conversation"]["id"] == direct["id"], again
        reverse = await b.call("start_conversation", {"user_ids": [alice.id]})
        assert reverse["ok"] is True and reverse["conversation"]["id"] == direct["id"], reverse
        assert_summary(reverse["conversation"])

        group = await a.call("start_conversation", {"user_ids": [bob.id, carol.id], "title": "Weekend plans"})
        assert group["ok"] is True, group
        summary = assert_summary(group["conversation"])
        assert summary["kind"] == "group" and summary["title"] == "Weekend plans"
        assert sorted(m["user"]["id"] for m in summary["members"]) == sorted([alice.id, bob.id, carol.id])
        assert {m["user"]["id"]: m["online"] for m in summary["members"]}[carol.id] is False  # no socket
        assert summary["id"] != direct["id"]
        assert (await b.next_matching("conversation_updated", lambda s: s["id"] == summary["id"]))["kind"] == "group"

        nobody = str(uuid.uuid4())
        expectations = [
            ([dave.id], "not_connected"),
            ([erin.id], "not_connected"),  # pending is not connected
            ([bob.id, dave.id], "not_connected"),
            ([nobody], "user_not_found"),
            ([nobody, dave.id], "user_not_found"),  # user_not_found is checked before not_connected
            ([dave.id, nobody], "user_not_found"),
            ([bob.id, nobody], "user_not_found"),
            ([alice.id], "validation_error"),
            ([alice.id, alice.id], "validation_error"),
        ]
        outcomes = [(ids, (await a.call("start_conversation", {"user_ids": ids}))) for ids, _ in expectations]
        wrong = [
            (ids, code, ack)
            for (ids, code), (_, ack) in zip(expectations, outcomes, strict=True)
            if not is_error(ack, code)
        ]
        assert wrong == [], wrong

        # The refused starts created nothing.
        listed = await a.call("get_conversations")
        assert sorted(c["id"] for c in listed["conversations"]) == sorted([direct["id"], summary["id"]])
    finally:
        await disconnect(a, b)


# -- rooms ----------------------------------------------------------------------------------------
async def test_join_and_leave_are_per_socket_while_conversation_updated_reaches_every_socket(
    server: ServerProcess,
) -> None:
    alice, bob, carol = (Person(server.url, n).register() for n in ("alice", "bob", "carol"))
    alice.connect_with(bob)
    alice.connect_with(carol)
    a1, a2, a3 = await Socket(alice).connect(), await Socket(alice).connect(), await Socket(alice).connect()
    b, c = await Socket(bob).connect(), await Socket(carol).connect()
    try:
        conversation = await direct_conversation(b, alice)
        for event in ("join_conversation", "leave_conversation"):
            assert_error(await c.call(event, {"conversation_id": conversation}), "not_a_member")
            assert_error(await c.call(event, {"conversation_id": str(uuid.uuid4())}), "not_found")
        await joined(a1, a2, b, conversation_id=conversation)

        one = await send_ok(b, conversation, "one")
        for s in (a1, a2, b):
            assert (await s.next("message_new")) == one
        updated = await a3.next_matching("conversation_updated", lambda s: s["last_message"] is not None)
        assert updated["unread_count"] == 1

        assert await a1.call("leave_conversation", {"conversation_id": conversation}) == {"ok": True}
        two = await send_ok(b, conversation, "two")
        assert (await a2.next("message_new")) == two
        assert (await b.next("message_new")) == two
        # Every socket of each member still hears conversation_updated, joined or not.
        for s in (a1, a2, a3):
            updated = await s.next_matching(
                "conversation_updated", lambda x: x["last_message"] is not None and x["last_message"]["seq"] == 2
            )
            assert updated["id"] == conversation and updated["unread_count"] == 2
            assert_summary(updated)
        updated = await b.next_matching(
            "conversation_updated", lambda x: x["last_message"] is not None and x["last_message"]["seq"] == 2
        )
        assert updated["unread_count"] == 0  # bob's own view
        # The summaries of seq 2 that a1 and a3 got above were sent after its message_new (Socket.arrived_before).
        assert a1.pending("message_new") == [] and a3.pending("message_new") == []
        # Carol, not a member, cannot listen in by joining either.
        assert_error(await c.call("join_conversation", {"conversation_id": conversation}), "not_a_member")

        # Membership, not room presence, decides: the socket that left still sends and reads.
        three = await send_ok(a1, conversation, "three")
        history = await a1.call("get_messages", {"conversation_id": conversation})
        assert [m["seq"] for m in history["messages"]] == [1, 2, 3]
        assert (await b.next("message_new"))["id"] == three["id"]

        await joined(a1, conversation_id=conversation)
        four = await send_ok(b, conversation, "four")
        assert await a1.arrived_before("message_new", lambda m: m == four) == []  # not "three", sent while out
        # Carol heard nothing of it all: a conversation started with her afterwards is the first thing she hears.
        with_carol = await direct_conversation(a2, carol)
        assert await c.arrived_before("conversation_updated", lambda x: x["id"] == with_carol) == []
        assert c.pending("message_new") == []
    finally:
        await disconnect(a1, a2, a3, b, c)


# -- send_message ---------------------------------------------------------------------------------
async def test_send_message_normalises_the_body_and_enforces_its_length_in_code_points(server: ServerProcess) -> None:
    alice, bob = Person(server.url, "alice").register(), Person(server.url, "bob").register()
    alice.connect_with(bob)
    a, b = await Socket(alice).connect(), await Socket(bob).connect()
    try:
        conversation = await direct_conversation(a, bob)
        await joined(b, conversation_id=conversation)
        stored = [
            ("e\u0301", "\u00e9"),  # NFC composes
            ("Cafe\u0301 cre\u0300me", "Caf\u00e9 cr\u00e8me"),
            ("\u212b", "\u00c5"),  # a singleton decomposition
            ("  \t\n hello \r\n world \x00\x07\x1b\x7f\u0085 \n\t ", "hello \n world"),
            ("tab\there\nnew line", "tab\there\nnew line"),
            ("<b>not html</b> &amp; <script>alert(1)</script>", "<b>not html</b> &amp; <script>alert(1)</script>"),
            ("a\u200bb \U0001f600", "a\u200bb \U0001f600"),  # only category Cc goes; format characters stay
            ("x" * 4000, "x" * 4000),
            (" \n" + "y" * 4000 + "\r\n\t", "y" * 4000),  # counted after trimming
            ("e\u0301" * 4000, "\u00e9" * 4000),  # counted after NFC
            ("\U0001f600" * 4000, "\U0001f600" * 4000),  # code points, not UTF-16 units
            ("\x00" + "z" * 4000 + "\x07", "z" * 4000),
        ]
        refused = ["", " ", "\x00\x01\r\x1b", "\n\t \r\n", "x" * 4001, "e\u0301" * 4001, "\U0001f600" * 4001]
        wrong = []
        for i, (raw, expected) in enumerate(stored):
            ack = await a.send(conversation, raw)
            if not (ack.get("ok") is True and ack["message"]["body"] == expected and ack["message"]["seq"] == i + 1):
                wrong.append(f"{raw[:40]!r}: expected body {expected[:40]!r} (seq {i + 1}), got {str(ack)[:200]}")
                continue
            assert_message(ack["message"])
            # One malformed body between two good ones: it takes no seq.
            ack = await a.send(conversation, refused[i % len(refused)])
            if not is_error(ack, "validation_error"):
                wrong.append(f"{refused[i % len(refused)][:40]!r}: expected validation_error, got {str(ack)[:200]}")
        for body in refused:
            ack = await a.send(conversation, body)
            if not is_error(ack, "validation_error"):
                wrong.append(f"{body[:40]!r}: expected validation_error, got {str(ack)[:200]}")
        assert wrong == [], "\n".join(wrong)

        expected_bodies = [expected for _, expected in stored]
        received = [await b.next("message_new") for _ in stored]
        assert [m["body"] for m in received] == expected_bodies
        assert [m["seq"] for m in received] == list(range(1, len(stored) + 1))
        history = await b.call("get_messages", {"conversation_id": conversation, "limit": 200})
        assert [m["body"] for m in history["messages"]] == expected_bodies
        over_http = Api(server.url).get(f"/api/conversations/{conversation}/messages", bob, params={"limit": 200})
        assert [m["body"] for m in over_http.json()["messages"]] == expected_bodies
        last = await send_ok(a, conversation, "the end")
        assert last["seq"] == len(stored) + 1  # the refused bodies took no seq
        assert await b.arrived_before("message_new", lambda m: m["id"] == last["id"]) == []  # and emitted nothing
    finally:
        await disconnect(a, b)


async def test_send_message_refuses_outsiders_unknown_conversations_and_former_connections(
    server: ServerProcess,
) -> None:
    api = Api(server.url)
    alice, bob, carol = (Person(server.url, n).register() for n in ("alice", "bob", "carol"))
    alice.connect_with(bob)
    alice.connect_with(carol)
    a, b, c = await Socket(alice).connect(), await Socket(bob).connect(), await Socket(carol).connect()
    try:
        conversation = await direct_conversation(a, bob)
        group = await a.call("start_conversation", {"user_ids": [bob.id, carol.id], "title": "Three"})
        assert group["ok"] is True, group
        await send_ok(a, conversation, "before")
        await send_ok(b, conversation, "still before")

        assert_error(await c.send(conversation, "let me in"), "not_a_member")
        assert_error(await c.call("get_messages", {"conversation_id": conversation}), "not_a_member")
        assert_error(await a.send(str(uuid.uuid4()), "anyone?"), "not_found")
        assert_error(await a.call("get_messages", {"conversation_id": str(uuid.uuid4())}), "not_found")

        connection_id = next(
            x["id"] for x in api.get("/api/connections", alice).json()["connections"] if x["addressee"]["id"] == bob.id
        )
        response = api.delete(f"/api/connections/{connection_id}", bob)
        assert response.status_code == 200, response.text
        assert_error(await a.send(conversation, "are you there?"), "not_connected")
        assert_error(await b.send(conversation, "no"), "not_connected")
        assert_error(await a.call("start_conversation", {"user_ids": [bob.id]}), "not_connected")
        # The history stays readable, for both.
        for s in (a, b):
            history = await s.call("get_messages", {"conversation_id": conversation})
            assert history["ok"] is True, history
            assert [(m["seq"], m["body"]) for m in history["messages"]] == [(1, "before"), (2, "still before")]
        over_http = api.get(f"/api/conversations/{conversation}/messages", alice).json()["messages"]
        assert [m["seq"] for m in over_http] == [1, 2]

        # Connected again: sending works again and the seq goes on from where it was.
        bob.connect_with(alice)
        again = await send_ok(a, conversation, "hello again")
        assert again["seq"] == 3
    finally:
        await disconnect(a, b, c)


async def test_concurrent_sends_get_gap_free_seqs_delivered_in_order_to_every_joined_socket(
    server: ServerProcess,
) -> None:
    alice, bob = Person(server.url, "alice").register(), Person(server.url, "bob").register()
    alice.connect_with(bob)
    a1, a2, b = await Socket(alice).connect(), await Socket(alice).connect(), await Socket(bob).connect()
    try:
        conversation = await direct_conversation(a1, bob)
        await joined(a1, a2, b, conversation_id=conversation)
        sends = [a1.send(conversation, f"alice {i}") for i in range(20)]
        sends += [b.send(conversation, f"bob {i}") for i in range(20)]
        acks = await asyncio.gather(*sends)
        assert all(ack["ok"] is True for ack in acks), [ack for ack in acks if not ack["ok"]]
        by_seq = {ack["message"]["seq"]: ack["message"] for ack in acks}
        assert sorted(by_seq) == list(range(1, 41)), sorted(ack["message"]["seq"] for ack in acks)
        assert len({ack["message"]["id"] for ack in acks}) == 40

        for s in (a1, a2, b):
            received = [await s.next("message_new", timeout=10) for _ in range(40)]
            assert [m["seq"] for m in received] == list(range(1, 41)), [m["seq"] for m in received]
            assert [m["id"] for m in received] == [by_seq[i]["id"] for i in range(1, 41)]

        history = await b.call("get_messages", {"conversation_id": conversation, "limit": 200})
        assert [(m["seq"], m["id"], m["body"]) for m in history["messages"]] == [
            (i, by_seq[i]["id"], by_seq[i]["body"]) for i in range(1, 41)
        ]
        assert history["has_more"] is False
        last = await send_ok(a2, conversation, "after all")  # nothing was sent twice: this comes next
        for s in (a1, a2, b):
            assert await s.arrived_before("message_new", lambda m: m["id"] == last["id"]) == []
    finally:
        await disconnect(a1, a2, b)


async def test_a_group_message_reaches_every_member_with_their_own_unread_count(server: ServerProcess) -> None:
    alice, bob, carol = (Person(server.url, n).register() for n in ("alice", "bob", "carol"))
    alice.connect_with(bob)
    alice.connect_with(carol)
    a, b, c = await Socket(alice).connect(), await Socket(bob).connect(), await Socket(carol).connect()
    try:
        group = (await a.call("start_conversation", {"user_ids": [bob.id, carol.id], "title": "Trio"}))["conversation"]
        await joined(a, b, c, conversation_id=group["id"])

        hello = await send_ok(c, group["id"], "hello group")
        for s in (a, b, c):
            new = await s.next("message_new")
            assert_message(new)
            assert (new["id"], new["seq"], new["sender_id"], new["body"]) == (hello["id"], 1, carol.id, "hello group")
        unread = {}
        for person, s in (("alice", a), ("bob", b), ("carol", c)):
            updated = await s.next_matching("conversation_updated", lambda x: x["last_message"] is not None)
            assert updated["id"] == group["id"] and updated["kind"] == "group" and updated["title"] == "Trio"
            assert updated["last_message"]["body"] == "hello group"
            unread[person] = updated["unread_count"]
        assert unread == {"alice": 1, "bob": 1, "carol": 0}

        reply = await send_ok(b, group["id"], "hi both")
        for s in (a, b, c):
            assert (await s.next("message_new"))["id"] == reply["id"]
        unread = {}
        for person, s in (("alice", a), ("bob", b), ("carol", c)):
            updated = await s.next_matching(
                "conversation_updated", lambda x: x["last_message"] is not None and x["last_message"]["seq"] == 2
            )
            unread[person] = updated["unread_count"]
        assert unread == {"alice": 2, "bob": 1, "carol": 1}
    finally:
        await disconnect(a, b, c)


# -- read your writes -----------------------------------------------------------------------------
async def test_reads_from_another_socket_reflect_a_write_as_soon_as_it_is_acknowledged(server: ServerProcess) -> None:
    api = Api(server.url)
    alice, bob, carol = (Person(server.url, n).register() for n in ("alice", "bob", "carol"))
    alice.connect_with(bob)
    alice.connect_with(carol)
    a1, a2, b = await Socket(alice).connect(), await Socket(alice).connect(), await Socket(bob).connect()
    try:
        conversation = await direct_conversation(a1, bob)
        listed = await a2.call("get_conversations")
        assert [c["id"] for c in listed["conversations"]] == [conversation]
        await joined(b, conversation_id=conversation)

        for seq in range(1, 11):
            sent = await send_ok(a1, conversation, f"message {seq}")
            assert sent["seq"] == seq
            seen = await a2.call("get_messages", {"conversation_id": conversation, "after_seq": seq - 1})
            assert [m["id"] for m in seen["messages"]] == [sent["id"]], (seq, seen)
            summary = (await a2.call("get_conversations"))["conversations"][0]
            assert summary["last_message"]["id"] == sent["id"], (seq, summary)
            over_http = api.get(f"/api/conversations/{conversation}/messages", alice, params={"limit": 1}).json()
            assert [m["id"] for m in over_http["messages"]] == [sent["id"]], (seq, over_http)

            # A member who receives message_new can query it at once.
            new = await b.next("message_new")
            assert new["id"] == sent["id"]
            latest = await b.call("get_messages", {"conversation_id": conversation, "limit": 1})
            assert [m["id"] for m in latest["messages"]] == [sent["id"]], (seq, latest)

        summary = (await b.call("get_conversations"))["conversations"][0]
        assert summary["unread_count"] == 10 and summary["last_message"]["seq"] == 10

        # A started conversation is listed at once on the other socket too.
        second = await direct_conversation(a1, carol)
        listed = await a2.call("get_conversations")
        assert [c["id"] for c in listed["conversations"]] == [second, conversation]
        assert [c["id"] for c in api.get("/api/conversations", alice).json()["conversations"]] == [second, conversation]
    finally:
        await disconnect(a1, a2, b)
