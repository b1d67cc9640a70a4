"""The machine a run measures on, and CPU and memory of processes over a measured window (from /proc)."""

import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
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


Pids = int | Iterable[int] | Callable[[], Iterable[int]]


def pids_named(*names: str) -> list[int]:
    """Every process of the machine whose command name (/proc/<pid>/comm) is one of `names`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in names:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class CpuWindow:
    """CPU used by given processes, or groups of processes, and by the whole machine over a window, in cores.

    Each name maps to a pid, a collection of pids (the group's CPU is their sum), or a function listing
    the group's pids, called at the start and again at the end so that a process that appeared during
    the window counts (all of its CPU, which it used within the window) and one that ended counts what it
    used up to the start only (its last part is lost: /proc no longer has it)."""

    def __init__(self, pids: Mapping[str, Pids]) -> None:
        self.pids = pids

    def _members(self, name: str) -> list[int]:
        spec = self.pids[name]
        if isinstance(spec, int):
            return [spec]
        return list(spec() if callable(spec) else spec)

    def __enter__(self) -> "CpuWindow":
        self.began = time.monotonic()
        self.ticks = {name: {pid: cpu_ticks(pid) for pid in self._members(name)} for name in self.pids}
        self.busy = machine_busy()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.seconds = time.monotonic() - self.began
        self.used: dict[str, float] = {}
        self.processes: dict[str, int] = {}
        for name, before in self.ticks.items():
            members = set(before) | set(self._members(name))
            after = {pid: cpu_ticks(pid) for pid in members}
            # a pid gone at the end reads 0.0: count nothing for it rather than a negative figure
            self.used[name] = sum(max(0.0, after[pid] - before.get(pid, 0.0)) for pid in members if after[pid])
            self.processes[name] = len(members)
        busy = machine_busy()
        total = busy[1] - self.busy[1]
        self.machine_cores = (busy[0] - self.busy[0]) / total * (os.cpu_count() or 1) if total else None

    def report(self, client_cpu_seconds: float | None = None, window: float | None = None) -> dict[str, Any]:
        seconds = window or self.seconds
        out: dict[str, Any] = {f"{name}_cores": round(used / self.seconds, 2) for name, used in self.used.items()}
        if client_cpu_seconds is not None:
            out["load_generator_cores"] = round(client_cpu_seconds / seconds, 2)
        out["machine_busy_cores"] = round(self.machine_cores, 2) if self.machine_cores is not None else None
        return out
