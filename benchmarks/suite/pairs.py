"""Workload (a): pairs chatting, closed loop at each concurrency level, then open loop at half the best rate."""

import time
import uuid
from collections.abc import Mapping
from typing import Any

from benchmarks.suite.cast import Cast
from benchmarks.suite.config import Config
from benchmarks.suite.machine import CpuWindow, Pids
from benchmarks.suite.pool import Pool, split
from benchmarks.suite.profiles import Profiler
from benchmarks.suite.report import Recorder, latency


def pairs_jobs_run(
    pool: Pool,
    urls: str | list[str],
    pids: Mapping[str, Pids],
    pairs: list[tuple[str, str, str]],
    mode: str,
    seconds: float,
    rate_per_pair: float | None = None,
    profiler: Profiler | None = None,
    client: str = "light",
    extra: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], CpuWindow]:
    """The pairs split over the pool's workers (worker i to urls[i % len(urls)]), run over one window of
    `seconds`; each worker's raw result and the CPU of `pids` over the window."""
    workers = min(pool.size, len(pairs))
    urls = [urls] if isinstance(urls, str) else urls
    jobs = [
        {
            "kind": "pairs",
            "url": urls[i % len(urls)],
            "pairs": chunk,
            "mode": mode,
            "rate_per_pair": rate_per_pair,
            "client": client,
            **(extra or {}),
        }
        for i, chunk in enumerate(split(pairs, workers))
    ]

    def plan(infos: list[dict[str, Any]]) -> dict[str, Any]:
        start = time.time() + 0.5
        return {"start": start, "end": start + seconds}

    def measure(the_plan: dict[str, Any]) -> CpuWindow:
        time.sleep(max(0.0, the_plan["start"] - time.time()))
        if profiler:
            profiler.start(pids["server"], seconds)  # type: ignore[arg-type]
        with CpuWindow(pids) as cpu:
            time.sleep(max(0.0, the_plan["end"] - time.time()))
        return cpu

    # the paced (open) mode waits up to ack_wait for its last acks; socketio's clients connect slowly
    timeout = seconds + 120 + float((extra or {}).get("ack_wait", 30))
    results, _, cpu = pool.run(jobs, plan, on_plan=measure, timeout=timeout)
    return results, cpu


def merged_errors(results: list[dict[str, Any]]) -> dict[str, int]:
    errors: dict[str, int] = {}
    for r in results:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    return errors


def schedule_kept(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Open loop: how far the load generator fell behind its schedule (latencies count from the scheduled
    time, so a late load generator shows as server latency: these say whether it did)."""
    return {
        "load_generator_sends_late_over_50ms": sum(r.get("sends_late_over_50ms", 0) for r in results),
        "load_generator_max_send_lateness_ms": max((r.get("max_send_lateness_ms", 0.0) for r in results), default=0.0),
    }


def pairs_run(
    pool: Pool,
    url: str,
    pids: dict[str, int],
    pairs: list[tuple[str, str, str]],
    mode: str,
    seconds: float,
    rate_per_pair: float | None = None,
    profiler: Profiler | None = None,
    client: str = "light",
) -> dict[str, Any]:
    results, cpu = pairs_jobs_run(pool, url, pids, pairs, mode, seconds, rate_per_pair, profiler, client)
    profile = profiler.finish() if profiler else None
    ack = [x for r in results for x in r["ack_ms"]]
    deliver = [x for r in results for x in r["deliver_ms"]]
    client_cpu = sum(r["cpu_seconds"] for r in results)
    acked = sum(r["acked_in_window"] for r in results)
    out = {
        "client": client,
        "pairs": len(pairs),
        "seconds": seconds,
        "acked_sends_per_second": round(acked / seconds, 1),
        "delivered_per_second": round(len(deliver) / seconds, 1),
        "send_to_ack_ms": latency(ack),
        "send_to_message_new_ms": latency(deliver),
        "errors": merged_errors(results),
        **cpu.report(client_cpu),
        # the server's CPU per acknowledged send (all its threads), comparable across servers
        "server_cpu_ms_per_send": (
            round(cpu.used["server"] / acked * 1000, 3) if acked and "server" in cpu.used else None
        ),
        # the load generator's CPU per acknowledged send: near 1 core per worker process, it was the bottleneck
        "load_generator_cpu_ms_per_send": round(client_cpu / acked * 1000, 3) if acked else None,
        "load_generator_processes": min(pool.size, len(pairs)),
    }
    if rate_per_pair:
        out["offered_per_second"] = round(rate_per_pair * len(pairs), 1)
        out |= schedule_kept(results)
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
    """Closed loop at each concurrency level with each client kind of the run (cfg.clients); returns the
    best of each kind. Without a cast (the bare relay) every sender and receiver is the one token "relay";
    with one (Parley, the contract relay) the cast's pairs. `profiled`: py-spy the server when the run
    asks for it (Parley's, not a relay's; with the first client kind only)."""
    best: dict[str, dict[str, Any]] = {}
    for client in cfg.clients:
        for level in cfg.pair_levels:
            pairs = pair_list(cast, level)
            profile = cfg.profile and profiled and cast is not None and client == cfg.clients[0]
            result = pairs_run(
                pool,
                url,
                pids,
                pairs,
                "closed",
                cfg.seconds,
                profiler=Profiler(f"a-{client}-{level}", profile),
                client=client,
            )
            rec.emit(
                {"workload": "a_pairs", "server": server, "mode": "closed (one message in flight per sender)", **result}
            )
            if result["acked_sends_per_second"] > best.get(client, {}).get("acked_sends_per_second", 0):
                best[client] = result
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
        client=cfg.clients[0],
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
