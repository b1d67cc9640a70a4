"""The suite's output: one JSON line per measurement, a results file per database, percentiles, the
verdicts against the targets, and the markdown table of saved results."""

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.suite.config import RESULTS, TARGETS, Config


class Recorder:
    def __init__(self, database: str, config: Config, machine: dict[str, Any]) -> None:
        self.database, self.config, self.machine = database, config, machine
        self.records: list[dict[str, Any]] = []

    def emit(self, record: dict[str, Any]) -> dict[str, Any]:
        record = {
            "database": self.database,
            **record,
            "loadavg": [round(x, 2) for x in os.getloadavg()],
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self.records.append(record)
        print(json.dumps(record), flush=True)
        return record

    def save(self, summary: dict[str, Any]) -> Path:
        RESULTS.mkdir(exist_ok=True)
        date = datetime.now(UTC).strftime("%Y-%m-%d")
        commit = self.machine.get("commit") or "unknown"  # one file per commit: a later run keeps earlier ones
        path = RESULTS / f"{date}-{self.database}-{commit}{'-quick' if self.config.quick else ''}.json"
        body = {
            "machine": self.machine,
            "database": self.database,
            "config": self.config.__dict__ | {"skip": sorted(self.config.skip)},
            "summary": summary,
            "records": self.records,
        }
        path.write_text(json.dumps(body, indent=1, default=str) + "\n")
        return path


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered) + 0.4999))
    return round(ordered[min(rank, len(ordered)) - 1], 2)


def latency(values: list[float]) -> dict[str, Any]:
    return {
        "p50": pct(values, 50),
        "p90": pct(values, 90),
        "p99": pct(values, 99),
        "max": pct(values, 100),
        "n": len(values),
    }


