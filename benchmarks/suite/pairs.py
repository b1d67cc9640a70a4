"""Workload (a): pairs chatting, closed loop at each concurrency level, then open loop at half the best rate."""

import time
import uuid
from typing import Any

from benchmarks.suite.cast import Cast
from benchmarks.suite.config import Config
from benchmarks.suite.machine import CpuWindow
from benchmarks.suite.pool import Pool, split
from benchmarks.suite.profiles import Profiler
from benchmarks.suite.report import Recorder, latency


def pairs_run(
    pool: Pool,
    url: str,
    pids: dict[str, int],
    pairs: list[tuple[str, str, str]],
    mode: str,
    seconds: float,
    rate_per_pair: float | None = None,
    profiler: Profiler | None = None,
) -> dict[str, Any]:
    workers = min(pool.size, len(pairs))
    jobs = [
        {"kind": "pairs", "url": url, "pairs": chunk, "mode": mode, "rate_per_pair": rate_per_pair}
        for chunk in split(pairs, workers)
    ]
    window: dict[str, Any] = {}

    def plan(infos: list[dict[str, Any]]) -> dict[str, Any]:
        start = time.time() + 0.5
        return {"start": start, "end": start + seconds}

    def measure(the_plan: dict[str, Any]) -> CpuWindow:
        time.sleep(max(0.0, the_plan["start"] - time.time()))
        if profiler:
            profiler.start(pids["server"], seconds)
        with CpuWindow(pids) as cpu:
            time.sleep(max(0.0, the_plan["end"] - time.time()))
        window["cpu"] = cpu
        return cpu

    results, _, cpu = pool.run(jobs, plan, on_plan=measure, timeout=seconds + 120)
    profile = profiler.finish() if profiler else None
    ack = [x for r in results for x in r["ack_ms"]]
    deliver = [x for r in results for x in r["deliver_ms"]]
    errors: dict[str, int] = {}
    for r in results:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    client_cpu = sum(r["cpu_seconds"] for r in results)
    acked = sum(r["acked_in_window"] for r in results)
    out = {
        "pairs": len(pairs),
        "seconds": seconds,
        "acked_sends_per_second": round(acked / seconds, 1),
        "delivered_per_second": round(len(deliver) / seconds, 1),
        "send_to_ack_ms": latency(ack),
        "send_to_message_new_ms": latency(deliver),
        "errors": errors,
        **cpu.report(client_cpu),
        # the server's CPU per acknowledged send (all its threads), comparable across servers
        "server_cpu_ms_per_send": (
            round(cpu.used["server"] / acked * 1000, 3) if acked and "server" in cpu.used else None
        ),
    }
    if rate_per_pair:
        out["offered_per_second"] = round(rate_per_pair * len(pairs), 1)
    if profile:
        out["server_profile"] = profile
    return out


def workload_pairs(
    rec: Recorder,
    pool: Pool,
    cfg: Config,
    cast: Cast | None,
    url: str,
    pids: dict[str, int],
    server: str,
    profiled: bool = True,
) -> dict[str, Any]:
    """Closed loop at each concurrency level; returns the best. Without a cast (the bare relay) every
    sender and receiver is the one token "relay"; with one (Parley, the contract relay) the cast's pairs.
    `profiled`: py-spy the server when the run asks for it (Parley's, not a relay's)."""
    best: dict[str, Any] = {}
    for level in cfg.pair_levels:
        pairs = pair_list(cast, level)
        result = pairs_run(
            pool,
            url,
            pids,
            pairs,
            "closed",
            cfg.seconds,
            profiler=Profiler(f"a-{level}", cfg.profile and profiled and cast is not None),
        )
        rec.emit(
            {"workload": "a_pairs", "server": server, "mode": "closed (one message in flight per sender)", **result}
        )
        if result["acked_sends_per_second"] > best.get("acked_sends_per_second", 0):
            best = result
    return best


def workload_pairs_open(
    rec: Recorder,
    pool: Pool,
    cfg: Config,
    cast: Cast | None,
    url: str,
    pids: dict[str, int],
    server: str,
    rate: float,
    pairs_count: int,
) -> dict[str, Any]:
    pairs = pair_list(cast, pairs_count)
    result = pairs_run(
        pool,
        url,
        pids,
        pairs,
        "open",
        cfg.seconds,
        rate_per_pair=rate / len(pairs),
        profiler=Profiler("a-open", cfg.profile and cast is not None),
    )
    rec.emit(
        {
            "workload": "a_pairs_open_loop",
            "server": server,
            "mode": "open loop (paced, Poisson-free uniform schedule)",
            **result,
        }
    )
    return result


def pair_list(cast: Cast | None, count: int) -> list[tuple[str, str, str]]:
    """`count` (sender token, recipient token, conversation id): the cast's, or for a relay (no users)
    any tokens and conversation ids."""
    if cast is None:
        return [("relay", "relay", str(uuid.uuid4())) for _ in range(count)]
    return [(a.token, b.token, c) for a, b, c in cast.pairs[:count]]
