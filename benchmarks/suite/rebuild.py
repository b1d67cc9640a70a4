"""Workload (e): benchmarks.rebuild in a process of its own, the store's raw read rate next to the rebuild's."""

import json
import subprocess
import sys
import time
from typing import Any

from benchmarks.suite.config import ROOT, Config
from benchmarks.suite.report import Recorder


def workload_rebuild(rec: Recorder, cfg: Config, db: str) -> dict[str, Any]:
    """benchmarks.rebuild in its own process (its memory is its own), phases read (the ceiling) and rebuild."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.rebuild",
        "--database",
        db,
        "--events",
        str(cfg.rebuild_events),
        "--phases",
        "read,rebuild",
    ]
    began = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        result = {"error": f"benchmarks.rebuild exited {done.returncode}", "stderr": done.stderr[-2000:]}
        rec.emit({"workload": "e_rebuild", **result})
        return result
    phases = {line["phase"]: line for line in lines}
    summary = phases.get("summary", {})
    rates = summary.get("rates", {})
    rebuild = phases.get("rebuild", {})
    result = {
        "command": " ".join(command[1:]),
        "events": summary.get("events"),
        "raw_read_per_second": rates.get("read"),
        "read_mapped_per_second": rates.get("read_mapped"),
        "rebuild_per_second": rates.get("rebuild"),
        "rebuild_share_of_raw_read": round(rates["rebuild"] / rates["read"], 3)
        if rates.get("read") and rates.get("rebuild")
        else None,
        "rebuild_share_of_read_mapped": summary.get("rebuild_vs_read_mapped"),
        "rebuild_rss_mib": {
            k: rebuild.get(f"rss_{k}_mb") for k in ("start", "peak", "end", "peak_first_half", "peak_second_half")
        },
        "rebuild_commit": summary.get("commit"),
        "seconds": round(time.monotonic() - began, 1),
    }
    rec.emit({"workload": "e_rebuild", **result})
    return result
