"""Two processes: workload (a) on two `parley serve --no-projections` and one `parley projections run`
sharing fan-out through Redis, against one `parley serve` measured just before.

2 cores cannot show a scale-out gain, so the verdict (issue 14) is the CPU per acknowledged message of
every process involved (the server(s), the projector, PostgreSQL's processes, Redis), with both topologies
run open loop at the same offered rate: TWO_PROCESS_OFFERED_SHARE of the lower of the two topologies'
closed-loop bests, so both sustain it (on 2 cores two processes acknowledge fewer sends/s than one, so a
share of one process's best alone may be more than two can take). The closed-loop sends/s of each (and
the gain) are still reported."""

import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from benchmarks.suite.cast import Cast
from benchmarks.suite.config import TWO_PROCESS_OFFERED_SHARE, Config
from benchmarks.suite.machine import CpuWindow, Pids, pids_named
from benchmarks.suite.pairs import merged_errors, pairs_jobs_run, pairs_run, schedule_kept
from benchmarks.suite.pool import Pool, split
from benchmarks.suite.profiles import Profiler
from benchmarks.suite.report import Recorder, latency
from benchmarks.suite.topology import parley, serve_supports
from tests.support.databases import POSTGRES_ADMIN_URL

CORES = 8  # the projection's machine


def postgres_pids(database_url: str) -> Callable[[], list[int]]:
    """PostgreSQL's processes that serve this database: every process named `postgres` (the postmaster,
    its background processes, the backends) but the backends of other databases (the cluster is shared
    with other work on this machine) and the backend of the connection that asks."""
    dbname = conninfo_to_dict(database_url).get("dbname")

    def pids() -> list[int]:
        everyone = pids_named("postgres")
        try:
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE (datname IS NOT NULL AND datname <> %s) "
                    "OR pid = pg_backend_pid()",
                    (dbname,),
                ).fetchall()
            others = {row[0] for row in rows}
        except psycopg.Error:
            others = set()
        return [pid for pid in everyone if pid not in others]

    return pids


def shared_groups(database_url: str) -> dict[str, Pids]:
    """The processes both topologies share: PostgreSQL's (none for SQLite) and Redis (idle for 1 process)."""
    groups: dict[str, Pids] = {"redis": lambda: pids_named("redis-server")}
    if database_url.startswith("postgres"):
        groups["postgres"] = postgres_pids(database_url)
    return groups


def cpu_run(
    pool: Pool,
    urls: list[str],
    groups: dict[str, Pids],
    pairs: list[tuple[str, str, str]],
    offered: float,
    cfg: Config,
) -> dict[str, Any]:
    """Open loop at `offered` sends/s over the servers at `urls`; the CPU of every group per acked message."""
    results, cpu = pairs_jobs_run(
        pool, urls, groups, pairs, "open", cfg.seconds, rate_per_pair=offered / len(pairs), client=cfg.clients[0]
    )
    acked = sum(r["acked_in_window"] for r in results)
    total = sum(cpu.used.values())
    ack = [x for r in results for x in r["ack_ms"]]
    deliver = [x for r in results for x in r["deliver_ms"]]
    return {
        "client": cfg.clients[0],
        "pairs": len(pairs),
        "offered_per_second": round(offered, 1),
        "acked_sends_per_second": round(acked / cfg.seconds, 1),
        "sustained": acked / cfg.seconds >= 0.95 * offered,
        "send_to_ack_ms": latency(ack),
        "send_to_message_new_ms": latency(deliver),
        "errors": merged_errors(results),
        "cpu_ms_per_acked_message": round(total / acked * 1000, 3) if acked else None,
        "cpu_ms_per_acked_message_by_group": {
            name: round(used / acked * 1000, 3) if acked else None for name, used in cpu.used.items()
        },
        "cpu_share_by_group": {name: round(used / total, 3) if total else None for name, used in cpu.used.items()},
        "processes_by_group": cpu.processes,
        **schedule_kept(results),
        **cpu.report(sum(r["cpu_seconds"] for r in results)),
    }


