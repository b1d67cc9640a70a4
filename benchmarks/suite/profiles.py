"""py-spy profiles of a server process over a measured window, summarised by area (--profile)."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PY_SPY = Path(sys.executable).parent / "py-spy"
AREAS = (  # (area, substrings of a frame's file), first match wins, checked from the leaf up
    ("PostgreSQL driver (psycopg)", ("psycopg",)),
    ("SQLite (sqlite3)", ("sqlite3",)),
    ("event store (eventsourcing)", ("eventsourcing",)),
    ("JSON", ("json/",)),
    ("validation (pydantic)", ("pydantic",)),
    ("Socket.IO / Engine.IO", ("socketio", "engineio")),
    (
        "websockets / HTTP (uvicorn, websockets, starlette)",
        ("uvicorn", "websockets", "wsproto", "starlette", "h11", "httptools"),
    ),
    ("threads (anyio, concurrent.futures, threading)", ("anyio", "concurrent/futures", "threading.py")),
    ("asyncio event loop", ("asyncio",)),
    ("Parley code", ("application/", "domain/", "infrastructure/", "projections/", "interfaces/")),
)


class Profiler:
    """py-spy record of a server process over a measured window (raw collapsed stacks), summarised."""

    def __init__(self, name: str | None, enabled: bool) -> None:
        self.name = name if enabled else None
        self.process: subprocess.Popen[bytes] | None = None
        self.summary: dict[str, Any] | None = None

    def start(self, pid: int, seconds: float) -> None:
        if not self.name:
            return
        if not PY_SPY.exists():
            self.summary = {"skipped": "py-spy is not installed in this environment (pip install py-spy)"}
            return
        self.raw = Path(tempfile.mkstemp(prefix=f"py-spy-{self.name}-", suffix=".txt")[1])
        self.seconds = max(1, int(seconds))
        self.process = subprocess.Popen(
            [
                str(PY_SPY),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(self.seconds),
                "--rate",
                "100",
                "--format",
                "raw",
                "--output",
                str(self.raw),
                "--nonblocking",
            ]
            # BENCH_PROFILE_THREADS: every thread, idle or not, named (where each waits), not the GIL's holder
            + (["--threads", "--idle"] if os.environ.get("BENCH_PROFILE_THREADS") else ["--gil"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def finish(self) -> dict[str, Any] | None:
        if self.process is not None:
            try:
                _, err = self.process.communicate(timeout=self.seconds + 60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                _, err = self.process.communicate()
            self.summary = (
                summarize_profile(self.raw, self.seconds)
                if self.raw.stat().st_size
                else {"error": err.decode(errors="replace")[-500:]}
            )
            if os.environ.get("BENCH_KEEP_PROFILES"):  # the raw stacks, for a closer look (flamegraphs)
                self.summary["raw_stacks"] = str(self.raw)
            else:
                self.raw.unlink(missing_ok=True)
        return self.summary


def summarize_profile(raw: Path, seconds: float, rate: int = 100, top: int = 12) -> dict[str, Any]:
    """Where the server's Python time goes. Sampled with --gil (only the thread holding the GIL), so
    samples / (rate x seconds) is the share of the window the GIL was busy: near 1.0, the process is
    bound by one core of Python. By area (the innermost frame that falls into one), the hottest leaf
    functions, and the project's own functions inclusively."""
    total = 0
    areas: dict[str, int] = {}
    leaves: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        leaf = frames[-1]
        leaves[leaf] = leaves.get(leaf, 0) + count
        area = "other"
        for frame in reversed(frames):
            found = next((name for name, keys in AREAS if any(k in frame for k in keys)), None)
            if found:
                area = found
                break
        areas[area] = areas.get(area, 0) + count
        for frame in set(frames):
            if any(k in frame for k in AREAS[-1][1]) and "site-packages" not in frame:
                inclusive[frame] = inclusive.get(frame, 0) + count

    def share(table: dict[str, int]) -> list[tuple[str, float]]:
        return [(k, round(100 * v / total, 1)) for k, v in sorted(table.items(), key=lambda kv: -kv[1])[:top]]

    return {
        "samples": total,
        "gil_busy_share": round(total / (rate * seconds), 2),
        "by_area_pct": share(areas),
        "top_leaf_pct": share(leaves),
        "parley_inclusive_pct": share(inclusive),
    }
