"""The HTTP API against the wire contract (sections 1, 3 and 4 of the protocol), on a real server.

Each request goes out on a fresh connection (`Api`), so a failure names the behaviour under test;
what a reused keep-alive connection does after an error response has a test of its own.
The shape checks are in tests/support/contract.py, shared with test_socket_contract.py.
"""

import uuid
from typing import Any

import httpx

from tests.support.clients import Person, Socket
from tests.support.contract import (
    Api,
    assert_connection,
    assert_error,
    assert_message,
    assert_summary,
    assert_user,
    bad_tokens,
    direct_conversation,
    send_ok,
    session_of,
    token_for,
)
from tests.support.server import ServerProcess

PASSWORD = "correct horse battery"


# -- accounts -------------------------------------------------------------------------------------
async def test_register_returns_the_user_with_a_lower_case_username_and_refuses_a_taken_one(
    server: ServerProcess,
) -> None:
    api = Api(server.url)
    response = api.post(
        "/api/auth/register", json={"username": "Alice.Smith_1", "password": PASSWORD, "display_name": "Alice S"}
    )
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"user"}
    alice = assert_user(response.json()["user"], "alice.smith_1")
    assert alice["display_name"] == "Alice S"

    # display_name is optional.
    response = api.post("/api/auth/register", json={"username": "bob", "password": PASSWORD})
    assert response.status_code == 201, response.text
    bob = assert_user(response.json()["user"], "bob")
    assert bob["display_name"] == "bob"  # documented default: the username
    assert bob["id"] != alice["id"]

    # Usernames are compared case-insensitively.
    for taken in ("alice.smith_1", "ALICE.SMITH_1", "Alice.Smith_1", "BOB"):
        response = api.post("/api/auth/register", json={"username": taken, "password": PASSWORD})
        assert_error(response, 409, "username_taken", taken)

    # The boundaries: 3 and 32 characters of a-z 0-9 _ . -, passwords of 8 and 256 characters.
    for username, password in (("abc", "8chars!!"), ("a" * 32, "p" * 256), ("x-y_z.0", PASSWORD)):
        response = api.post("/api/auth/register", json={"username": username, "password": password})
        assert response.status_code == 201, (username, response.text)
        assert_user(response.json()["user"], username)
    response = api.post("/api/auth/login", json={"username": "abc", "password": "8chars!!"})
    assert response.status_code == 200, response.text

    # /api/users/me returns the same user as the registration did.
    token = api.post("/api/auth/login", json={"username": "alice.smith_1", "password": PASSWORD}).json()["access_token"]
    response = api.get("/api/users/me", token)
    assert response.status_code == 200, response.text
    assert response.json() == {"user": alice}


async def test_register_refuses_invalid_input_with_validation_error(server: ServerProcess) -> None:
    api = Api(server.url)
    invalid_json_bodies: dict[str, Any] = {
        "username too short": {"username": "ab", "password": PASSWORD},
        "username too long": {"username": "a" * 33, "password": PASSWORD},
        "username with a space": {"username": "al ice", "password": PASSWORD},
        "username with !": {"username": "alice!", "password": PASSWORD},
        "username with @": {"username": "al@ice", "password": PASSWORD},
        "username with a non-ASCII letter": {"username": "ålice", "password": PASSWORD},
        "empty username": {"username": "", "password": PASSWORD},
        "password too short": {"username": "carol", "password": "7chars!"},
        "password too long": {"username": "carol", "password": "p" * 257},
        "empty password": {"username": "carol", "password": ""},
        "missing password": {"username": "carol"},
        "missing username": {"password": PASSWORD},
        "empty object": {},
        "username a number": {"username": 12345, "password": PASSWORD},
        "username null": {"username": None, "password": PASSWORD},
        "password a number": {"username": "carol", "password": 1234567890},
        "password a list": {"username": "carol", "password": ["correct", "horse"]},
        "display_name a number": {"username": "carol", "password": PASSWORD, "display_name": 7},
        "unknown field": {"username": "carol", "password": PASSWORD, "is_admin": True},
        "a list, not an object": [{"username": "carol", "password": PASSWORD}],
        "a string, not an object": "carol",
        "null": None,
    }
    for case, body in invalid_json_bodies.items():
        response = api.post("/api/auth/register", json=body)
        assert_error(response, 422, "validation_error", case)
    raw_bodies = {
        "not JSON": b"username=carol&password=secret123",
        "truncated JSON": b'{"username": "carol"',
        "no body": b"",
    }
    for case, raw in raw_bodies.items():
        response = api.post("/api/auth/register", content=raw, headers={"Content-Type": "application/json"})
        assert_error(response, 422, "validation_error", case)

    # None of the refused requests registered anyone.
    response = api.post("/api/auth/register", json={"username": "carol", "password": PASSWORD})
    assert response.status_code == 201, response.text
    response = api.post("/api/auth/login", json={"username": "al ice", "password": PASSWORD})
    assert_error(response, 401, "invalid_credentials")