def verdicts(s: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def judge(name: str, value: float | None, target: float, higher_is_better: bool) -> None:
        if value is None:
            return
        met = value >= target if higher_is_better else value <= target
        out[name] = {"value": value, "target": target, "met": met, "by": round(value / target, 3) if target else None}

    a = s.get("a_pairs")
    if a:
        judge("a_share_of_relay", a.get("share_of_relay"), TARGETS["pairs_share_of_relay"], True)
        judge(
            "a_share_of_contract_relay",
            a.get("share_of_contract_relay"),
            TARGETS["pairs_share_of_contract_relay"],
            True,
        )
        judge(
            "a_p99_send_to_message_new_ms_at_half_rate",
            a.get("parley_p99_send_to_message_new_ms_at_half_rate"),
            TARGETS["pairs_p99_deliver_ms_at_half_rate"],
            False,
        )
        judge(
            "a_p99_send_to_ack_ms_at_half_rate",
            a.get("parley_p99_send_to_ack_ms_at_half_rate"),
            TARGETS["pairs_p99_ack_ms_at_half_rate"],
            False,
        )
        for client, figures in (a.get("by_client") or {}).items():
            if client == a.get("client"):
                continue  # the first client's verdicts are the ones above
            judge(f"a_share_of_relay[{client}]", figures.get("share_of_relay"), TARGETS["pairs_share_of_relay"], True)
            judge(
                f"a_share_of_contract_relay[{client}]",
                figures.get("share_of_contract_relay"),
                TARGETS["pairs_share_of_contract_relay"],
                True,
            )
    lag = s.get("l_lag")
    if lag:
        for phase in ("closed", "overload"):
            p = lag.get(phase)
            if not p:
                continue
            judge(
                f"l_{phase}_p99_deliver_over_ack",
                p.get("p99_deliver_over_ack"),
                TARGETS["lag_p99_deliver_over_ack"],
                False,
            )
            out[f"l_{phase}_not_growing"] = {
                "met": not p.get("lag_growing"),
                "first_third_p99_ms": p.get("p99_send_to_message_new_ms_first_third"),
                "last_third_p99_ms": p.get("p99_send_to_message_new_ms_last_third"),
            }
            out[f"l_{phase}_all_delivered"] = {
                "met": p.get("acked_never_delivered") == 0,
                "acked_never_delivered": p.get("acked_never_delivered"),
            }
    c = s.get("c_idle")
    if c:
        judge("c_kib_per_socket", c.get("kib_per_socket"), TARGETS["idle_kib_per_socket"], False)
    d = s.get("d_storm")
    if d:
        judge("d_p99_catch_up_ms", d.get("p99_catch_up_ms"), TARGETS["storm_p99_catch_up_ms"], False)
        out["d_nothing_missed"] = {"met": bool(d.get("nothing_missed"))}
    e = s.get("e_rebuild")
    if e:
        judge(
            "e_rebuild_share_of_raw_read",
            e.get("rebuild_share_of_raw_read"),
            TARGETS["rebuild_share_of_raw_read"],
            True,
        )
    two = s.get("two_processes")
    if two and not two.get("skipped"):
        judge("two_process_cpu_ratio", two.get("cpu_ratio_two_over_one"), TARGETS["two_process_cpu_ratio"], False)
    return out


def table(paths: list[Path]) -> str:
    """A markdown table of saved results, one column per file (as in benchmarks/README.md)."""
    runs = [json.loads(path.read_text()) for path in paths]

    def get(run: dict[str, Any], *keys: str) -> Any:
        value: Any = run["summary"]
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def num(value: Any, unit: str = "") -> str:
        if value is None:
            return "-"
        return (f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}".rstrip("0").rstrip(".")) + unit

    def share(value: Any) -> str:
        return "-" if value is None else f"{value:.0%}"

    def verdict(run: dict[str, Any], name: str) -> str:
        v = get(run, "verdicts", name)
        return "" if not v else (" (met)" if v["met"] else " (**missed**)")

    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        (
            "(a) load generator's client (the rows below; python-socketio's has rows of its own)",
            lambda r: get(r, "a_pairs", "client") or "light",
        ),
        (
            "(a) acknowledged sends/s, bare relay (ceiling)",
            lambda r: (
                f"{num(get(r, 'a_pairs', 'relay_acked_sends_per_second'))} ({get(r, 'a_pairs', 'relay_pairs')} pairs)"
            ),
        ),
        (
            "(a) acknowledged sends/s, contract relay (ceiling)",
            lambda r: (
                f"{num(get(r, 'a_pairs', 'contract_relay_acked_sends_per_second'))} "
                f"({get(r, 'a_pairs', 'contract_relay_pairs')} pairs)"
                if get(r, "a_pairs", "contract_relay_pairs")
                else "-"
            ),
        ),
        (
            "(a) acknowledged sends/s, Parley",
            lambda r: (
                f"{num(get(r, 'a_pairs', 'parley_acked_sends_per_second'))} ({get(r, 'a_pairs', 'parley_pairs')} pairs)"
            ),
        ),
        (
            "(a) Parley / relay (target >= 60%)",
            lambda r: share(get(r, "a_pairs", "share_of_relay")) + verdict(r, "a_share_of_relay"),
        ),
        (
            "(a) Parley / contract relay (target >= 60%)",
            lambda r: share(get(r, "a_pairs", "share_of_contract_relay")) + verdict(r, "a_share_of_contract_relay"),
        ),
        (
            "(a) server CPU per send at the best rate, bare relay / contract relay / Parley",
            lambda r: (
                f"{num(get(r, 'a_pairs', 'relay_server_cpu_ms_per_send'))} / "
                f"{num(get(r, 'a_pairs', 'contract_relay_server_cpu_ms_per_send'))} / "
                f"{num(get(r, 'a_pairs', 'parley_server_cpu_ms_per_send'), ' ms')}"
            ),
        ),
        (
            "(a) python-socketio client: sends/s, bare relay / contract relay / Parley",
            lambda r: (
                f"{num(get(r, 'a_pairs', 'by_client', 'socketio', 'relay_acked_sends_per_second'))} / "
                f"{num(get(r, 'a_pairs', 'by_client', 'socketio', 'contract_relay_acked_sends_per_second'))} / "
                f"{num(get(r, 'a_pairs', 'by_client', 'socketio', 'parley_acked_sends_per_second'))} "
                f"({get(r, 'a_pairs', 'by_client', 'socketio', 'parley_pairs')} pairs)"
                if get(r, "a_pairs", "by_client", "socketio")
                else "-"
            ),
        ),
        (
            "(a) python-socketio client: Parley / relay, / contract relay (target >= 60%)",
            lambda r: (
                share(get(r, "a_pairs", "by_client", "socketio", "share_of_relay"))
                + verdict(r, "a_share_of_relay[socketio]")
                + ", "
                + share(get(r, "a_pairs", "by_client", "socketio", "share_of_contract_relay"))
                + verdict(r, "a_share_of_contract_relay[socketio]")
                if get(r, "a_pairs", "by_client", "socketio")
                else "-"
            ),
        ),
        (
            "(a) python-socketio client: load generator cores at Parley's best (processes)",
            lambda r: (
                f"{num(get(r, 'a_pairs', 'by_client', 'socketio', 'parley_load_generator_cores'))} "
                f"({get(r, 'a_pairs', 'by_client', 'socketio', 'load_generator_processes')})"
                if get(r, "a_pairs", "by_client", "socketio")
                else "-"
            ),
        ),
        ("(a) p99 send -> ack at the best rate", lambda r: num(get(r, "a_pairs", "parley_p99_ack_ms_at_max"), " ms")),
        (
            "(a) p50 / p99 send -> message_new at half that rate (target p99 < 50 ms)",
            lambda r: (
                f"{num(get(r, 'a_pairs', 'parley_p50_send_to_message_new_ms_at_half_rate'))} / "
                f"{num(get(r, 'a_pairs', 'parley_p99_send_to_message_new_ms_at_half_rate'), ' ms')} at "
                f"{num(get(r, 'a_pairs', 'half_rate_offered'))}/s"
                + verdict(r, "a_p99_send_to_message_new_ms_at_half_rate")
            ),
        ),
        (
            "(a) p50 / p99 send -> ack at half that rate (target p99 < 25 ms)",
            lambda r: (
                f"{num(get(r, 'a_pairs', 'parley_p50_send_to_ack_ms_at_half_rate'))} / "
                f"{num(get(r, 'a_pairs', 'parley_p99_send_to_ack_ms_at_half_rate'), ' ms')}"
                + verdict(r, "a_p99_send_to_ack_ms_at_half_rate")
            ),
        ),
        *[
            (
                f"(l) lag, {phase}: acked/s; p99 ack / message_new; ratio (target <= 4, not growing); never delivered",
                lambda r, phase=phase: (
                    f"{num(get(r, 'l_lag', phase, 'acked_sends_per_second'))}/s"
                    + (
                        f" of {num(get(r, 'l_lag', phase, 'offered_per_second'))}/s offered"
                        if phase == "overload"
                        else ""
                    )
                    + f"; {num(get(r, 'l_lag', phase, 'send_to_ack_ms', 'p99'))} / "
                    f"{num(get(r, 'l_lag', phase, 'send_to_message_new_ms', 'p99'), ' ms')}; "
                    f"{get(r, 'l_lag', phase, 'p99_deliver_over_ack')}x"
                    + verdict(r, f"l_{phase}_p99_deliver_over_ack")
                    + (", **growing**" if get(r, "l_lag", phase, "lag_growing") else ", not growing")
                    + f"; {get(r, 'l_lag', phase, 'acked_never_delivered')}"
                    if get(r, "l_lag", phase)
                    else "-"
                ),
            )
            for phase in ("closed", "overload")
        ],
        ("(b) deliveries/s, bare relay (ceiling)", lambda r: num(get(r, "b_fanout", "relay_deliveries_per_second"))),
        (
            "(b) deliveries/s, contract relay (ceiling)",
            lambda r: num(get(r, "b_fanout", "contract_relay_deliveries_per_second")),
        ),
        ("(b) deliveries/s, Parley", lambda r: num(get(r, "b_fanout", "parley_deliveries_per_second"))),
        ("(b) Parley / relay", lambda r: share(get(r, "b_fanout", "share_of_relay"))),
        ("(b) Parley / contract relay", lambda r: share(get(r, "b_fanout", "share_of_contract_relay"))),
        (
            "(b) p99 send -> last member's message_new, relay / Parley",
            lambda r: (
                f"{num(get(r, 'b_fanout', 'relay_p99_to_last_member_ms'))} / {num(get(r, 'b_fanout', 'parley_p99_to_last_member_ms'), ' ms')}"
            ),
        ),
        (
            "(c) KiB per idle socket, Parley (target < 100)",
            lambda r: (
                f"{num(get(r, 'c_idle', 'kib_per_socket'))} ({num(get(r, 'c_idle', 'sockets'))} sockets, {get(r, 'c_idle', 'users')} users)"
                + verdict(r, "c_kib_per_socket")
            ),
        ),
        ("(c) KiB per idle socket, bare relay (reference)", lambda r: num(get(r, "c_idle", "relay_kib_per_socket"))),
        (
            "(d) reconnect storm: followers, nothing missed",
            lambda r: (
                f"{num(get(r, 'd_storm', 'followers'))}, {'yes' if get(r, 'd_storm', 'nothing_missed') else '**no**'} ({get(r, 'd_storm', 'missing_messages')} missing)"
            ),
        ),
        (
            "(d) p99 catch-up (target < 2 s)",
            lambda r: num(get(r, "d_storm", "p99_catch_up_ms"), " ms") + verdict(r, "d_p99_catch_up_ms"),
        ),
        ("(e) raw read, events/s (ceiling)", lambda r: num(get(r, "e_rebuild", "raw_read_per_second"))),
        (
            "(e) rebuild, events/s",
            lambda r: f"{num(get(r, 'e_rebuild', 'rebuild_per_second'))} ({num(get(r, 'e_rebuild', 'events'))} events)",
        ),
        (
            "(e) rebuild / raw read (target >= 80%)",
            lambda r: (
                share(get(r, "e_rebuild", "rebuild_share_of_raw_read")) + verdict(r, "e_rebuild_share_of_raw_read")
            ),
        ),
        (
            "(e) rebuild RSS start -> peak; peak of 1st / 2nd half (MiB)",
            lambda r: (
                f"{get(r, 'e_rebuild', 'rebuild_rss_mib', 'start')} -> {get(r, 'e_rebuild', 'rebuild_rss_mib', 'peak')}; "
                f"{get(r, 'e_rebuild', 'rebuild_rss_mib', 'peak_first_half')} / {get(r, 'e_rebuild', 'rebuild_rss_mib', 'peak_second_half')}"
            ),
        ),
        (
            "2 processes: sends/s closed loop, 1 -> 2 processes",
            lambda r: (
                (get(r, "two_processes", "skipped") and "skipped")
                or f"{num(get(r, 'two_processes', 'one_process_acked_sends_per_second'))} -> {num(get(r, 'two_processes', 'acked_sends_per_second'))} "
                f"({get(r, 'two_processes', 'gain_over_one_process')}x)"
            ),
        ),
        (
            "2 processes: CPU ms per acked message (all processes), 1 -> 2, at the same offered rate (target ratio <= 1.3)",
            lambda r: (
                (get(r, "two_processes", "skipped") and "skipped")
                or f"{num(get(r, 'two_processes', 'one_process_cpu_ms_per_message'))} -> "
                f"{num(get(r, 'two_processes', 'two_process_cpu_ms_per_message'))} at "
                f"{num(get(r, 'two_processes', 'offered_per_second'))}/s "
                f"({get(r, 'two_processes', 'cpu_ratio_two_over_one')}x)"
                + verdict(r, "two_process_cpu_ratio")
            ),
        ),
        (
            "2 processes: projected sends/s on 8 cores (an estimate)",
            lambda r: num(get(r, "two_processes", "projected_8_core_sends_per_second")),
        ),
        (
            "1-minute load average over the run (min - max)",
            lambda r: f"{min(x['loadavg'][0] for x in r['records'])} - {max(x['loadavg'][0] for x in r['records'])}",
        ),
    ]
    head = "| figure | " + " | ".join(f"{run['database']} ({run['machine']['commit']})" for run in runs) + " |"
    lines = [head, "| --- |" + " --- |" * len(runs)]
    for label, cell in rows:
        cells = []
        for run in runs:
            try:
                cells.append(cell(run))
            except (KeyError, TypeError, IndexError):
                cells.append("-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
