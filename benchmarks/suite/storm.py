"""Workload (d): a reconnect storm; every follower catches up with get_messages after its last seq."""

import time
from typing import Any

from benchmarks.suite.cast import Cast
from benchmarks.suite.config import Config
from benchmarks.suite.machine import CpuWindow
from benchmarks.suite.pool import Pool, split
from benchmarks.suite.profiles import Profiler
from benchmarks.suite.report import Recorder, latency, pct

PHASES = ("connect_ms", "upgrade_ms", "join_ms", "fetch_ms")  # upgrade_ms: of connect_ms, until the HTTP 101


def workload_storm(
    rec: Recorder, pool: Pool, cfg: Config, cast: Cast, url: str, pids: dict[str, int]
) -> dict[str, Any]:
    conversations = cast.pairs[: max(1, cfg.storm_followers // 5)]
    followers = [(b.token, c) for k in range(5) for _, b, c in conversations][: cfg.storm_followers]
    senders = [(a.token, c) for a, _, c in conversations]
    workers = pool.size - 1
    jobs = [{"kind": "storm", "url": url, "followers": chunk} for chunk in split(followers, workers)]
    jobs.append({"kind": "storm_sender", "url": url, "senders": senders, "rate": cfg.storm_rate})

    def plan(infos: list[dict[str, Any]]) -> dict[str, Any]:
        start = time.time() + 0.5
        return {"start": start, "drop": start + 2.0, "reconnect": start + 3.0, "stop": start + 6.0, "end": start + 9.0}

    profiler = Profiler("d", cfg.profile)

    def measure(the_plan: dict[str, Any]) -> CpuWindow:
        time.sleep(max(0.0, the_plan["reconnect"] - time.time()))
        profiler.start(pids["server"], 3)
        with CpuWindow(pids) as cpu:
            time.sleep(max(0.0, the_plan["stop"] - time.time()))
        return cpu

    results, _, cpu = pool.run(jobs, plan, on_plan=measure, timeout=180)
    profile = profiler.finish()
    heads = results[-1]["heads"]
    reports = [r for res in results[:-1] for r in res["reports"]]
    catch_up = [r["catch_up_ms"] for r in reports if r["catch_up_ms"] is not None]
    behind = [r for r in reports if r["top"] < heads.get(r["conversation"], r["baseline"])]
    result = {
        "followers": len(reports),
        "conversations": len(conversations),
        "sender_rate_per_second": cfg.storm_rate,
        "sent": results[-1]["sent"],
        "send_errors": results[-1]["errors"],
        "reconnect_errors": sum(r["error_count"] for r in results[:-1]),
        "reconnect_error_samples": [e for r in results[:-1] for e in r["errors"]][:3],
        "caught_up": len(catch_up),
        "missing_messages": sum(r["missing"] for r in reports),
        "followers_behind_head": len(behind),
        "seen_both_live_and_fetched": sum(r["duplicates"] for r in reports),
        "catch_up_ms": latency(catch_up),
        "catch_up_phases_p99_ms": {k: pct([r[k] for r in reports if k in r], 99) for k in PHASES},
        "catch_up_phases_p50_ms": {k: pct([r[k] for r in reports if k in r], 50) for k in PHASES},
        "pages_max": max((r["pages"] for r in reports), default=0),
        "missed_while_away_mean": round(sum(r["top"] - r["baseline"] for r in reports) / max(1, len(reports)), 1),
        "nothing_missed": not behind and sum(r["missing"] for r in reports) == 0 and len(catch_up) == len(reports),
        # late, not lost, if the followers short of the head at the end got there within the grace period
        "all_at_head_after_stop_ms": round(max(r["all_at_head_after_stop_ms"] or 0 for r in results[:-1]), 1)
        if all(r["all_at_head_after_stop_ms"] is not None for r in results[:-1])
        else None,
        "behind_after_grace": sum(r["behind_after_grace"] for r in results[:-1]),
        # each follower worker's CPU over its reconnects (near 1.0: the load generator is the limit)
        "load_generator_worker_cores_during_reconnect": [r["worker_cores_during_reconnect"] for r in results[:-1]],
        **cpu.report(),
        **({"server_profile_during_reconnect": profile} if profile else {}),
    }
    rec.emit({"workload": "d_storm", "server": "parley", **result})
    return result