async def test_login_issues_a_bearer_token_and_refuses_wrong_credentials_alike(server: ServerProcess) -> None:
    api = Api(server.url)
    registered = api.post("/api/auth/register", json={"username": "dora", "password": PASSWORD, "display_name": "Dora"})
    assert registered.status_code == 201, registered.text

    for username in ("dora", "DORA", "Dora"):
        response = api.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        body = response.json()
        assert {"access_token", "token_type", "expires_in", "user"} <= set(body), body
        assert isinstance(body["access_token"], str) and body["access_token"], body
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 3600
        assert body["user"] == registered.json()["user"]
        me = api.get("/api/users/me", body["access_token"])
        assert me.status_code == 200 and me.json() == {"user": registered.json()["user"]}, me.text

    wrong = api.post("/api/auth/login", json={"username": "dora", "password": PASSWORD + "!"})
    assert_error(wrong, 401, "invalid_credentials")
    unknown = api.post("/api/auth/login", json={"username": "nobody", "password": PASSWORD})
    assert_error(unknown, 401, "invalid_credentials")
    # The password is case-sensitive, unlike the username.
    response = api.post("/api/auth/login", json={"username": "dora", "password": PASSWORD.upper()})
    assert_error(response, 401, "invalid_credentials")


async def test_users_me_refuses_missing_malformed_forged_and_expired_tokens(server: ServerProcess) -> None:
    api = Api(server.url)
    erin = Person(server.url, "erin").register()
    assert api.get("/api/users/me", erin).json() == {"user": erin.user}

    assert_error(api.get("/api/users/me"), 401, "unauthorized")
    for scheme_header in (f"Basic {erin.token}", erin.token, "Bearer", f"Token {erin.token}"):
        assert_error(api.get("/api/users/me", headers={"Authorization": scheme_header}), 401, "unauthorized")
    for case, token in bad_tokens(server, erin.id, session_of(erin.token)).items():
        assert_error(api.get("/api/users/me", token), 401, "unauthorized", case)
    # A token made with the server's secret and a future expiry is accepted (the forgeries above differ only so).
    good = token_for(erin.id, server.env["PARLEY_JWT_SECRET"], session_of(erin.token))
    assert api.get("/api/users/me", good).json() == {"user": erin.user}


