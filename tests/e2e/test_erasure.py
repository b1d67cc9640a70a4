"""Erasure (contract v2 section 11), on both databases: unique marker strings are planted in message
bodies, edit versions, a deleted message, a username, a display name, an attachment's name and bytes;
then the account is erased (and a message deleted for everyone), and no marker is found anywhere: not
in a full dump (`pg_dump`; the SQLite file, its WAL and shared memory), not in `parley audit export`,
not in `parley audit show --at` of every earlier moment, not in the blob store, and still not after
`parley projections rebuild`. The log stays append-only (no event row changes), and rebuild, verify,
export and time travel keep working and show the tombstones."""

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.e2e.test_attachments import uploaded
from tests.e2e.test_sessions import refused_handshake
from tests.support.clients import Person, Socket
from tests.support.databases import database
from tests.support.server import ServerProcess
from tests.support.waiting import until


def parley(server: ServerProcess, *args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **server.env, **({"PARLEY_DATABASE_URL": database_url} if database_url else {})}
    return subprocess.run(
        [sys.executable, "-m", "interfaces.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def marker(kind: str) -> str:
    return f"mk{kind}{uuid.uuid4().hex[:12]}"


def database_bytes(database_url: str) -> bytes:
    """Everything the database holds, as an operator could read it off the machine."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())
    url = urlsplit(database_url)
    dump = subprocess.run(
        ["pg_dump", "-h", url.hostname or "127.0.0.1", "-U", url.username or "postgres", url.path.lstrip("/")],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return dump.stdout


def event_rows(database_url: str) -> list[tuple[Any, ...]]:
    """The stored events, as rows: the log is append-only, so these only ever grow."""
    if database_url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            return list(db.execute("SELECT originator_id, originator_version, state FROM stored_events ORDER BY rowid"))
    import psycopg

    with psycopg.connect(database_url) as db:
        return list(
            db.execute("SELECT originator_id, originator_version, state FROM parley_events ORDER BY notification_id")
        )


def found(markers: list[str], text: bytes | str) -> list[str]:
    data = text if isinstance(text, bytes) else text.encode()
    return [m for m in markers if m.encode() in data]


def ready(server: ServerProcess) -> bool:
    return httpx.get(server.url + "/readyz", timeout=5).status_code == 200


async def test_an_erased_account_and_a_deleted_message_leave_no_trace(
    server: ServerProcess, database_url: str, tmp_path: Path
) -> None:
    name, shown, body, edited, deleted_text, filename, content = (
        marker("name"),
        marker("display"),
        marker("body"),
        marker("edit"),
        marker("gone"),
        marker("file"),
        marker("bytes"),
    )
    markers = [name, shown, body, edited, deleted_text, filename, content]
    alice = Person(server.url, name, display_name=f"Alice {shown}").register()
    bob = Person(server.url, f"bob-{uuid.uuid4().hex[:6]}").register()
    carol = Person(server.url, f"carol-{uuid.uuid4().hex[:6]}").register()
    alice.connect_with(bob)
    alice.connect_with(carol)
    a, b = await Socket(alice).connect(), await Socket(bob).connect()
    moments = [datetime.now(UTC).isoformat()]

    direct = (await a.call("start_conversation", {"user_ids": [bob.id]}))["conversation"]["id"]
    sent = (await a.send(direct, f"first words {body}"))["message"]
    moments.append(datetime.now(UTC).isoformat())
    assert (await a.call("edit_message", {"conversation_id": direct, "message_id": sent["id"], "body": edited}))["ok"]
    kept = (await b.send(direct, "bob's words stay"))["message"]
    assert (await a.call("react", {"conversation_id": direct, "message_id": kept["id"], "emoji": "👍", "add": True}))[
        "ok"
    ]
    group = (await a.call("start_conversation", {"user_ids": [bob.id, carol.id], "title": "Team"}))["conversation"][
        "id"
    ]
    upload = uploaded(alice, f"{filename}.txt", f"the file {content}".encode())
    with_file = {"conversation_id": group, "client_message_id": str(uuid.uuid4()), "body": "see the file"}
    assert (await a.call("send_message", {**with_file, "attachment_ids": [upload["id"]]}))["ok"]
    gone = (await b.send(group, f"bob regrets {deleted_text}"))["message"]
    moments.append(datetime.now(UTC).isoformat())
    assert (await b.call("delete_message", {"conversation_id": group, "message_id": gone["id"]}))["ok"]
    rows_before = event_rows(database_url)
    assert found(markers, b"".join(bytes(r[2]) for r in rows_before)) == []  # sealed in the log from the start...
    assert all(m in parley(server, "audit", "export").stdout for m in (name, body, edited, filename))  # ...readable

    with alice.http() as http:
        wrong = http.request("DELETE", "/api/users/me", json={"password": "not the password"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
        assert http.get("/api/users/me").status_code == 200  # nothing happened
        erased = http.request("DELETE", "/api/users/me", json={"password": alice.password})
    assert erased.status_code == 200 and erased.json() == {}
    await until(lambda: not a.client.connected, "the erased account's socket is disconnected")
    assert (
        httpx.get(server.url + "/api/users/me", headers={"Authorization": f"Bearer {alice.token}"}).status_code == 401
    )
    assert await refused_handshake(alice)
    await until(lambda: ready(server), "/readyz answers 200")

    # As everyone sees it now: a deleted user, tombstones, reactions gone, the group left.
    history = (await b.call("get_messages", {"conversation_id": direct}))["messages"]
    hers = [m for m in history if m["sender_id"] == alice.id]
    assert hers and all(m["deleted"] and m["body"] == "" for m in hers)
    assert [m["body"] for m in history if m["id"] == kept["id"]] == ["bob's words stay"]
    assert all(m["reactions"] == [] for m in history)
    summary = next(c for c in (await b.call("get_conversations"))["conversations"] if c["id"] == direct)
    her = next(m["user"] for m in summary["members"] if m["user"]["id"] == alice.id)
    assert her == {**her, "username": None, "display_name": "Deleted user", "deleted": True}
    team = next(c for c in (await b.call("get_conversations"))["conversations"] if c["id"] == group)
    assert alice.id not in [m["user"]["id"] for m in team["members"]]
    assert any(m["role"] == "owner" for m in team["members"])  # ownership passed on
    with bob.http() as http:
        assert all(c["status"] != "connected" for c in http.get("/api/connections").json()["connections"])
    assert httpx.get(server.url + upload["url"]).status_code == 404  # the bytes are gone

    # Nothing left to find: the database's files, the blob store, an export, time travel.
    assert found(markers, database_bytes(database_url)) == []
    assert found(markers, b"".join(p.read_bytes() for p in server.blob_dir.rglob("*") if p.is_file())) == []
    export = parley(server, "audit", "export")
    assert export.returncode == 0, export.stderr
    assert found(markers, export.stdout) == []
    for conversation in (direct, group):
        for moment in moments:
            shown_then = parley(server, "audit", "show", "--conversation", conversation, "--at", moment, "--json")
            if "did not exist yet" in shown_then.stderr:
                continue
            assert shown_then.returncode == 0, shown_then.stderr
            assert found(markers, shown_then.stdout) == []
    then = parley(server, "audit", "show", "--conversation", direct, "--at", moments[1], "--json").stdout
    assert '"deleted": true' in then  # her message, as it was then, is a tombstone now

    # The log only grew; rebuild and verify work, and leave nothing either.
    rows_after = event_rows(database_url)
    assert rows_after[: len(rows_before)] == rows_before and len(rows_after) > len(rows_before)
    rebuilt = parley(server, "projections", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    verified = parley(server, "projections", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert found(markers, database_bytes(database_url)) == []

    # A whole-store export (with credentials, as a migration needs) imports into a new store: the
    # tombstones come along, the erased text does not.
    whole = tmp_path / "whole.jsonl"
    (tmp_path / "imported").mkdir()
    assert parley(server, "audit", "export", "--with-credentials", "--output", str(whole)).returncode == 0
    with database(database_url.split(":")[0].replace("postgresql", "postgres"), tmp_path / "imported") as target:
        imported = parley(server, "audit", "import", str(whole), database_url=target)
        assert imported.returncode == 0, imported.stderr
        assert found(markers, database_bytes(target)) == []
        moved = parley(server, "audit", "show", "--conversation", direct, "--json", database_url=target)
        assert moved.returncode == 0 and '"deleted": true' in moved.stdout and "bob's words stay" in moved.stdout

    # The username is free again.
    again = Person(server.url, name).register()
    assert again.id != alice.id
    await b.disconnect()


async def test_parley_users_erase_refuses_the_tokens_and_disconnects_the_sockets(server: ServerProcess) -> None:
    alice = Person(server.url, f"alice-{uuid.uuid4().hex[:6]}").register()
    bob = Person(server.url, f"bob-{uuid.uuid4().hex[:6]}").register()
    alice.connect_with(bob)
    a = await Socket(alice).connect()
    assert parley(server, "users", "erase", "nobody-here", "--yes").returncode == 2
    erased = parley(server, "users", "erase", alice.username, "--yes")
    assert erased.returncode == 0, erased.stderr
    await until(lambda: not a.client.connected, "the erased account's socket is disconnected", seconds=10)
    assert (
        httpx.get(server.url + "/api/users/me", headers={"Authorization": f"Bearer {alice.token}"}).status_code == 401
    )
    with bob.http() as http:
        connections = http.get("/api/connections").json()["connections"]
    assert [c["status"] for c in connections] == ["removed"]
    other = next(c[side] for c in connections for side in ("requester", "addressee") if c[side]["id"] == alice.id)
    assert other["deleted"] is True and other["username"] is None and other["display_name"] == "Deleted user"


async def test_a_replaced_password_hash_can_no_longer_be_read_from_the_log(server: ServerProcess) -> None:
    alice = Person(server.url, f"alice-{uuid.uuid4().hex[:6]}").register()
    with alice.http() as http:
        changed = http.post(
            "/api/auth/password", json={"current_password": alice.password, "new_password": "another good one"}
        )
    assert changed.status_code == 200, changed.text
    await until(lambda: ready(server), "/readyz answers 200")
    export = parley(server, "audit", "export", "--with-credentials")
    assert export.returncode == 0, export.stderr
    records = [json.loads(line) for line in export.stdout.splitlines() if line.strip()]
    hers = [r for r in records if r["aggregate_id"] == alice.id]
    assert [r["type"] for r in hers] == ["UserRegistered", "PasswordChanged"]  # the log kept both events
    assert hers[0]["data"]["password_hash"] is None  # the replaced hash: its key is gone
    assert hers[1]["data"]["password_hash"].startswith("$argon2id$")  # the one in use
    assert hers[0]["data"]["username"] == alice.username  # the rest of the event reads as before
