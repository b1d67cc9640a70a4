"""Workload (b): one sender, the members of a group conversation: deliveries/s and fan-out latency."""

import time
from typing import Any

from benchmarks.suite.config import Config
from benchmarks.suite.machine import CpuWindow
from benchmarks.suite.pool import Pool, split
from benchmarks.suite.profiles import Profiler
from benchmarks.suite.report import Recorder, latency


def workload_fanout(
    rec: Recorder,
    pool: Pool,
    cfg: Config,
    url: str,
    pids: dict[str, int],
    server: str,
    sender_token: str,
    member_tokens: list[str],
    conversation: str,
    profiled: bool = True,
) -> dict[str, Any]:
    workers = pool.size
    chunks = split(member_tokens, workers)
    jobs = [
        {
            "kind": "fanout",
            "url": url,
            "conversation_id": conversation,
            "member_tokens": chunk,
            "sender_token": sender_token if i == 0 else None,
            "window": 1,
        }
        for i, chunk in enumerate(chunks)
    ]

    def plan(infos: list[dict[str, Any]]) -> dict[str, Any]:
        start = time.time() + 0.5
        return {"start": start, "end": start + cfg.seconds}

    profiler = Profiler("b", cfg.profile and profiled and sender_token != "relay")

    def measure(the_plan: dict[str, Any]) -> CpuWindow:
        time.sleep(max(0.0, the_plan["start"] - time.time()))
        profiler.start(pids["server"], cfg.seconds)
        with CpuWindow(pids) as cpu:
            time.sleep(max(0.0, the_plan["end"] - time.time()))
        return cpu

    results, _, cpu = pool.run(jobs, plan, on_plan=measure, timeout=cfg.seconds + 120)
    profile = profiler.finish()
    deliver = [x for r in results for x in r["deliver_ms"]]
    last: dict[float, float] = {}
    for r in results:
        for sent, ms in r["last_by_message"].items():
            last[sent] = max(last.get(sent, 0.0), ms)
    sends = sum(r["sends"] for r in results)
    recipients = len(member_tokens)
    complete = sum(1 for _ in last)  # messages seen by at least one member
    result = {
        "members": recipients,
        "seconds": cfg.seconds,
        "sender_window": 1,
        "acked_messages_per_second": round(sum(r["acked_in_window"] for r in results) / cfg.seconds, 1),
        # deliveries over the time from the first send to the last delivery (a backlog drains after the window)
        "deliveries_per_second": round(len(deliver) / max(cfg.seconds, *(r["last_delivery_s"] for r in results)), 1),
        "last_delivery_after_start_s": round(max(r["last_delivery_s"] for r in results), 2),
        "deliveries_expected": sends * recipients,
        "deliveries_received": len(deliver),
        "per_delivery_ms": latency(deliver),
        "to_last_member_ms": latency(list(last.values())),
        "messages_delivered": complete,
        "errors": {k: v for r in results for k, v in r["errors"].items()},
        **cpu.report(sum(r["cpu_seconds"] for r in results)),
        **({"server_profile": profile} if profile else {}),
    }
    rec.emit({"workload": "b_fanout", "server": server, **result})
    return result