async def test_user_search_is_a_case_insensitive_prefix_match_of_at_most_20_without_the_caller(
    server: ServerProcess,
) -> None:
    api = Api(server.url)
    caller = Person(server.url, "zed_caller").register()
    names = [f"zed{i:02d}" for i in range(22)]
    for name in [*names, "zebra", "a_b", "axb", "bzed"]:
        response = api.post("/api/auth/register", json={"username": name, "password": PASSWORD})
        assert response.status_code == 201, response.text

    response = api.get("/api/users", caller, params={"query": "zed"})
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"users"}
    users = response.json()["users"]
    assert len(users) == 20, [u["username"] for u in users]
    for user in users:
        assert_user(user)
    usernames = [u["username"] for u in users]
    assert len(set(usernames)) == 20
    assert set(usernames) <= set(names), usernames  # prefix match, never the caller

    for query in ("ZED0", "Zed0", "zed0"):
        found = api.get("/api/users", caller, params={"query": query}).json()["users"]
        assert sorted(u["username"] for u in found) == [f"zed0{i}" for i in range(10)], query
    assert [u["username"] for u in api.get("/api/users", caller, params={"query": "zeb"}).json()["users"]] == ["zebra"]
    # `_` is a username character here, not a wildcard.
    assert [u["username"] for u in api.get("/api/users", caller, params={"query": "a_"}).json()["users"]] == ["a_b"]
    assert api.get("/api/users", caller, params={"query": "zed_caller"}).json() == {"users": []}
    assert api.get("/api/users", caller, params={"query": "nobody"}).json() == {"users": []}
    # Another caller does find zed_caller.
    other = api.post("/api/auth/login", json={"username": "zebra", "password": PASSWORD}).json()["access_token"]
    found = api.get("/api/users", other, params={"query": "zed_"}).json()["users"]
    assert [u["username"] for u in found] == ["zed_caller"]

    assert_error(api.get("/api/users", caller), 422, "validation_error")
    assert_error(api.get("/api/users", caller, params={"query": ""}), 422, "validation_error")
    assert_error(api.get("/api/users", params={"query": "zed"}), 401, "unauthorized")
    assert_error(api.get("/api/users", "garbage", params={"query": "zed"}), 401, "unauthorized")


