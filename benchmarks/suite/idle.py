"""Workload (c): idle authenticated sockets, the server's RSS before and after, per socket."""

import time
from typing import Any

from benchmarks.suite.config import Config
from benchmarks.suite.machine import rss_kib
from benchmarks.suite.pool import Pool, split
from benchmarks.suite.report import Recorder


def workload_idle(
    rec: Recorder, pool: Pool, cfg: Config, url: str, pid: int, server: str, tokens: list[str], users: int
) -> dict[str, Any]:
    time.sleep(1.0)
    before = rss_kib(pid)
    sockets = [tokens[i % len(tokens)] for i in range(cfg.idle_sockets)]
    jobs = [{"kind": "idle", "url": url, "tokens": chunk, "plan_timeout": 300} for chunk in split(sockets, pool.size)]
    measured: dict[str, Any] = {}

    def plan(infos: list[dict[str, Any]]) -> dict[str, Any]:
        time.sleep(3.0)  # settle: handshakes done, presence sent
        measured["rss_after_kib"] = rss_kib(pid)
        measured["connected"] = sum(i["connected"] for i in infos)
        measured["failed"] = sum(i["failed"] for i in infos)
        measured["connect_seconds"] = max(i["connect_seconds"] for i in infos)
        time.sleep(2.0)
        measured["rss_after_5s_kib"] = rss_kib(pid)
        return {"release": time.time() + 0.2}

    results, _, _ = pool.run(jobs, plan, ready_timeout=300, timeout=120)
    time.sleep(3.0)
    after = measured["rss_after_kib"]
    connected = measured["connected"]
    result = {
        "sockets": connected,
        "users": users,
        "failed": measured["failed"],
        "connect_seconds": measured["connect_seconds"],
        "rss_before_mib": round(before / 1024, 1),
        "rss_after_mib": round(after / 1024, 1),
        "rss_after_5s_mib": round(measured["rss_after_5s_kib"] / 1024, 1),
        "rss_after_release_mib": round(rss_kib(pid) / 1024, 1),
        "kib_per_socket": round((max(after, measured["rss_after_5s_kib"]) - before) / max(1, connected), 1),
        "still_open_at_release": sum(r["still_open"] for r in results),
        "failures": [f for r in results for f in r["failures"]][:3],
    }
    rec.emit({"workload": "c_idle", "server": server, **result})
    return result
