"""Contract v2 section 10 from httpx and python-socketio clients on a real server, on SQLite and
PostgreSQL: whole words, case and accents ignored, the last word as a prefix, phrases, newest first
with a cursor, only what the caller can see, edits and deletions reflected, hostile queries refused."""

import uuid
from pathlib import Path
from typing import Any

import pytest

from infrastructure import search_sqlite
from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap
from interfaces.contract import SearchAck, SearchBody
from projections import search
from projections.search import parse
from tests.support.clients import Person, Socket
from tests.support.contract import conforms, direct_conversation, send_ok
from tests.support.fakes import PlainPasswords
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


async def test_search_pages_newest_first_across_a_cursor_when_messages_share_a_second(
    server: ServerProcess, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob, carol = (Person(server.url, n).register() for n in ("alice", "bob", "carol"))
    alice.connect_with(bob)
    alice.connect_with(carol)
    a = await Socket(alice).connect()
    with_bob, with_carol = await direct_conversation(a, bob), await direct_conversation(a, carol)
    sent = [await send_ok(a, (with_bob, with_carol)[n % 3 == 0], f"tick {n} of the burst") for n in range(14)]
    assert len({m["sent_at"][:19] for m in sent}) < len(sent), "some of the burst share a second"
    newest_first = [m["id"] for m in reversed(sent)]

    async def walk(limit: int, **scope: Any) -> list[str]:
        """Every page of "tick", from the cursors, the ids in order."""
        ids: list[str] = []
        cursor = None
        while True:
            ack = await a.call("search_messages", {"query": "tick", "limit": limit, **scope, "before": cursor})
            assert ack["ok"] is True, ack
            assert len(ack["results"]) <= limit
            ids += [r["message"]["id"] for r in conforms(SearchAck, ack)["results"]]
            cursor = ack["next_cursor"]
            if cursor is None:
                return ids

    assert await walk(3) == newest_first  # across both conversations, each once, none skipped
    assert await walk(1) == newest_first
    assert await walk(2, conversation_id=with_carol) == [
        m["id"] for m in reversed(sent) if m["conversation_id"] == with_carol
    ]

    # The same order when the caller's conversations are too many to scope the match to them (SQLite
    # then walks every match newest first); and neither way sorts the matches (no temp b-tree).
    container = bootstrap(
        Settings(database_url=database_url, jwt_secret="s" * 40, blob_dir=str(tmp_path / "blobs")),
        passwords=PlainPasswords(),
        projecting=False,
    )
    try:
        pages = []
        for scoped in (True, False):
            monkeypatch.setattr(search, "SCOPE_CONVERSATIONS", 1000 if scoped else 1)
            ids, cursor = [], None
            while True:
                page, cursor = container.queries.search(uuid.UUID(alice.id), "tick", None, 4, cursor)
                ids += [r["message"]["id"] for r in page]
                if cursor is None:
                    break
            pages.append(ids)
            if container.db.engine == "sqlite":
                with container.db.transaction(commit=False) as cur:
                    query = cur.search.query(cur, "rm_", parse("tick"), alice.id, None, None, 21)
                    assert query is not None
                    plan = [r["detail"] for r in cur.execute(f"EXPLAIN QUERY PLAN {query[0]}", query[1]).fetchall()]
                assert plan[0].startswith("SCAN s VIRTUAL TABLE"), plan
                assert not any("TEMP B-TREE" in step for step in plan), plan
        assert pages == [newest_first, newest_first]

        # An edit replaces the row's text; a deletion removes the row itself, not only from the results.
        edited, deleted = sent[0], sent[1]
        for ref, change in ((edited, "edit_message"), (deleted, "delete_message")):
            more = {"body": "tock, edited"} if change == "edit_message" else {}
            answer = await a.call(change, {"conversation_id": ref["conversation_id"], "message_id": ref["id"], **more})
            assert answer["ok"] is True, answer
        assert [r["message"]["id"] for r in (await a.call("search_messages", {"query": "tock"}))["results"]] == [
            edited["id"]
        ]
        with container.db.transaction(commit=False) as cur:
            rows = cur.execute(
                "SELECT message_id FROM rm_search WHERE message_id IN (?, ?)", (edited["id"], deleted["id"])
            )
            assert [r["message_id"] for r in rows.fetchall()] == [edited["id"]]
        assert await walk(5) == [i for i in newest_first if i not in (edited["id"], deleted["id"])]
    finally:
        container.close()
    await a.disconnect()


def test_messages_sent_in_one_microsecond_keep_their_own_rows(database_url: str, tmp_path: Path) -> None:
    """On SQLite a row's key is its sent_at in microseconds and 11 bits of its id: ids alike in those
    bits, sent in one microsecond, take the next free keys, and each is still edited and removed alone."""
    container = bootstrap(
        Settings(database_url=database_url, jwt_secret="s" * 40, blob_dir=str(tmp_path / "blobs")),
        passwords=PlainPasswords(),
        projecting=False,
    )
    at, conversation = "2026-12-05T10:00:00.123456+00:00", str(uuid.uuid4())
    ids = [str(uuid.UUID(int=(n << 64) | 0x7FF)) for n in (1, 2, 3)]  # equal low 11 bits
    try:
        with container.db.transaction(commit=True) as cur:
            cur.search.add(cur, "rm_", [(i, conversation, at, f"same moment {n}") for n, i in enumerate(ids)])
            cur.search.add(cur, "rm_", [(str(uuid.uuid4()), conversation, at, "same moment, next batch")])
            cur.search.replace(cur, "rm_", ids[1], "changed", at)
            cur.search.remove(cur, "rm_", ids[0], at)
            rows = cur.execute("SELECT message_id FROM rm_search").fetchall()
            assert len(rows) == 3 and sorted(r["message_id"] for r in rows if r["message_id"] in ids) == ids[1:]
            changed = "rm_search MATCH 'changed'" if container.db.engine == "sqlite" else "words @@ 'changed'::tsquery"
            assert cur.execute(f"SELECT message_id FROM rm_search WHERE {changed}").fetchall() == [
                {"message_id": ids[1]}
            ]
            if container.db.engine == "sqlite":
                keys = cur.execute("SELECT message_id, rowid AS k FROM rm_search").fetchall()
                base = search_sqlite.key(at, ids[0])
                assert {r["message_id"]: r["k"] for r in keys if r["message_id"] in ids} == {
                    ids[1]: base + 1,
                    ids[2]: base + 2,
                }
    finally:
        container.close()