# -- connections ----------------------------------------------------------------------------------
async def test_connection_lifecycle_with_its_errors(server: ServerProcess) -> None:
    api = Api(server.url)
    alice, bob, carol, dave = (
        Person(server.url, n, display_name=n.title()).register() for n in ("alice", "bob", "carol", "dave")
    )

    # Every endpoint wants a token.
    some_id = str(uuid.uuid4())
    assert_error(api.post("/api/connections", json={"username": "bob"}), 401, "unauthorized")
    assert_error(api.get("/api/connections"), 401, "unauthorized")
    assert_error(api.post(f"/api/connections/{some_id}/accept"), 401, "unauthorized")
    assert_error(api.post(f"/api/connections/{some_id}/decline"), 401, "unauthorized")
    assert_error(api.delete(f"/api/connections/{some_id}"), 401, "unauthorized")
    assert_error(api.post("/api/connections", "garbage", json={"username": "bob"}), 401, "unauthorized")

    # Requests that cannot be made.
    assert_error(api.post("/api/connections", alice, json={"username": "nobody"}), 404, "user_not_found")
    assert_error(api.post("/api/connections", alice, json={"username": "alice"}), 422, "validation_error")
    assert_error(api.post("/api/connections", alice, json={"username": "ALICE"}), 422, "validation_error")
    assert_error(api.post("/api/connections", alice, json={}), 422, "validation_error")
    assert_error(api.post("/api/connections", alice, json={"username": 5}), 422, "validation_error")
    assert_error(api.post("/api/connections", alice, json={"username": "bob", "note": "hi"}), 422, "validation_error")

    # alice asks bob (usernames compare case-insensitively).
    response = api.post("/api/connections", alice, json={"username": "Bob"})
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"connection"}
    ab = assert_connection(response.json()["connection"], "pending")
    assert ab["requester"] == alice.user and ab["addressee"] == bob.user

    # While pending, no second request in either direction.
    assert_error(api.post("/api/connections", alice, json={"username": "bob"}), 409, "connection_exists")
    assert_error(api.post("/api/connections", bob, json={"username": "alice"}), 409, "connection_exists")

    # Only bob may answer; unknown ids are 404 not_found.
    assert_error(api.post(f"/api/connections/{ab['id']}/accept", alice), 403, "forbidden")
    assert_error(api.post(f"/api/connections/{ab['id']}/decline", alice), 403, "forbidden")
    assert_error(api.post(f"/api/connections/{ab['id']}/accept", carol), 403, "forbidden")
    assert_error(api.post(f"/api/connections/{ab['id']}/decline", carol), 403, "forbidden")
    for missing in (some_id, "not-a-uuid", "12345"):
        assert_error(api.post(f"/api/connections/{missing}/accept", bob), 404, "not_found")
        assert_error(api.post(f"/api/connections/{missing}/decline", bob), 404, "not_found")
        assert_error(api.delete(f"/api/connections/{missing}", bob), 404, "not_found")

    listed = {p.username: api.get("/api/connections", p).json() for p in (alice, bob, carol)}
    assert listed["carol"] == {"connections": []}
    for name in ("alice", "bob"):
        assert [(c["id"], c["status"]) for c in listed[name]["connections"]] == [(ab["id"], "pending")], listed[name]
        for connection in listed[name]["connections"]:
            assert_connection(connection)

    response = api.post(f"/api/connections/{ab['id']}/accept", bob)
    assert response.status_code == 200, response.text
    accepted = assert_connection(response.json()["connection"], "connected")
    assert accepted["id"] == ab["id"] and accepted["requester"] == alice.user and accepted["addressee"] == bob.user
    assert_error(api.post(f"/api/connections/{ab['id']}/accept", bob), 409, "invalid_state")
    assert_error(api.post(f"/api/connections/{ab['id']}/decline", bob), 409, "invalid_state")
    assert_error(api.post("/api/connections", alice, json={"username": "bob"}), 409, "connection_exists")
    assert_error(api.post("/api/connections", bob, json={"username": "alice"}), 409, "connection_exists")

    # carol asks dave, dave declines; then a new request (from either side) is allowed.
    response = api.post("/api/connections", carol, json={"username": "dave"})
    cd = assert_connection(response.json()["connection"], "pending")
    response = api.post(f"/api/connections/{cd['id']}/decline", dave)
    assert response.status_code == 200, response.text
    assert assert_connection(response.json()["connection"], "declined")["id"] == cd["id"]
    assert_error(api.post(f"/api/connections/{cd['id']}/decline", dave), 409, "invalid_state")
    assert_error(api.post(f"/api/connections/{cd['id']}/accept", dave), 409, "invalid_state")
    response = api.post("/api/connections", dave, json={"username": "carol"})
    assert response.status_code == 201, response.text
    again = assert_connection(response.json()["connection"], "pending")
    assert again["requester"] == dave.user and again["addressee"] == carol.user
    assert_error(api.post("/api/connections", carol, json={"username": "dave"}), 409, "connection_exists")

    # Removing: only a party; afterwards a new request is allowed.
    assert_error(api.delete(f"/api/connections/{ab['id']}", carol), 403, "forbidden")
    response = api.delete(f"/api/connections/{ab['id']}", bob)
    assert response.status_code == 200, response.text
    assert assert_connection(response.json()["connection"], "removed")["id"] == ab["id"]
    assert [c["status"] for c in api.get("/api/connections", alice).json()["connections"]] == ["removed"]
    response = api.post("/api/connections", alice, json={"username": "bob"})
    assert response.status_code == 201, response.text
    assert_connection(response.json()["connection"], "pending")

    # Each lists exactly their own connections, with the current statuses.
    def statuses(person: Person) -> dict[tuple[str, str], str]:
        response = api.get("/api/connections", person)
        assert response.status_code == 200 and set(response.json()) == {"connections"}, response.text
        return {
            (assert_connection(c)["requester"]["username"], c["addressee"]["username"]): c["status"]
            for c in response.json()["connections"]
        }

    assert statuses(alice) == statuses(bob) == {("alice", "bob"): "pending"}
    assert statuses(carol) == statuses(dave) == {("dave", "carol"): "pending"}


