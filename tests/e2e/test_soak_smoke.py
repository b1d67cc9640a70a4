"""The soak run (benchmarks/soak) in its short mode, so it keeps working: a minute of chat through two
server processes while each fault strikes once (a server killed, PostgreSQL restarted, Redis
restarted, the projector killed), then every check of the full run."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_short_soak_loses_nothing_and_recovers_from_every_fault(tmp_path: Path) -> None:
    results = tmp_path / "soak.json"
    command = [
        sys.executable,
        "-m",
        "benchmarks.soak",
        "--seconds",
        "50",
        "--fault-every",
        "10",
        "--rate",
        "30",
        "--pairs",
        "8",
        "--group",
        "4",
        "--down-seconds",
        "2",
        "--drain-seconds",
        "15",
        "--results",
        str(results),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=110)
    tail = done.stdout[-4000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    body = json.loads(results.read_text())
    assert [f["fault"] for f in body["faults"]] == [
        "server_kill",
        "postgres_restart",
        "redis_restart",
        "projector_kill",
    ]
    assert all(f["recovery_s"] is not None for f in body["faults"]), body["faults"]
    checks = body["checks"]
    assert checks["acked_stored_once"]["acked"] > 1000 and checks["acked_stored_once"]["lost"] == 0
    assert checks["every_send_acknowledged"]["unacked"] == 0
    assert all(check["ok"] is not False for check in checks.values()), checks
