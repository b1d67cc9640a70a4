"""Prometheus metrics (PARLEY_METRICS_PORT): a real `parley serve` scraped after a short chat counts what
was done, on a port of its own; without the setting the process listens on its public port only."""

import json
import os
import re
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
import socketio
from prometheus_client.parser import text_string_to_metric_families

from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap
from tests.support.clients import Person, Socket
from tests.support.databases import database
from tests.support.fakes import PlainPasswords
from tests.support.server import ProjectorProcess, ServerProcess, free_port
from tests.support.waiting import until

SENDS = 5
DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana-dashboard.json"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> Samples:
    """Every sample of the endpoint, parsed as Prometheus parses it."""
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def dashboard_series() -> set[str]:
    """The Parley series that docs/grafana-dashboard.json queries."""
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    series = {name for expr in exprs for name in re.findall(r"\bparley_[a-z_]+", expr)}
    assert len(series) >= 8, series
    return series


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on (from /proc: its sockets' inodes in the LISTEN state)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


async def test_a_short_chat_is_counted_on_the_metrics_port(database_url: str) -> None:
    metrics_port = free_port()
    server = ServerProcess(database_url, env={"PARLEY_METRICS_PORT": str(metrics_port)}).start()
    try:
        assert server.process is not None
        assert listening_ports(server.process.pid) == {server.port, metrics_port}
        assert f"Metrics at http://127.0.0.1:{metrics_port}/metrics" in server.log()
        public = httpx.get(f"{server.url}/metrics", timeout=5)
        assert "parley_socket_acks" not in public.text  # never on the public port

        alice = Person(server.url, f"alice-{uuid.uuid4().hex[:8]}").register()
        bob = Person(server.url, f"bob-{uuid.uuid4().hex[:8]}").register()
        alice.connect_with(bob)
        a, b = await Socket(alice).connect(), await Socket(bob).connect()
        await until(lambda: value(scrape(metrics_port), "parley_connected_sockets") == 2, "two sockets counted")

        started = await a.call("start_conversation", {"user_ids": [bob.id]})
        assert started["ok"] is True, started
        conversation_id = started["conversation"]["id"]
        for number in range(SENDS):
            sent = await a.send(conversation_id, f"message {number}")
            assert sent["ok"] is True, sent
        refused = await a.send(str(uuid.uuid4()), "to a conversation that does not exist")
        assert refused["ok"] is False and refused["error"]["code"] == "not_found", refused

        samples = scrape(metrics_port)
        acks = "parley_socket_acks_total"
        assert value(samples, acks, event="send_message", outcome="ok") == SENDS
        assert value(samples, acks, event="send_message", outcome="not_found") == 1
        assert value(samples, acks, event="start_conversation", outcome="ok") == 1
        assert value(samples, "parley_socket_ack_seconds_count", event="send_message") == SENDS + 1
        assert value(samples, "parley_socket_ack_seconds_bucket", event="send_message", le="+Inf") == SENDS + 1
        assert (value(samples, "parley_socket_ack_seconds_sum", event="send_message") or 0) > 0
        errors = {dict(labels)["code"]: v for (name, labels), v in samples.items() if name == "parley_errors_total"}
        assert errors == {"not_found": 1}, errors  # the refused send, and nothing else went wrong
        forged = socketio.AsyncClient(reconnection=False)  # a handshake refused for its token counts too
        with pytest.raises(socketio.exceptions.ConnectionError):
            await forged.connect(server.url, auth={"token": "forged"}, transports=["websocket"], wait_timeout=5)
        assert value(scrape(metrics_port), "parley_errors_total", code="unauthorized", status="401") == 1
        # Every command (registrations, the connection, the conversation, the sends) went through group
        # commit: the sizes of its groups add up to at least the sends.
        assert (value(samples, "parley_group_commit_size_count") or 0) >= 1
        assert (value(samples, "parley_group_commit_size_sum") or 0) >= SENDS + 1

        def caught_up() -> bool:
            now = scrape(metrics_port)
            return value(now, "parley_projector_lag_events") == 0 and value(now, "parley_projector_lag_seconds") == 0

        await until(caught_up, "the projector's lag is 0 once it caught up")
        samples = scrape(metrics_port)
        assert (value(samples, "parley_projector_position") or 0) > 0
        assert (value(samples, "parley_projector_events_total") or 0) > 0
        assert value(samples, "parley_projector_failing_seconds") == 0

        # The operator's dashboard asks only for series that exist.
        scraped = {name for name, _ in samples}
        assert dashboard_series() - scraped == set()

        await b.disconnect()
        await until(lambda: value(scrape(metrics_port), "parley_connected_sockets") == 1, "a closed socket uncounted")
        await a.disconnect()
    finally:
        server.stop()


async def test_parley_projections_run_serves_its_lag(tmp_path: Path) -> None:
    """The process that projects exports the projector's metrics: it applies what another wrote."""
    metrics_port = free_port()
    with database("sqlite", tmp_path) as url:
        projector = ProjectorProcess(url, env={"PARLEY_METRICS_PORT": str(metrics_port)}).start()
        writer = bootstrap(
            Settings(database_url=url, jwt_secret="s" * 40), passwords=PlainPasswords(), projecting=False
        )
        try:
            assert projector.process is not None
            assert listening_ports(projector.process.pid) == {metrics_port}
            writer.app.register_user("ada", "correct horse battery")
            head = writer.projector.head()

            def applied() -> bool:
                now = scrape(metrics_port)
                return (
                    value(now, "parley_projector_position") == head and value(now, "parley_projector_lag_events") == 0
                )

            await until(applied, "the projecting process reports the writer's events applied")
            samples = scrape(metrics_port)
            assert value(samples, "parley_projector_events_total") == head
            assert value(samples, "parley_projector_lag_seconds") == 0
        finally:
            writer.close()
            projector.stop()


def test_without_the_setting_no_metrics_are_served(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as url:
        server = ServerProcess(url).start()
        try:
            assert server.process is not None
            assert listening_ports(server.process.pid) == {server.port}  # its public port, nothing else
            assert "Metrics at" not in server.log()
            public = httpx.get(f"{server.url}/metrics", timeout=5)
            assert "parley_socket_acks" not in public.text
        finally:
            server.stop()


def test_a_metrics_port_in_use_stops_the_server_with_one_line(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as url, socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = {**os.environ, "PARLEY_DATABASE_URL": url, "PARLEY_METRICS_PORT": str(port)}
        done = subprocess.run(
            [sys.executable, "-m", "interfaces.cli", "serve", "--port", str(free_port())],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    assert f"cannot serve metrics on 127.0.0.1:{port}" in done.stderr
