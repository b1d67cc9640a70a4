"""Contract v2 section 10 from httpx and python-socketio clients on a real server, on SQLite and
PostgreSQL: whole words, case and accents ignored, the last word as a prefix, phrases, newest first
with a cursor, only what the caller can see, edits and deletions reflected, hostile queries refused."""

import uuid
from typing import Any

from interfaces.contract import SearchAck, SearchBody
from tests.support.clients import Person, Socket
from tests.support.contract import conforms, direct_conversation, send_ok
from tests.support.server import ServerProcess


def bodies(answer: dict[str, Any]) -> list[str]:
    return [r["message"]["body"] for r in answer["results"]]


async def test_search_finds_what_the_caller_can_see_newest_first(server: ServerProcess) -> None:
    alice, bob, carol = (Person(server.url, n).register() for n in ("alice", "bob", "carol"))
    alice.connect_with(bob)
    bob.connect_with(carol)
    a, b, c = [await Socket(p).connect() for p in (alice, bob, carol)]
    ours = await direct_conversation(a, bob)
    theirs = await direct_conversation(b, carol)  # alice never belonged to it

    first = await send_ok(a, ours, "Meet at the Café Müller at noon")
    await send_ok(b, ours, "the cafeteria is closed, café elsewhere?")
    await send_ok(a, ours, "New York is big; york alone is a city too")
    await send_ok(b, theirs, "secret café plans")
    typo = await send_ok(a, ours, "lunch at the caff")

    async def search(s: Socket, query: str, **more: Any) -> dict[str, Any]:
        ack = await s.call("search_messages", {"query": query, **more})
        assert ack["ok"] is True, ack
        return conforms(SearchAck, ack)

    # Whole words, case- and accent-insensitively (quoted: no prefix); the last word also as a prefix.
    found = await search(a, '"CAFE"')
    assert bodies(found) == ["the cafeteria is closed, café elsewhere?", "Meet at the Café Müller at noon"]
    assert all(r["conversation_id"] == ours for r in found["results"])
    assert found["results"][0]["highlights"] == [[25, 29]]  # "café", not "cafeteria"
    assert found["results"][1]["highlights"] == [[12, 16]]  # "Café", in code points of the body
    assert bodies(await search(a, "cafe muller")) == ["Meet at the Café Müller at noon"]
    assert bodies(await search(a, "cafe closed")) == ["the cafeteria is closed, café elsewhere?"]
    prefixed = await search(a, "closed cafe")  # "cafe" last: "cafeteria" matches too, and is highlighted
    assert prefixed["results"][0]["highlights"] == [[4, 13], [17, 23], [25, 29]]
    assert bodies(await search(a, "caf")) == [
        "lunch at the caff",
        "the cafeteria is closed, café elsewhere?",
        "Meet at the Café Müller at noon",
    ]
    assert bodies(await search(a, "caf noon")) == [], "only the last word is a prefix"
    # A phrase: its words in order and adjacent.
    assert bodies(await search(a, '"new york"')) == ["New York is big; york alone is a city too"]
    assert bodies(await search(a, '"york new"')) == []
    assert bodies(await search(a, '"york city"')) == []

    # Newest first, a page at a time: the cursor leads on and ends with null.
    one = await search(a, '"at"', limit=1)
    assert bodies(one) == [typo["body"]] and one["next_cursor"] is not None
    two = await search(a, '"at"', limit=1, before=one["next_cursor"])
    assert bodies(two) == [first["body"]] and two["next_cursor"] is None
    assert (await search(a, '"at"', limit=2))["next_cursor"] is None

    # Only what the caller can see: carol's conversation with bob is not alice's.
    assert "secret café plans" in bodies(await search(b, "secret"))
    assert bodies(await search(a, "secret")) == []
    refused = await a.call("search_messages", {"query": "secret", "conversation_id": theirs})
    assert refused["ok"] is False and refused["error"]["code"] == "not_a_member", refused
    missing = await a.call("search_messages", {"query": "secret", "conversation_id": str(uuid.uuid4())})
    assert missing["ok"] is False and missing["error"]["code"] == "not_found", missing
    assert bodies(await search(a, "cafe", conversation_id=ours))[-1] == first["body"]

    # An edited message is found by its current text; a deleted one never.
    ref = {"conversation_id": ours, "message_id": first["id"]}
    assert (await a.call("edit_message", {**ref, "body": "Meet at the library instead"}))["ok"] is True
    assert first["body"] not in bodies(await search(a, "muller"))
    assert bodies(await search(a, "library")) == ["Meet at the library instead"]
    assert (await a.call("delete_message", ref))["ok"] is True
    assert bodies(await search(a, "library")) == []

    # HTTP answers alike.
    with alice.http() as http:
        response = http.get("/api/search", params={"q": "caf"})
        assert response.status_code == 200, response.text
        assert bodies(conforms(SearchBody, response.json())) == bodies(await search(a, "caf"))
        assert http.get("/api/search", params={"q": "x", "conversation_id": theirs}).status_code == 403
        assert http.get("/api/search", params={"q": "x", "limit": 51}).status_code == 422
        assert http.get("/api/search", params={"q": "x", "before": "not a cursor"}).status_code == 422
    for s in (a, b, c):
        await s.disconnect()


async def test_hostile_search_queries_get_a_clear_error_or_safe_handling(server: ServerProcess) -> None:
    alice, bob = Person(server.url, "alice").register(), Person(server.url, "bob").register()
    alice.connect_with(bob)
    a = await Socket(alice).connect()
    conversation = await direct_conversation(a, bob)
    await send_ok(a, conversation, "near or not, a AND b* (c) -d: NEAR(e f) ^g $h")

    for query in ("x" * 10_000, "é" * 201, "", "   ", '"" * ( ) - : ^ | & ! <-> :*', '"'):
        ack = await a.call("search_messages", {"query": query})
        assert ack["ok"] is False and ack["error"]["code"] == "validation_error", (query[:20], ack)
    with alice.http() as http:
        long = http.get("/api/search", params={"q": "word " * 2000})
        assert long.status_code == 422 and long.json()["error"]["code"] == "validation_error"
        assert http.get("/api/search").status_code == 422  # no q at all

    # Engine syntax in a query is only words: FTS5 and tsquery operators do nothing.
    for query in ("NEAR(e f)", "b* -d", "a AND b", "near OR not", "(c) ^g $h", 'OR "AND" NOT', "e:* & f | !g"):
        ack = await a.call("search_messages", {"query": query})
        assert ack["ok"] is True, (query, ack)
    assert len((await a.call("search_messages", {"query": "NEAR(e f)"}))["results"]) == 1
    assert (await a.call("search_messages", {"query": "e:* & f | !zzz"}))["results"] == []
    await a.disconnect()