def workload_two_processes(
    rec: Recorder, pool: Pool, cfg: Config, cast: Cast, database_url: str, one_process_best: dict[str, Any]
) -> dict[str, Any]:
    """At the best level of workload a (or the largest level when a was skipped), closed loop: one `parley
    serve` (its sends/s, again, just before), then two `parley serve --no-projections` and one `parley
    projections run`, fan-out through Redis under a key prefix of this run's own, client workers
    alternating between the two servers. Then open loop at TWO_PROCESS_OFFERED_SHARE of the lower of the
    two closed-loop rates (so both sustain it) with every process's CPU: two processes, then one again."""
    if not serve_supports("--no-projections"):
        skipped: dict[str, Any] = {
            "skipped": "this commit has no `parley serve --no-projections` and Redis fan-out "
            "(PARLEY_REDIS_URL) yet; the workload runs once they land"
        }
        rec.emit({"workload": "two_processes", **skipped})
        return skipped
    from tests.support.redis import REDIS_URL, redis_prefix
    from tests.support.server import ProjectorProcess

    level = one_process_best.get("pairs") or cfg.pair_levels[-1]
    pairs = [(a.token, b.token, c) for a, b, c in cast.pairs[:level]]
    shared = shared_groups(database_url)
    client = cfg.clients[0]
    with parley(database_url) as single:
        pid: int = single.process.pid  # type: ignore[union-attr]
        baseline = pairs_run(pool, single.url, {"server": pid}, pairs, "closed", cfg.seconds, client=client)
    rec.emit({"workload": "two_processes_baseline", "server": "1 x parley serve", **baseline})
    with redis_prefix() as prefix:
        env = {"PARLEY_REDIS_URL": REDIS_URL, "PARLEY_REDIS_PREFIX": prefix}
        projector = ProjectorProcess(database_url, env).start(timeout=60)  # after the baseline: one projector at a time
        try:
            with (
                parley(database_url, env=env, args=["--no-projections"]) as one,
                parley(database_url, env=env, args=["--no-projections"]) as two,
            ):
                pids: dict[str, int] = {
                    "server1": one.process.pid,  # type: ignore[union-attr]
                    "server2": two.process.pid,  # type: ignore[union-attr]
                    "projector": projector.process.pid,  # type: ignore[union-attr]
                }
                urls = [one.url if i % 2 == 0 else two.url for i in range(pool.size)]
                jobs = [
                    {"kind": "pairs", "url": urls[i], "pairs": chunk, "mode": "closed", "client": client}
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
                rate = sum(r["acked_in_window"] for r in results) / cfg.seconds
                # a rate both topologies sustain: a share of the lower of their closed-loop bests
                offered = TWO_PROCESS_OFFERED_SHARE * min(baseline["acked_sends_per_second"], rate)
                two_cpu = cpu_run(pool, [one.url, two.url], {**pids, **shared}, pairs, offered, cfg)
        finally:
            projector.stop()
    with parley(database_url) as single:  # again, now that the rate is known (one projector at a time)
        pid = single.process.pid  # type: ignore[union-attr]
        # warmed up as the two servers were (by their closed-loop run): a fresh process's first sends
        # load their aggregates from the store, which the measured window must not count for one side only
        pairs_run(pool, single.url, {"server": pid}, pairs, "closed", cfg.seconds, client=client)
        one_cpu = cpu_run(pool, [single.url], {"server": pid, **shared}, pairs, offered, cfg)
    rec.emit({"workload": "two_processes_cpu", "topology": "1 x parley serve", **one_cpu})
    ack = [x for r in results for x in r["ack_ms"]]
    deliver = [x for r in results for x in r["deliver_ms"]]
    gain = rate / baseline["acked_sends_per_second"] if baseline["acked_sends_per_second"] else None
    one_ms, two_ms = one_cpu["cpu_ms_per_acked_message"], two_cpu["cpu_ms_per_acked_message"]
    loadgen = two_cpu.get("load_generator_cores") or 0.0
    rec.emit(
        {
            "workload": "two_processes_cpu",
            "topology": "2 x parley serve --no-projections + projections run + Redis",
            **two_cpu,
        }
    )
    result: dict[str, Any] = {
        "pairs": len(pairs),
        "servers": 2,
        "client": client,
        "acked_sends_per_second": round(rate, 1),
        "send_to_ack_ms": latency(ack),
        "send_to_message_new_ms": latency(deliver),
        "delivered_per_second": round(len(deliver) / cfg.seconds, 1),
        "one_process_acked_sends_per_second": baseline["acked_sends_per_second"],
        "gain_over_one_process": round(gain, 2) if gain else None,
        "errors": merged_errors(results),
        **cpu.report(sum(r["cpu_seconds"] for r in results)),
        **{f"{name}_profile": profile for name, profile in profiles.items() if profile},
        # the verdict: CPU of every process per acknowledged message, both open loop at the same offered rate
        "offered_per_second": round(offered, 1),
        "offered_as": f"{TWO_PROCESS_OFFERED_SHARE} x the lower closed-loop best of the two topologies at {len(pairs)} pairs",
        "one_process_cpu_ms_per_message": one_ms,
        "two_process_cpu_ms_per_message": two_ms,
        "cpu_ratio_two_over_one": round(two_ms / one_ms, 3) if one_ms and two_ms else None,
        "one_process_cpu_share_by_group": one_cpu["cpu_share_by_group"],
        "two_process_cpu_share_by_group": two_cpu["cpu_share_by_group"],
        "one_process_open_loop": {
            k: one_cpu[k] for k in ("acked_sends_per_second", "sustained", "send_to_ack_ms", "send_to_message_new_ms")
        },
        "two_process_open_loop": {
            k: two_cpu[k] for k in ("acked_sends_per_second", "sustained", "send_to_ack_ms", "send_to_message_new_ms")
        },
        "projected_8_core_sends_per_second": round((CORES - loadgen) / (two_ms / 1000)) if two_ms else None,
        "projection": (
            f"an estimate, not a measurement: ({CORES} cores - the load generator's {loadgen} cores) / the "
            "two-process topology's CPU seconds per acknowledged message (all its processes), assuming that "
            "cost stays flat as server processes are added: no lock or I/O contention in PostgreSQL, Redis "
            "and the projector (one process) not saturated"
        ),
    }
    rec.emit(
        {"workload": "two_processes", "server": "2 x parley serve --no-projections + projections run + Redis", **result}
    )
    return result
