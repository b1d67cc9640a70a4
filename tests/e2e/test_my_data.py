"""A person downloads everything Parley holds about them (`GET /api/users/me/export`), built from the
events, on a real server over SQLite and PostgreSQL: their messages with every version, their reactions,
their conversations, connections, blocks and uploads; never someone else's messages nor a password hash.
And an operator's `parley audit export` leaves credentials out unless `--with-credentials`, which is
what `parley audit import` needs."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

from interfaces.contract import MyDataExport
from tests.support.clients import Person, Socket
from tests.support.contract import assert_error, conforms
from tests.support.server import ServerProcess


def download(person: Person) -> tuple[httpx.Response, dict[str, Any]]:
    with person.http() as http:
        response = http.get("/api/users/me/export")
    assert response.status_code == 200, response.text
    return response, conforms(MyDataExport, response.json())


async def ok(socket: Socket, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    ack = await socket.call(event, payload)
    assert ack["ok"] is True, (event, ack)
    return ack


async def test_the_export_holds_what_is_theirs_from_the_events_and_nothing_of_others(server: ServerProcess) -> None:
    alice, bob, carol = (Person(server.url, n).register() for n in ("alice", "bob", "carol"))
    alice.connect_with(bob)
    alice.connect_with(carol)
    with alice.http() as http:  # a password change: the export tells when, never the hash
        changed = http.post(
            "/api/auth/password", json={"current_password": alice.password, "new_password": "a new passphrase"}
        )
        assert changed.status_code == 200, changed.text
    alice.token, alice.password = changed.json()["access_token"], "a new passphrase"
    with alice.http() as http:
        upload = http.post("/api/uploads", files={"file": ("notes.txt", b"plain notes", "text/plain")}).json()["upload"]

    a, b = await Socket(alice).connect(), await Socket(bob).connect()
    try:
        group = (await ok(a, "start_conversation", {"user_ids": [bob.id, carol.id], "title": "Plans"}))["conversation"]
        g = group["id"]
        mid = lambda ack: ack["message"]["id"]  # noqa: E731
        hello = mid(
            await ok(a, "send_message", {"conversation_id": g, "client_message_id": str(uuid.uuid4()), "body": "hello"})
        )
        for body in ("hello there", "hello everyone"):
            await ok(a, "edit_message", {"conversation_id": g, "message_id": hello, "body": body})
        gone = mid(await a.send(g, "a regret"))
        await ok(a, "delete_message", {"conversation_id": g, "message_id": gone})
        payload = {"conversation_id": g, "client_message_id": str(uuid.uuid4()), "body": "see attached"}
        attached = mid(await ok(a, "send_message", {**payload, "attachment_ids": [upload["id"]]}))
        theirs = mid(
            await ok(
                b,
                "send_message",
                {"conversation_id": g, "client_message_id": str(uuid.uuid4()), "body": "bob's own words"},
            )
        )
        await ok(b, "edit_message", {"conversation_id": g, "message_id": theirs, "body": "bob's own second words"})
        react = {"conversation_id": g, "message_id": theirs}
        await ok(a, "react", {**react, "emoji": "👍", "add": True})
        await ok(a, "react", {**react, "emoji": "🎉", "add": True})
        await ok(a, "react", {**react, "emoji": "🎉", "add": False})
        await ok(b, "react", {"conversation_id": g, "message_id": hello, "emoji": "😀", "add": True})
        direct = (await ok(a, "start_conversation", {"user_ids": [bob.id]}))["conversation"]["id"]
        in_direct = mid(await a.send(direct, "just us"))
        await ok(a, "leave_group", {"conversation_id": g})  # a former member: the group is still theirs to export
    finally:
        await a.disconnect()
        await b.disconnect()
    with alice.http() as http:
        assert http.post(f"/api/users/{carol.id}/block").status_code == 200
        assert http.delete(f"/api/users/{carol.id}/block").status_code == 200

    response, export = download(alice)
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"] == 'attachment; filename="parley-export.json"'
    raw = response.text
    assert "bob's own" not in raw and "$argon2" not in raw and "password_hash" not in raw

    assert export["user_id"] == alice.id and export["format"] == "parley-my-data"
    profile = export["profile"]
    assert (profile["id"], profile["username"], profile["display_name"]) == (alice.id, "alice", "alice")
    assert len(profile["password_changed_at"]) == 1 and profile["created_at"] < profile["password_changed_at"][0]

    messages = {m["id"]: m for m in export["messages"]}
    assert set(messages) == {hello, gone, attached, in_direct}
    edited = messages[hello]
    assert [v["body"] for v in edited["versions"]] == ["hello", "hello there", "hello everyone"]
    assert edited["body"] == "hello everyone" and edited["edited_at"] == edited["versions"][-1]["at"]
    assert (edited["conversation_id"], edited["seq"], edited["deleted"]) == (g, 1, False)
    assert messages[gone]["deleted"] is True and messages[gone]["deleted_at"] > messages[gone]["sent_at"]
    assert messages[in_direct]["conversation_id"] == direct and messages[in_direct]["edited_at"] is None
    [file] = messages[attached]["attachments"]
    assert (file["id"], file["filename"], file["size"], file["message_id"]) == (upload["id"], "notes.txt", 11, attached)
    assert [u["id"] for u in export["uploads"]] == [upload["id"]] and export["uploads"][0]["position"] == 0

    assert [(r["message_id"], r["emoji"], r["action"]) for r in export["reactions"]] == [
        (theirs, "👍", "added"),
        (theirs, "🎉", "added"),
        (theirs, "🎉", "removed"),
    ]

    conversations = {c["id"]: c for c in export["conversations"]}
    assert set(conversations) == {g, direct}
    left = conversations[g]
    assert (left["kind"], left["title"], left["started_by"]) == ("group", "Plans", alice.id)
    [period] = left["periods"]
    assert (period["from_seq"], period["ended"]) == (1, "left") and period["to_seq"] > 1
    assert left["roles"][0]["role"] == "owner"
    assert [x["action"] for x in left["actions"]] == ["role_changed"]  # ownership passed on as they left
    assert conversations[direct]["periods"][0]["to_seq"] is None

    other = {c["other_user_id"]: [h["status"] for h in c["history"]] for c in export["connections"]}
    assert other == {bob.id: ["pending", "connected"], carol.id: ["pending", "connected", "removed"]}
    assert [(x["blocked_user_id"], [h["status"] for h in x["history"]]) for x in export["blocks"]] == [
        (carol.id, ["blocked", "unblocked"])
    ]

    # Bob's export has his message with both versions, and none of Alice's.
    _, bobs = download(bob)
    assert [(m["id"], [v["body"] for v in m["versions"]]) for m in bobs["messages"]] == [
        (theirs, ["bob's own words", "bob's own second words"])
    ]
    assert [r["emoji"] for r in bobs["reactions"]] == ["😀"] and bobs["uploads"] == []


async def test_a_long_history_streams_in_pieces_while_the_server_answers_others(server: ServerProcess) -> None:
    alice, bob = Person(server.url, "alice").register(), Person(server.url, "bob").register()
    alice.connect_with(bob)
    a = await Socket(alice).connect()
    try:
        conversation = (await ok(a, "start_conversation", {"user_ids": [bob.id]}))["conversation"]["id"]
        for n in range(300):
            await ok(
                a,
                "send_message",
                {"conversation_id": conversation, "client_message_id": str(uuid.uuid4()), "body": f"{n} " + "x" * 300},
            )
    finally:
        await a.disconnect()
    with alice.http() as http, http.stream("GET", "/api/users/me/export") as response:
        assert response.status_code == 200
        assert response.headers.get("transfer-encoding") == "chunked" and "content-length" not in response.headers
        pieces = response.iter_bytes()
        received = next(pieces)
        assert received.startswith(b'{"format": "parley-my-data"')
        with bob.http() as other:  # the export holds no lock and no loop: others are served meanwhile
            assert other.get("/api/users/me").status_code == 200
        received += b"".join(pieces)
    export = conforms(MyDataExport, json.loads(received))
    assert [m["seq"] for m in export["messages"]] == list(range(1, 301))
    assert export["messages"][-1]["body"] == "299 " + "x" * 300


def test_the_export_needs_a_valid_token(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert_error(http.get("/api/users/me/export"), 401, "unauthorized")
        assert_error(http.get("/api/users/me/export", headers={"Authorization": "Bearer nope"}), 401, "unauthorized")


def parley(server: ServerProcess, *args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **server.env, **({"PARLEY_DATABASE_URL": database_url} if database_url else {})}
    return subprocess.run(
        [sys.executable, "-m", "interfaces.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_audit_export_leaves_credentials_out_unless_asked_and_import_needs_them(
    server: ServerProcess, tmp_path: Path
) -> None:
    Person(server.url, "alice").register().connect_with(Person(server.url, "bob").register())

    plain = parley(server, "audit", "export")
    assert plain.returncode == 0, plain.stderr
    records = [json.loads(line) for line in plain.stdout.splitlines()]
    registered = [r for r in records if r["type"] == "UserRegistered"]
    assert len(registered) == 2 and all(r["omitted"] == ["password_hash"] for r in registered)
    assert not any("password_hash" in r["data"] for r in records) and "$argon2" not in plain.stdout
    assert "--with-credentials" in plain.stderr

    (tmp_path / "plain.jsonl").write_text(plain.stdout)
    target = f"sqlite:///{tmp_path / 'moved.db'}"
    refused = parley(server, "audit", "import", str(tmp_path / "plain.jsonl"), database_url=target)
    assert refused.returncode == 2 and "--with-credentials" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr

    full = tmp_path / "full.jsonl"
    assert parley(server, "audit", "export", "--with-credentials", "--output", str(full)).returncode == 0
    hashes = [json.loads(line)["data"].get("password_hash") for line in full.read_text().splitlines()]
    assert sum(1 for h in hashes if h and h.startswith("$argon2")) == 2
    imported = parley(server, "audit", "import", str(full), database_url=target)  # nothing was written before
    assert imported.returncode == 0, imported.stderr
    assert f"Imported {len(hashes)} events" in imported.stdout
