"""Two processes: workload (a) on two `parley serve --no-projections` and one `parley projections run`
sharing fan-out through Redis, against one process measured just before."""

import time
from typing import Any

from benchmarks.suite.cast import Cast
from benchmarks.suite.config import Config
from benchmarks.suite.machine import CpuWindow
from benchmarks.suite.pairs import pairs_run
from benchmarks.suite.pool import Pool, split
from benchmarks.suite.profiles import Profiler
from benchmarks.suite.report import Recorder, latency
from benchmarks.suite.topology import parley, serve_supports


def workload_two_processes(
    rec: Recorder, pool: Pool, cfg: Config, cast: Cast, database_url: str, one_process_best: dict[str, Any]
) -> dict[str, Any]:
    """Workload a (closed loop, the best level of the 1-process run) on two `parley serve --no-projections`
    processes and one `parley projections run`, fan-out through Redis under a key prefix of this run's
    own; client workers alternate between the two servers. The 1-process baseline is measured again
    just before, at the same level, so the gain is not skewed by load that came or went."""
    if not serve_supports("--no-projections"):
        result = {
            "skipped": "this commit has no `parley serve --no-projections` and Redis fan-out "
            "(PARLEY_REDIS_URL) yet; the workload runs once they land"
        }
        rec.emit({"workload": "two_processes", **result})
        return result
    from tests.support.redis import REDIS_URL, redis_prefix
    from tests.support.server import ProjectorProcess

    level = one_process_best.get("pairs") or cfg.pair_levels[-1]
    pairs = [(a.token, b.token, c) for a, b, c in cast.pairs[:level]]
    with parley(database_url) as single:
        baseline = pairs_run(pool, single.url, {"server": single.process.pid}, pairs, "closed", cfg.seconds)  # type: ignore[union-attr]
    rec.emit({"workload": "two_processes_baseline", "server": "1 x parley serve", **baseline})
    with redis_prefix() as prefix:
        env = {"PARLEY_REDIS_URL": REDIS_URL, "PARLEY_REDIS_PREFIX": prefix}
        projector = ProjectorProcess(database_url, env).start(timeout=60)  # after the baseline: one projector at a time
        try:
            with (
                parley(database_url, env=env, args=["--no-projections"]) as one,
                parley(database_url, env=env, args=["--no-projections"]) as two,
            ):
                pids = {
                    "server1": one.process.pid,
                    "server2": two.process.pid,  # type: ignore[union-attr]
                    "projector": projector.process.pid,
                }  # type: ignore[union-attr]
                urls = [one.url if i % 2 == 0 else two.url for i in range(pool.size)]
                jobs = [
                    {"kind": "pairs", "url": urls[i], "pairs": chunk, "mode": "closed", "rate_per_pair": None}
                    for i, chunk in enumerate(split(pairs, pool.size))
                ]

                def plan(infos: list[dict[str, Any]]) -> dict[str, Any]:
                    start = time.time() + 0.5
                    return {"start": start, "end": start + cfg.seconds}

                profilers = {name: Profiler(f"2-{name}", cfg.profile) for name in ("server1", "projector")}

                def measure(the_plan: dict[str, Any]) -> CpuWindow:
                    time.sleep(max(0.0, the_plan["start"] - time.time()))
                    for name, profiler in profilers.items():
                        profiler.start(pids[name], cfg.seconds)
                    with CpuWindow(pids) as cpu:
                        time.sleep(max(0.0, the_plan["end"] - time.time()))
                    return cpu

                results, _, cpu = pool.run(jobs, plan, on_plan=measure, timeout=cfg.seconds + 120)
                profiles = {name: profiler.finish() for name, profiler in profilers.items()}
        finally:
            projector.stop()
    ack = [x for r in results for x in r["ack_ms"]]
    deliver = [x for r in results for x in r["deliver_ms"]]
    rate = sum(r["acked_in_window"] for r in results) / cfg.seconds
    gain = rate / baseline["acked_sends_per_second"] if baseline["acked_sends_per_second"] else None
    result = {
        "pairs": len(pairs),
        "servers": 2,
        "acked_sends_per_second": round(rate, 1),
        "send_to_ack_ms": latency(ack),
        "send_to_message_new_ms": latency(deliver),
        "delivered_per_second": round(len(deliver) / cfg.seconds, 1),
        "one_process_acked_sends_per_second": baseline["acked_sends_per_second"],
        "gain_over_one_process": round(gain, 2) if gain else None,
        "errors": {k: v for r in results for k, v in r["errors"].items()},
        **cpu.report(sum(r["cpu_seconds"] for r in results)),
        **{f"{name}_profile": profile for name, profile in profiles.items() if profile},
    }
    rec.emit(
        {"workload": "two_processes", "server": "2 x parley serve --no-projections + projections run + Redis", **result}
    )
    return result
