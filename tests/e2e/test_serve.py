"""`parley serve` starts with one line saying where it listens, or exits non-zero with one line saying
why not; its log is one JSON object per line."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.clients import Person, Socket
from tests.support.server import ServerProcess, free_port


def serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interfaces.cli", "serve", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_server_that_cannot_start_says_why_in_one_line(tmp_path: Path) -> None:
    sqlite = {"PARLEY_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = serve(sqlite, "--port", port)
    assert result.returncode != 0 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

    cases = {
        "PARLEY_DATABASE_URL must start with": {"PARLEY_DATABASE_URL": "mysql://x"},
        "PARLEY_JWT_SECRET must be set": {
            "PARLEY_DATABASE_URL": "postgresql://postgres@127.0.0.1/postgres",
            "PARLEY_JWT_SECRET": "",
        },
        "cannot open the database": {
            "PARLEY_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere",
            "PARLEY_JWT_SECRET": "s" * 40,
        },
        "Bad setting": {**sqlite, "PARLEY_SEND_BURST": "many"},
    }
    for reason, env in cases.items():
        result = serve(env, "--port", str(free_port()))
        assert result.returncode != 0, reason
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("parley: ") and reason in lines[0], result.stderr


async def test_the_log_is_json_lines_with_request_and_socket_ids(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite:///{tmp_path / 'p.db'}").start()
    try:
        alice = Person(server.url, "alice").register()
        response = httpx.get(f"{server.url}/api/users/me", headers={"Authorization": f"Bearer {alice.token}"})
        request_id = response.headers["x-request-id"]
        s = await Socket(alice).connect()
        assert (await s.call("get_conversations"))["ok"]
        await s.disconnect()
    finally:
        server.stop()
    lines = [line for line in server.log().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    assert any(r.get("context_id") == f"req:{request_id}" and r.get("path") == "/api/users/me" for r in records)
    assert any(str(r.get("context_id", "")).startswith("socket:") and "connected" in r["message"] for r in records)
    assert server.log().startswith("Parley is running on http://127.0.0.1:")
