"""Contract v2 section 8 (blocking) over HTTP and python-socketio clients on a real server, on SQLite
and PostgreSQL: what a block removes, hides and refuses, and what unblocking does not restore."""

from typing import Any

import httpx

from interfaces.contract import BlockedBody
from tests.e2e.test_message_lifecycle import disconnect, summary_of
from tests.support.clients import Person, Socket
from tests.support.contract import conforms


def call(person: Person, method: str, path: str, **options: Any) -> httpx.Response:
    with person.http() as http:
        return http.request(method, path, **options)


def blocked(person: Person, method: str, user: Person) -> list[str]:
    response = call(person, method, f"/api/users/{user.id}/block")
    assert response.status_code == 200, response.text
    return [u["id"] for u in conforms(BlockedBody, response.json())["blocked"]]


async def test_a_block_removes_the_connection_hides_the_blocker_and_refuses_requests(server: Any) -> None:
    alice, bob, carol = (Person(server.url, n).register() for n in ("alice", "bob", "carol"))
    alice.connect_with(bob)
    alice.connect_with(carol)
    bob.connect_with(carol)
    a, b, c = await Socket(alice).connect(), await Socket(bob).connect(), await Socket(carol).connect()
    try:
        group = (await a.call("start_conversation", {"user_ids": [bob.id, carol.id], "title": "G"}))["conversation"]
        assert blocked(alice, "POST", bob) == [bob.id]
        for s in (a, b):  # the connection is removed, and both are told
            update = await s.next_matching("connection_updated", lambda e: e["status"] == "removed")
            assert {update["requester"]["id"], update["addressee"]["id"]} == {alice.id, bob.id}
        assert blocked(alice, "POST", bob) == [bob.id]  # twice changes nothing
        assert blocked(alice, "POST", carol) == [carol.id, bob.id]  # most recent first
        assert [u["id"] for u in call(alice, "GET", "/api/blocks").json()["blocked"]] == [carol.id, bob.id]

        # the blocked user: the blocker is as if missing; the blocker: invalid_state
        refused = call(bob, "POST", "/api/connections", json={"username": "alice"})
        missing = call(bob, "POST", "/api/connections", json={"username": "nobody"})
        assert refused.status_code == missing.status_code == 404
        assert refused.json()["error"]["code"] == "user_not_found"
        assert call(bob, "GET", "/api/users", params={"query": "ali"}).json() == {"users": []}
        mine = call(alice, "POST", "/api/connections", json={"username": "bob"})
        assert mine.status_code == 409 and mine.json()["error"]["code"] == "invalid_state"
        assert [u["id"] for u in call(alice, "GET", "/api/users", params={"query": "bo"}).json()["users"]] == [bob.id]

        # groups are unaffected, but presence is hidden across the block
        online = {m["user"]["id"]: m["online"] for m in (await summary_of(a, group["id"]))["members"]}
        assert online == {alice.id: True, bob.id: False, carol.id: False}
        online = {m["user"]["id"]: m["online"] for m in (await summary_of(b, group["id"]))["members"]}
        assert online == {alice.id: False, bob.id: True, carol.id: True}

        # unblocking restores no connection; unblocking again changes nothing
        assert blocked(alice, "DELETE", bob) == [carol.id]
        assert blocked(alice, "DELETE", bob) == [carol.id]
        statuses = {
            c["addressee"]["id"]: c["status"] for c in call(alice, "GET", "/api/connections").json()["connections"]
        }
        assert statuses[bob.id] == "removed"
        assert call(bob, "POST", "/api/connections", json={"username": "alice"}).status_code == 201

        assert call(alice, "POST", f"/api/users/{alice.id}/block").status_code == 422
        unknown = call(alice, "POST", "/api/users/00000000-0000-4000-8000-000000000000/block")
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "user_not_found"
    finally:
        await disconnect(a, b, c)
