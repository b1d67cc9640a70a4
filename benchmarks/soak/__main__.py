"""python -m benchmarks.soak [--minutes 10] [--rate 300] [--fault-every 60] [--database postgres]

The default rate, 300 acknowledged sends/s, is half of Parley's best rate *in the topology the soak
runs* (two `parley serve --no-projections` and a projector: 592 sends/s at ccbbe60, benchmarks/README.md,
"Two processes over one"); half of one process's best (1,402/s) would saturate it on two cores, and
the soak would measure an overload instead of the faults.
"""

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.soak import checks
from benchmarks.soak.faults import Fault, Injector, schedule
from benchmarks.soak.load import ATTEMPT_TIMEOUT, Cast, Load, Metrics
from benchmarks.soak.report import (
    RssSample,
    emit,
    recovery_seconds,
    rss_kib,
    rss_verdict,
    save,
    table,
    timeline,
    window_record,
)
from benchmarks.soak.topology import Topology, topology
from benchmarks.suite import machine, make_cast


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.soak", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--minutes", type=float, default=10.0, help="how long the load runs (default 10)")
    p.add_argument("--seconds", type=float, help="the same in seconds (overrides --minutes; the smoke test)")
    p.add_argument("--rate", type=float, default=300.0, help="messages sent per second in all (default 300)")
    p.add_argument("--fault-every", type=float, default=60.0, help="seconds between faults (default 60)")
    p.add_argument("--pairs", type=int, default=100, help="direct conversations, one user of each on each server")
    p.add_argument("--group", type=int, default=10, help="members of the one group, its starter included")
    p.add_argument("--group-share", type=float, default=0.1, help="share of the rate sent to the group")
    p.add_argument(
        "--database",
        choices=["postgres"],
        default="postgres",
        help="postgres only: the soak restarts PostgreSQL and runs two server processes",
    )
    p.add_argument(
        "--postgres",
        choices=["auto", "cluster", "proxy"],
        default="auto",
        help="a cluster of its own (initdb, needs root) or the local server behind a TCP proxy",
    )
    p.add_argument("--down-seconds", type=float, default=3.0, help="how long PostgreSQL and Redis stay down")
    p.add_argument("--drain-seconds", type=float, default=60.0, help="after the load: time for queued sends")
    p.add_argument("--results", type=Path, help="where to write the results (default benchmarks/results/...)")
    return p.parse_args(argv)


def make_clients(servers: Topology, args: argparse.Namespace) -> tuple[Cast, dict[str, Any]]:
    """Pairs with one user on each server (every message crosses processes through Redis) and one group
    whose members alternate between the servers."""
    with servers.setup_server() as setup:
        people, info = make_cast(setup.url, args.pairs, args.group - 1)
    urls = (servers.a.url, servers.b.url)
    pair_rate = args.rate * (1 - args.group_share) / max(1, args.pairs) / 2
    group_rate = args.rate * args.group_share / args.group
    clients = []
    for i, (a, b, conversation) in enumerate(people.pairs):
        clients.append((f"pair{i}a", urls[0], a.token, conversation, pair_rate))
        clients.append((f"pair{i}b", urls[1], b.token, conversation, pair_rate))
    for i, member in enumerate([people.hub, *people.members]):
        clients.append((f"group{i}", urls[i % 2], member.token, people.group, group_rate))
    conversations = [c for _, _, c in people.pairs] + [people.group]
    return Cast(clients, conversations), info


async def run_load(
    args: argparse.Namespace, duration: float, window: float, servers: Topology, injector: Injector, cast: Cast
) -> dict[str, Any]:
    metrics = Metrics()
    load = Load(cast, metrics)
    faults: list[Fault] = []
    rss: list[RssSample] = []
    loadavg: list[tuple[float, float]] = []
    loop, me = asyncio.get_running_loop(), asyncio.current_task()
    assert me is not None
    for signum in (signal.SIGINT, signal.SIGTERM):  # stop cleanly: every process started is stopped
        loop.add_signal_handler(signum, me.cancel)
    tasks: list[asyncio.Task[None]] = []
    try:
        await load.connect()
        start = time.monotonic() + 1.0
        metrics.t0, end = start, start + duration
        load.start(start, end)

        async def sample() -> None:
            next_window = 1
            while True:
                now = metrics.now()
                for name, pid in servers.pids().items():
                    if pid is not None and (kib := rss_kib(pid)) is not None:
                        rss.append(RssSample(now, name, pid, kib))
                loadavg.append((now, round(os.getloadavg()[0], 2)))
                if now >= next_window * window and next_window * window <= duration:
                    emit(
                        window_record(
                            next_window - 1,
                            (next_window - 1) * window,
                            next_window * window,
                            metrics,
                            faults,
                            rss,
                            loadavg,
                        )
                    )
                    next_window += 1
                await asyncio.sleep(1.0 - (metrics.now() % 1.0))

        async def inject() -> None:
            for at, name in schedule(duration, args.fault_every):
                await asyncio.sleep(max(0.0, start + at - time.monotonic()))
                fault = Fault(name, max(at, metrics.now()))  # the loop may wake a hair early
                faults.append(fault)
                emit({"record": "fault_begins", "fault": name, "at_s": round(fault.at, 2)})
                await asyncio.to_thread(injector.inject, fault, metrics.now)
                emit({"record": "fault_back", **fault.record()})

        sampler = asyncio.create_task(sample())
        injecting = asyncio.create_task(inject())
        tasks += [sampler, injecting]
        await asyncio.sleep(max(0.0, end - time.monotonic()))
        await injecting
        await load.drain(args.drain_seconds)
        sampler.cancel()
        unreachable = await load.final_catch_up(min(60.0, max(10.0, args.drain_seconds)))
        return {
            "metrics": metrics,
            "load": load,
            "faults": faults,
            "rss": rss,
            "loadavg": loadavg,
            "unreachable": unreachable,
            "unacked": load.unacked(),
            "sent": sum(c.sent for c in load.clients),
        }
    finally:
        for task in tasks:
            task.cancel()
        await load.close()


def interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, interrupted)  # during setup and checks: unwind, stopping what was started
    duration = args.seconds if args.seconds else args.minutes * 60
    window = min(60.0, args.fault_every)
    info = machine()
    began = time.time()
    with topology(args.postgres) as (db, redis_server, servers):
        cast, cast_info = make_clients(servers, args)
        emit(
            {
                "record": "setup",
                "postgres": db.kind,
                "redis": redis_server.url,
                "servers": [servers.a.url, servers.b.url],
                "clients": len(cast.clients),
                "conversations": len(cast.conversations),
                "rate": args.rate,
                "duration_s": duration,
                "fault_every_s": args.fault_every,
                **cast_info,
            }
        )
        injector = Injector(db, redis_server, servers, args.down_seconds)
        import uvloop

        try:
            ran = uvloop.run(run_load(args, duration, window, servers, injector, cast))
        except asyncio.CancelledError:
            print("stopped: a signal", file=sys.stderr, flush=True)
            return 130  # the topology's context stops every process on the way out
        metrics, load, faults, rss = ran["metrics"], ran["load"], ran["faults"], ran["rss"]
        stored = checks.read_store(servers.database_url, cast.conversations)
        verdicts = checks.check_store(load, stored)
        verdicts["clients_caught_up"] = checks.check_clients(load, stored, ran["unreachable"])
        verdicts["projections_verify"] = checks.check_verify(servers)
        logs = {
            "server_a": servers.a.log_path,
            "server_b": servers.b.log_path,
            "projector": [str(p) for p in servers.projector_logs],
        }

    ends = [f.at for f in faults[1:]] + [duration] if faults else []  # each fault's window ends at the next
    recoveries = {
        i: recovery_seconds(f, metrics, args.rate, until) for i, (f, until) in enumerate(zip(faults, ends, strict=True))
    }
    for i, fault in enumerate(faults):
        emit({"record": "fault", **fault.record(), "recovery_s": recoveries[i]})
    windows = [
        window_record(i, i * window, min(duration, (i + 1) * window), metrics, faults, rss, ran["loadavg"], recoveries)
        for i in range(int(-(-duration // window)))
    ]
    verdicts["every_fault_recovered"] = {
        "ok": all(r is not None for r in recoveries.values()) and not any(f.error for f in faults),
        "faults": len(faults),
        "recovery_s": [recoveries[i] for i in range(len(faults))],
        "errors": [f.error for f in faults if f.error],
    }
    verdicts["every_send_answered"] = {
        "ok": not metrics.unanswered,
        "unanswered": len(metrics.unanswered),
        "first": [(round(t, 1), e) for t, e in metrics.unanswered[:5]],
        "note": f"no answer within {ATTEMPT_TIMEOUT:g} s to a request on an open socket",
    }
    verdicts["every_send_acknowledged"] = {
        "ok": ran["unacked"] == 0,
        "sent": ran["sent"],
        "unacked": ran["unacked"],
        "acked": len(metrics.acks),
    }
    verdicts["rss_growth"] = rss_verdict(rss, duration)
    ok = all(v["ok"] is not False for v in verdicts.values())
    summary = {
        "record": "summary",
        "ok": ok,
        "failed_checks": [k for k, v in verdicts.items() if v["ok"] is False],
        "duration_s": duration,
        "rate": args.rate,
        "acked": len(metrics.acks),
        "acked_per_s": round(len(metrics.acks) / duration, 1),
        "faults": len(faults),
        "reconnects": len(metrics.reconnects),
        "failures": len(metrics.failures),
        "catch_ups": {
            why: sum(1 for _, w, _ in metrics.catch_ups if w == why) for why in ("join", "reconnect", "gap", "final")
        },
        "messages_filled_by_catch_up": {
            why: sum(n for _, w, n in metrics.catch_ups if w == why) for why in ("reconnect", "gap", "final")
        },
        "wall_s": round(time.time() - began, 1),
    }
    for name, verdict in verdicts.items():
        emit({"record": "check", "check": name, **verdict})
    emit(summary)
    body = {
        "machine": info,
        "args": {k: str(v) for k, v in vars(args).items()},
        "postgres": db.kind,
        "setup": cast_info,
        "summary": summary,
        "checks": verdicts,
        "windows": windows,
        "faults": [{**f.record(), "recovery_s": recoveries[i]} for i, f in enumerate(faults)],
        "timeline": timeline(metrics, max([duration, *(t for t, _, _, _ in metrics.acks)])),
        "logs": {k: str(v) for k, v in logs.items()},
    }
    path = save(body, args.results, info.get("commit") or "unknown")
    print(table(windows, window))
    print(f"\n{'PASSED' if ok else 'FAILED: ' + ', '.join(summary['failed_checks'])}; results in {path}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
