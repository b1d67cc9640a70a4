"""Figures from what the clients saw: per window (a minute in the full run) acked sends/s, ack
latency, failures by code, RSS of each process; per fault the time until clients were served again;
the RSS verdict; the table for the README; the results file."""

import bisect
import json
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.soak.faults import Fault
from benchmarks.soak.load import Metrics
from benchmarks.suite import pct

RESULTS = Path(__file__).resolve().parent.parent / "results"
RECOVERED_SHARE = 0.5  # of the offered rate, acknowledged in each of two seconds in a row
RSS_GROWTH_LIMIT = 0.10


@dataclass
class RssSample:
    t: float
    name: str
    pid: int
    kib: int


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def recovery_seconds(fault: Fault, metrics: Metrics, rate: float, until: float) -> float | None:
    """Seconds from the fault's start until clients were served again: (1) the broken part is back;
    (2) every client that lost its socket or had a send fail since the fault has had a send
    acknowledged after that; (3) from then on two whole seconds each acknowledged at least half the
    offered rate. None when that did not happen before `until` (the next fault, or the end of the load)."""
    if fault.back_at is None:
        return None
    trouble: dict[int, float] = {}
    for t, _, client in metrics.failures:
        if fault.at <= t < until:
            trouble[client] = max(t, trouble.get(client, t))
    for t, client in metrics.disconnects:
        if fault.at <= t < until:
            trouble[client] = max(t, trouble.get(client, t))
    acked_at: dict[int, list[float]] = {}
    for t, _, _, client in metrics.acks:  # in time order
        acked_at.setdefault(client, []).append(t)
    served = fault.back_at
    for client, last in trouble.items():
        times = acked_at.get(client, [])
        i = bisect.bisect_right(times, last)
        if i == len(times) or times[i] >= until:
            return None
        served = max(served, times[i])
    acks = Counter(int(t) for t, _, _, _ in metrics.acks)
    need = RECOVERED_SHARE * rate
    second = int(served)
    while second + 2 <= until:
        if acks[second] >= need and acks[second + 1] >= need:
            return round(max(served, second) - fault.at, 2)
        second += 1
    return None


def window_record(
    index: int,
    start: float,
    end: float,
    metrics: Metrics,
    faults: list[Fault],
    rss: list[RssSample],
    loadavg: list[tuple[float, float]],
    recoveries: dict[int, float | None] | None = None,
) -> dict[str, Any]:
    """One window [start, end) seconds since the load began."""
    span = end - start
    attempt = [ms for t, ms, _, _ in metrics.acks if start <= t < end]
    settle = [ms for t, _, ms, _ in metrics.acks if start <= t < end]
    failures = Counter(code for t, code, _ in metrics.failures if start <= t < end)
    last_rss: dict[str, float] = {}
    for sample in rss:
        if start <= sample.t < end:
            last_rss[sample.name] = round(sample.kib / 1024, 1)
    here = [(i, f) for i, f in enumerate(faults) if start <= f.at < end]
    return {
        "record": "window",
        "window": index,
        "from_s": round(start, 1),
        "to_s": round(end, 1),
        "faults": [
            {
                "fault": f.name,
                "at_s": round(f.at, 1),
                "error": f.error,
                **({"recovery_s": recoveries.get(i)} if recoveries is not None else {}),
            }
            for i, f in here
        ],
        "acked_per_s": round(len(attempt) / span, 1),
        "ack_ms": {"p50": pct(attempt, 50), "p99": pct(attempt, 99), "max": pct(attempt, 100)},
        "due_to_ack_ms": {"p50": pct(settle, 50), "p99": pct(settle, 99), "max": pct(settle, 100)},
        "failures": dict(failures),
        "unanswered": sum(1 for t, _ in metrics.unanswered if start <= t < end),
        "disconnects": sum(1 for t, _ in metrics.disconnects if start <= t < end),
        "reconnects": sum(1 for t in metrics.reconnects if start <= t < end),
        "caught_up_messages": sum(n for t, _, n in metrics.catch_ups if start <= t < end),
        "rss_mib": last_rss,
        "loadavg_1m_max": max((v for t, v in loadavg if start <= t < end), default=None),  # the machine is shared
    }


