"""What an operator does, with the real `parley` command beside a running server: status, verify,
rebuild under live traffic (readiness stays 200), export, time travel, import."""

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.support.clients import Person, Socket
from tests.support.server import ServerProcess


def parley(server: ServerProcess, *args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **server.env}
    if database_url:
        env["PARLEY_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "interfaces.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


async def test_an_operator_verifies_rebuilds_under_load_exports_and_travels_in_time(
    server: ServerProcess, database_url: str, tmp_path: Path
) -> None:
    alice = Person(server.url, "alice").register()
    bob = Person(server.url, "bob").register()
    alice.connect_with(bob)
    a, b = await Socket(alice).connect(), await Socket(bob).connect()
    conversation = (await a.call("start_conversation", {"user_ids": [bob.id]}))["conversation"]["id"]
    for n in range(20):
        assert (await (a if n % 2 else b).send(conversation, f"before {n}"))["ok"]
    await b.call("mark_as_read", {"conversation_id": conversation, "up_to_seq": 10})
    position_then = httpx.get(f"{server.url}/readyz").json()["position"]

    status = parley(server, "projections", "status")
    assert status.returncode == 0 and "read_models" in status.stdout and status.stdout.split()[-1] == "0"
    verified = parley(server, "projections", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "equal a rebuild" in verified.stdout

    # Rebuild while clients send and a load balancer polls readiness.
    ready_codes: list[int] = []
    polling = threading.Event()

    def poll() -> None:
        while not polling.is_set():
            ready_codes.append(httpx.get(f"{server.url}/readyz", timeout=10).status_code)
            time.sleep(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    rebuild = asyncio.create_task(asyncio.to_thread(parley, server, "projections", "rebuild"))
    sent = 0
    while not rebuild.done():
        assert (await a.send(conversation, f"during {sent}"))["ok"]
        sent += 1
    result = await rebuild
    polling.set()
    poller.join()
    assert result.returncode == 0, result.stderr
    assert "swapped them in" in result.stdout
    assert sent > 5, "the rebuild did not overlap live sending"
    assert ready_codes and set(ready_codes) == {200}, ready_codes
    seqs: list[int] = []
    while True:  # every page, oldest first: the rebuild may have overlapped more than one page of sends
        page = await b.call("get_messages", {"conversation_id": conversation, "after_seq": len(seqs), "limit": 200})
        seqs += [m["seq"] for m in page["messages"]]
        if not page["has_more"]:
            break
    assert seqs == list(range(1, 21 + sent))
    assert parley(server, "projections", "verify").returncode == 0

    # Time travel: the CLI and the HTTP API, members only.
    shown = parley(server, "audit", "show", "--conversation", conversation, "--at", str(position_then), "--json")
    assert shown.returncode == 0, shown.stderr
    snapshot = json.loads(shown.stdout)
    assert [m["seq"] for m in snapshot["messages"]] == list(range(1, 21))
    # bob sent the even steps (seq 1, 3, ...), alice the odd ones; bob read up to seq 10
    assert {m["user"]["username"]: m["unread_count"] for m in snapshot["members"]} == {"alice": 10, "bob": 5}
    text = parley(server, "audit", "show", "--conversation", conversation, "--at", str(position_then))
    assert "before 19" in text.stdout and "during" not in text.stdout
    with bob.http() as http:
        over_http = http.get(f"/api/conversations/{conversation}/history", params={"at": position_then}).json()
        assert over_http["messages"] == snapshot["messages"]
    eve = Person(server.url, "eve").register()
    with eve.http() as http:
        refused = http.get(f"/api/conversations/{conversation}/history")
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_a_member")

    # Export one conversation: JSON Lines on stdout, nothing else.
    exported = parley(server, "audit", "export", "--conversation", conversation)
    assert exported.returncode == 0
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [r["type"] for r in records][:2] == ["ConversationStarted", "MessageSent"]
    assert {r["aggregate_id"] for r in records} == {conversation}

    # A whole-store export imports into a new SQLite store with nothing lost.
    whole = tmp_path / "all.jsonl"
    assert parley(server, "audit", "export", "--with-credentials", "--output", str(whole)).returncode == 0
    target = f"sqlite:///{tmp_path / 'moved.db'}"
    imported = parley(server, "audit", "import", str(whole), database_url=target)
    assert imported.returncode == 0, imported.stderr
    again = parley(server, "audit", "import", str(whole), database_url=target)
    assert again.returncode == 2 and "not empty" in again.stderr
    moved = ServerProcess(target).start()
    try:
        with bob.http() as http:
            http.base_url = httpx.URL(moved.url)
            token = http.post("/api/auth/login", json={"username": "bob", "password": bob.password}).json()
            http.headers["Authorization"] = f"Bearer {token['access_token']}"
            page = http.get(f"/api/conversations/{conversation}/messages", params={"limit": 200}).json()
        newest = [m["seq"] for m in page["messages"]]  # the newest page: nothing lost at its end, no gap
        assert newest == list(range(max(1, 21 + sent - 200), 21 + sent))
    finally:
        moved.stop()
    await a.disconnect()
    await b.disconnect()