# -- conversations and messages -------------------------------------------------------------------
async def test_conversation_list_newest_activity_first_with_unread_counts_and_cursor_pages(
    server: ServerProcess,
) -> None:
    api = Api(server.url)
    alice, bob, carol, dave = (Person(server.url, n).register() for n in ("alice", "bob", "carol", "dave"))
    for other in (bob, carol, dave):
        alice.connect_with(other)
    a, b, c = await Socket(alice).connect(), await Socket(bob).connect(), await Socket(carol).connect()
    try:
        ab = await direct_conversation(a, bob)
        ac = await direct_conversation(a, carol)
        ad = await direct_conversation(a, dave)

        # Not a message yet: the newest started comes first.
        listed = api.get("/api/conversations", alice)
        assert listed.status_code == 200, listed.text
        assert set(listed.json()) == {"conversations", "next_cursor"}
        assert listed.json()["next_cursor"] is None
        assert [s["id"] for s in listed.json()["conversations"]] == [ad, ac, ab]
        for summary in listed.json()["conversations"]:
            assert_summary(summary)
            assert summary["kind"] == "direct" and summary["last_message"] is None and summary["unread_count"] == 0

        await send_ok(b, ab, "b1")
        await send_ok(b, ab, "b2")
        await send_ok(c, ac, "c1")
        await send_ok(a, ad, "a1")
        last = await send_ok(b, ab, "b3")

        listed = api.get("/api/conversations", alice).json()
        assert listed["next_cursor"] is None
        summaries = [assert_summary(s) for s in listed["conversations"]]
        assert [(s["id"], s["last_message"]["body"], s["unread_count"]) for s in summaries] == [
            (ab, "b3", 3),
            (ad, "a1", 0),  # her own messages are not unread to her
            (ac, "c1", 1),
        ]
        assert summaries[0]["last_message"]["id"] == last["id"] and summaries[0]["last_message"]["seq"] == 3
        assert {m["user"]["username"] for m in summaries[0]["members"]} == {"alice", "bob"}
        # Each member has their own unread count.
        for person, expected in ((bob, [(ab, 0)]), (dave, [(ad, 1)])):
            theirs = api.get("/api/conversations", person).json()["conversations"]
            assert [(s["id"], s["unread_count"]) for s in theirs] == expected, person.username

        # Pages of two, then of one.
        first = api.get("/api/conversations", alice, params={"limit": 2}).json()
        assert [s["id"] for s in first["conversations"]] == [ab, ad]
        assert isinstance(first["next_cursor"], str) and first["next_cursor"]
        second = api.get("/api/conversations", alice, params={"limit": 2, "before": first["next_cursor"]}).json()
        assert [s["id"] for s in second["conversations"]] == [ac]
        assert second["next_cursor"] is None
        seen, cursor = [], None
        for _ in range(4):
            params: dict[str, Any] = {"limit": 1, **({"before": cursor} if cursor else {})}
            page = api.get("/api/conversations", alice, params=params)
            assert page.status_code == 200, page.text
            seen += [s["id"] for s in page.json()["conversations"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        assert seen == [ab, ad, ac] and cursor is None
        for limit in (1, 100):
            assert api.get("/api/conversations", alice, params={"limit": limit}).status_code == 200

        for bad in (
            {"limit": 0},
            {"limit": 101},
            {"limit": -1},
            {"limit": "ten"},
            {"before": "garbage!"},
            {"before": "a"},
            {"before": "abc"},
        ):
            assert_error(api.get("/api/conversations", alice, params=bad), 422, "validation_error")
        assert_error(api.get("/api/conversations"), 401, "unauthorized")
    finally:
        for s in (a, b, c):
            await s.disconnect()


async def test_message_history_pages_by_seq_and_is_for_members_only(server: ServerProcess) -> None:
    api = Api(server.url)
    alice, bob, carol = (Person(server.url, n).register() for n in ("alice", "bob", "carol"))
    alice.connect_with(bob)
    alice.connect_with(carol)
    a, b = await Socket(alice).connect(), await Socket(bob).connect()
    try:
        conversation = await direct_conversation(a, bob)
        sent = []
        for i in range(1, 8):
            sent.append(await send_ok(a if i % 2 else b, conversation, f"message {i}"))
        assert [m["seq"] for m in sent] == [1, 2, 3, 4, 5, 6, 7]
        path = f"/api/conversations/{conversation}/messages"

        def page(person: Person, **params: Any) -> tuple[list[int], bool]:
            response = api.get(path, person, params=params)
            assert response.status_code == 200, response.text
            assert set(response.json()) == {"messages", "has_more"}
            assert isinstance(response.json()["has_more"], bool)
            messages = [assert_message(m) for m in response.json()["messages"]]
            return [m["seq"] for m in messages], response.json()["has_more"]

        everything = api.get(path, bob).json()["messages"]
        assert [(m["id"], m["seq"], m["sender_id"], m["body"], m["client_message_id"]) for m in everything] == [
            (m["id"], m["seq"], m["sender_id"], m["body"], m["client_message_id"]) for m in sent
        ]
        assert all(m["conversation_id"] == conversation for m in everything)
        assert len({m["id"] for m in everything}) == 7

        assert page(alice) == ([1, 2, 3, 4, 5, 6, 7], False)
        assert page(alice, limit=3) == ([5, 6, 7], True)
        assert page(alice, before_seq=5, limit=3) == ([2, 3, 4], True)
        assert page(alice, before_seq=4, limit=3) == ([1, 2, 3], False)
        assert page(alice, before_seq=1) == ([], False)
        assert page(alice, after_seq=4, limit=2) == ([5, 6], True)
        assert page(alice, after_seq=5, limit=2) == ([6, 7], False)
        assert page(bob, after_seq=7) == ([], False)
        assert page(bob, after_seq=0, limit=200) == ([1, 2, 3, 4, 5, 6, 7], False)
        assert page(bob, limit=7) == ([1, 2, 3, 4, 5, 6, 7], False)

        for bad in ({"limit": 0}, {"limit": 201}, {"limit": "many"}, {"before_seq": -1}, {"after_seq": "x"}):
            assert_error(api.get(path, alice, params=bad), 422, "validation_error")
        assert_error(api.get(path, carol), 403, "not_a_member")
        assert_error(api.get(f"/api/conversations/{uuid.uuid4()}/messages", alice), 404, "not_found")
        assert_error(api.get("/api/conversations/not-a-uuid/messages", alice), 404, "not_found")
        assert_error(api.get(path), 401, "unauthorized")
    finally:
        await a.disconnect()
        await b.disconnect()


# -- health and unknown paths ---------------------------------------------------------------------
async def test_health_readiness_and_unknown_api_paths(server: ServerProcess) -> None:
    api = Api(server.url)
    response = api.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}, response.text
    assert api.get("/readyz").status_code == 200
    unknown = (("GET", "/api/nope"), ("POST", "/api/nope"), ("GET", "/api/users/me/extra"), ("DELETE", "/api/auth"))
    for method, path in unknown:
        assert_error(api.request(method, path), 404, "not_found")


async def test_an_error_response_leaves_the_keep_alive_connection_usable(server: ServerProcess) -> None:
    """A client (browser, httpx, requests) reuses its connection: an error must not break the next request."""
    Person(server.url, "frank").register()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/healthz").status_code == 200
        errors = [
            lambda: client.get("/api/users/me"),  # 401
            lambda: client.post("/api/auth/login", json={"username": "frank", "password": "wrong password"}),  # 401
            lambda: client.post("/api/auth/register", json={"username": "frank", "password": PASSWORD}),  # 409
            lambda: client.post("/api/auth/register", json={"username": "x"}),  # 422
        ]
        outcomes = []
        for make_error in errors:
            for request in (make_error, lambda: client.get("/healthz")):
                try:
                    outcomes.append(request().status_code)
                except httpx.TransportError as failure:
                    outcomes.append(f"{type(failure).__name__}: {failure}")
        assert outcomes == [401, 200, 401, 200, 409, 200, 422, 200], (
            "a request on a connection that had just carried an error response failed: " + repr(outcomes)
        )