def timeline(metrics: Metrics, until: float) -> list[list[Any]]:
    """[second, acknowledged, failed, unanswered, reconnects] for each second since the load began."""
    acks = Counter(int(t) for t, _, _, _ in metrics.acks)
    fails = Counter(int(t) for t, _, _ in metrics.failures)
    silent = Counter(int(t) for t, _ in metrics.unanswered)
    back = Counter(int(t) for t in metrics.reconnects)
    return [[s, acks[s], fails[s], silent[s], back[s]] for s in range(int(until) + 1)]


def rss_verdict(rss: list[RssSample], duration: float, first_minute: float = 60.0) -> dict[str, Any]:
    """server_b is never killed: its RSS over the last 10 s of the load against the last 10 s of the
    first minute (medians), at most +10%. Runs shorter than two minutes are not judged. The other
    processes are reported since their last start."""

    def median(name: str, pid: int, lo: float, hi: float) -> float | None:
        values = [s.kib for s in rss if s.name == name and s.pid == pid and lo <= s.t < hi]
        return statistics.median(values) / 1024 if values else None

    lives: dict[str, Any] = {}
    for name in ("server_a", "server_b", "projector"):
        mine = [s for s in rss if s.name == name]
        if not mine:
            continue
        pid = mine[-1].pid
        life = [s for s in mine if s.pid == pid]
        lives[name] = {
            "pid": pid,
            "since_s": round(life[0].t, 1),
            "first_mib": round(life[0].kib / 1024, 1),
            "end_mib": round(life[-1].kib / 1024, 1),
            "peak_mib": round(max(s.kib for s in life) / 1024, 1),
        }
    if duration < 2 * first_minute:
        return {"ok": None, "judged": False, "why": "the run is shorter than two minutes", "processes": lives}
    pid = next((s.pid for s in rss if s.name == "server_b"), 0)
    baseline = median("server_b", pid, first_minute - 10, first_minute)
    final = median("server_b", pid, duration - 10, duration)
    if baseline is None or final is None:
        return {"ok": False, "judged": True, "why": "no RSS samples of server_b", "processes": lives}
    growth = final / baseline - 1
    return {
        "ok": growth <= RSS_GROWTH_LIMIT,
        "judged": True,
        "process": "server_b (never restarted)",
        "after_first_minute_mib": round(baseline, 1),
        "at_end_mib": round(final, 1),
        "growth": round(growth, 4),
        "limit": RSS_GROWTH_LIMIT,
        "processes": lives,
    }


def emit(record: dict[str, Any]) -> dict[str, Any]:
    print(json.dumps(record, default=str), flush=True)
    return record


def table(windows: list[dict[str, Any]], window_seconds: float) -> str:
    unit = "minute" if window_seconds == 60 else f"window ({window_seconds:g} s)"
    lines = [
        f"| {unit} | fault (at s) | acked/s | ack p50 / p99 ms | due -> ack p99 ms | failed sends | "
        "recovery s | RSS a / b / projector MiB | load avg |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for w in windows:
        faults = (
            ", ".join(
                f"{f['fault']} ({f['at_s']:g})" + (f" **{f['error']}**" if f.get("error") else "") for f in w["faults"]
            )
            or "-"
        )
        recovery = (
            ", ".join(
                "**not recovered**" if f.get("recovery_s") is None else f"{f['recovery_s']:g}" for f in w["faults"]
            )
            or "-"
        )
        failed = ", ".join(f"{code} {n}" for code, n in sorted(w["failures"].items())) or "0"
        rss = " / ".join(str(w["rss_mib"].get(n, "-")) for n in ("server_a", "server_b", "projector"))
        lines.append(
            f"| {w['window'] + 1} | {faults} | {w['acked_per_s']:g} | {w['ack_ms']['p50']} / "
            f"{w['ack_ms']['p99']} | {w['due_to_ack_ms']['p99']} | {failed} | {recovery} | {rss} | "
            f"{w['loadavg_1m_max']} |"
        )
    return "\n".join(lines)


def save(body: dict[str, Any], path: Path | None, commit: str) -> Path:
    if path is None:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{datetime.now(UTC).strftime('%Y-%m-%d')}-soak-{commit}.json"
    path.write_text(json.dumps(body, indent=1, default=str) + "\n")
    return path
