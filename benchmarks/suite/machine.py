"""The machine a run measures on, and CPU and memory of processes over a measured window (from /proc)."""

import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.loadgen import raise_nofile
from benchmarks.suite.config import ROOT
from tests.support.databases import POSTGRES_ADMIN_URL


def git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.rstrip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().split("\n")
    total_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=5) as conn:
            postgres = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    except psycopg.Error as error:
        postgres = f"unreachable: {error}".splitlines()[0]
    import sqlite3
    from importlib.metadata import version

    dirty = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines() if line.strip()]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model,
        "ram_gib": round(total_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "postgresql": postgres,
        "sqlite": sqlite3.sqlite_version,
        **{
            name.replace("-", "_"): version(name)
            for name in ("python-socketio", "python-engineio", "uvicorn", "aiohttp", "eventsourcing", "psycopg")
        },
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty_files": dirty,
        "ulimit_nofile": raise_nofile(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def cpu_ticks(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def machine_busy() -> tuple[int, int]:
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:9]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


class CpuWindow:
    """CPU used by given processes and by the whole machine over a window, in cores."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def __enter__(self) -> "CpuWindow":
        self.began = time.monotonic()
        self.ticks = {name: cpu_ticks(pid) for name, pid in self.pids.items()}
        self.busy = machine_busy()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.seconds = time.monotonic() - self.began
        self.used = {name: cpu_ticks(pid) - self.ticks[name] for name, pid in self.pids.items()}
        busy = machine_busy()
        total = busy[1] - self.busy[1]
        self.machine_cores = (busy[0] - self.busy[0]) / total * (os.cpu_count() or 1) if total else None

    def report(self, client_cpu_seconds: float | None = None, window: float | None = None) -> dict[str, Any]:
        seconds = window or self.seconds
        out = {f"{name}_cores": round(used / self.seconds, 2) for name, used in self.used.items()}
        if client_cpu_seconds is not None:
            out["load_generator_cores"] = round(client_cpu_seconds / seconds, 2)
        out["machine_busy_cores"] = round(self.machine_cores, 2) if self.machine_cores is not None else None
        return out
