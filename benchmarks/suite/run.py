"""One database: its cast, then every workload not skipped, each next to its ceiling; the summary."""

import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from benchmarks.suite.cast import make_cast
from benchmarks.suite.config import ROOT, TARGETS, Config
from benchmarks.suite.fanout import workload_fanout
from benchmarks.suite.idle import workload_idle
from benchmarks.suite.lag import workload_lag
from benchmarks.suite.pairs import workload_pairs, workload_pairs_open
from benchmarks.suite.pool import Pool
from benchmarks.suite.rebuild import workload_rebuild
from benchmarks.suite.report import Recorder, verdicts
from benchmarks.suite.scale_out import workload_two_processes
from benchmarks.suite.storm import workload_storm
from benchmarks.suite.topology import contract_relay, parley, relay
from tests.support.databases import database

BARE, CONTRACT = "bare relay (ceiling)", "contract relay (ceiling)"  # the two ceilings' names in the records


def run_database(db: str, cfg: Config, info: dict[str, Any]) -> dict[str, Any]:
    rec = Recorder(db, cfg, info)
    summary: dict[str, Any] = {"targets": TARGETS}
    pool = Pool(cfg.workers + 1)
    failed = True
    try:
        with tempfile.TemporaryDirectory(prefix="parley-suite-") as tmp, database(db, Path(tmp)) as database_url:
            relay_best: dict[str, dict[str, Any]] = {}  # client kind -> the best level of workload a
            relay_fanout: dict[str, Any] = {}
            parley_best: dict[str, dict[str, Any]] = {}
            contract_best: dict[str, dict[str, Any]] = {}
            contract_fanout: dict[str, Any] = {}
            primary = cfg.clients[0]  # the client of the open loop, the lag and 2-process workloads
            with parley(database_url) as server:
                cast, setup = make_cast(server.url, max(cfg.pair_levels), cfg.group_members)
            rec.emit({"workload": "setup", **setup})
            if "a" not in cfg.skip or "b" not in cfg.skip:
                with relay() as r:
                    pids = {"server": r.pid}
                    if "a" not in cfg.skip:
                        relay_best = workload_pairs(rec, pool, cfg, None, r.url, pids, BARE)
                    if "b" not in cfg.skip:
                        tokens = ["relay"] * cfg.group_members
                        relay_fanout = workload_fanout(
                            rec, pool, cfg, r.url, pids, BARE, "relay", tokens, str(uuid.uuid4())
                        )
                with contract_relay() as r:  # the cast's own users and conversations, no storage
                    pids = {"server": r.pid}
                    name = CONTRACT
                    if "a" not in cfg.skip:
                        contract_best = workload_pairs(rec, pool, cfg, cast, r.url, pids, name, profiled=False)
                    if "b" not in cfg.skip:
                        contract_fanout = workload_fanout(
                            rec,
                            pool,
                            cfg,
                            r.url,
                            pids,
                            name,
                            cast.hub.token,
                            [m.token for m in cast.members],
                            cast.group,
                            profiled=False,
                        )
            with parley(database_url) as server:
                pids = {"server": server.process.pid}  # type: ignore[union-attr]
                if "a" not in cfg.skip:
                    parley_best = workload_pairs(rec, pool, cfg, cast, server.url, pids, f"parley ({db})")
                    best = parley_best[primary]
                    relay_top, contract_top = relay_best.get(primary, {}), contract_best.get(primary, {})
                    half = best["acked_sends_per_second"] / 2
                    open_pairs = best["pairs"]
                    parley_open = workload_pairs_open(
                        rec, pool, cfg, cast, server.url, pids, f"parley ({db})", half, open_pairs
                    )
                    summary["a_pairs"] = {
                        "client": primary,
                        "relay_acked_sends_per_second": relay_top.get("acked_sends_per_second"),
                        "relay_pairs": relay_top.get("pairs"),
                        "parley_acked_sends_per_second": best["acked_sends_per_second"],
                        "parley_pairs": best["pairs"],
                        "parley_p99_ack_ms_at_max": best["send_to_ack_ms"]["p99"],
                        "share_of_relay": share(best, relay_top, "acked_sends_per_second"),
                        "contract_relay_acked_sends_per_second": contract_top.get("acked_sends_per_second"),
                        "contract_relay_pairs": contract_top.get("pairs"),
                        "share_of_contract_relay": share(best, contract_top, "acked_sends_per_second"),
                        "relay_server_cpu_ms_per_send": relay_top.get("server_cpu_ms_per_send"),
                        "contract_relay_server_cpu_ms_per_send": contract_top.get("server_cpu_ms_per_send"),
                        "parley_server_cpu_ms_per_send": best.get("server_cpu_ms_per_send"),
                        "by_pairs": by_pairs(rec.records, db, primary),
                        "by_client": {
                            client: by_client(
                                relay_best.get(client, {}),
                                contract_best.get(client, {}),
                                parley_best.get(client, {}),
                                by_pairs(rec.records, db, client),
                            )
                            for client in cfg.clients
                        },
                        "half_rate_offered": round(half, 1),
                        "parley_p99_send_to_message_new_ms_at_half_rate": parley_open["send_to_message_new_ms"]["p99"],
                        "parley_p50_send_to_message_new_ms_at_half_rate": parley_open["send_to_message_new_ms"]["p50"],
                        "parley_p99_send_to_ack_ms_at_half_rate": parley_open["send_to_ack_ms"]["p99"],
                        "parley_p50_send_to_ack_ms_at_half_rate": parley_open["send_to_ack_ms"]["p50"],
                        "parley_errors": {**best["errors"], **parley_open["errors"]},
                    }
                if "l" not in cfg.skip:
                    top = parley_best.get(primary, {}).get("acked_sends_per_second")
                    summary["l_lag"] = workload_lag(rec, pool, cfg, cast, server.url, pids, f"parley ({db})", top)
                if "b" not in cfg.skip:
                    fan = workload_fanout(
                        rec,
                        pool,
                        cfg,
                        server.url,
                        pids,
                        f"parley ({db})",
                        cast.hub.token,
                        [m.token for m in cast.members],
                        cast.group,
                    )
                    summary["b_fanout"] = {
                        "relay_deliveries_per_second": relay_fanout.get("deliveries_per_second"),
                        "parley_deliveries_per_second": fan["deliveries_per_second"],
                        "share_of_relay": round(fan["deliveries_per_second"] / relay_fanout["deliveries_per_second"], 3)
                        if relay_fanout
                        else None,
                        "contract_relay_deliveries_per_second": contract_fanout.get("deliveries_per_second"),
                        "share_of_contract_relay": share(fan, contract_fanout, "deliveries_per_second"),
                        "relay_p99_to_last_member_ms": relay_fanout.get("to_last_member_ms", {}).get("p99"),
                        "contract_relay_p99_to_last_member_ms": contract_fanout.get("to_last_member_ms", {}).get("p99"),
                        "parley_p99_to_last_member_ms": fan["to_last_member_ms"]["p99"],
                        "parley_p99_per_delivery_ms": fan["per_delivery_ms"]["p99"],
                        "complete": fan["deliveries_received"] == fan["deliveries_expected"],
                    }
                if "d" not in cfg.skip:
                    storm = workload_storm(rec, pool, cfg, cast, server.url, pids)
                    summary["d_storm"] = {
                        k: storm[k]
                        for k in (
                            "followers",
                            "nothing_missed",
                            "missing_messages",
                            "followers_behind_head",
                            "behind_after_grace",
                            "all_at_head_after_stop_ms",
                            "reconnect_errors",
                        )
                    }
                    summary["d_storm"]["p99_catch_up_ms"] = storm["catch_up_ms"]["p99"]
            if "c" not in cfg.skip:
                tokens = [p.token for p in cast.everyone]
                with relay() as r:
                    relay_idle = workload_idle(rec, pool, cfg, r.url, r.pid, "bare relay (reference)", ["relay"], 0)
                with parley(database_url) as server:  # a fresh process: its RSS before is its start-up RSS
                    idle = workload_idle(
                        rec,
                        pool,
                        cfg,
                        server.url,
                        server.process.pid,  # type: ignore[union-attr]
                        f"parley ({db})",
                        tokens,
                        len(tokens),
                    )
                summary["c_idle"] = {
                    "sockets": idle["sockets"],
                    "users": idle["users"],
                    "kib_per_socket": idle["kib_per_socket"],
                    "relay_kib_per_socket": relay_idle["kib_per_socket"],
                }
            if "2" not in cfg.skip:
                two = workload_two_processes(rec, pool, cfg, cast, database_url, parley_best.get(primary, {}))
                summary["two_processes"] = {
                    k: two.get(k)
                    for k in (
                        "skipped",
                        "pairs",
                        "one_process_acked_sends_per_second",
                        "acked_sends_per_second",
                        "gain_over_one_process",
                        "offered_per_second",
                        "offered_as",
                        "one_process_cpu_ms_per_message",
                        "two_process_cpu_ms_per_message",
                        "cpu_ratio_two_over_one",
                        "one_process_cpu_share_by_group",
                        "two_process_cpu_share_by_group",
                        "one_process_open_loop",
                        "two_process_open_loop",
                        "projected_8_core_sends_per_second",
                        "projection",
                    )
                }
        if "e" not in cfg.skip:
            rebuild = workload_rebuild(rec, cfg, db)
            summary["e_rebuild"] = {
                k: rebuild.get(k)
                for k in (
                    "events",
                    "raw_read_per_second",
                    "rebuild_per_second",
                    "rebuild_share_of_raw_read",
                    "rebuild_rss_mib",
                    "error",
                )
            }
        failed = False
    finally:
        pool.close(failed)
    summary["verdicts"] = verdicts(summary)
    summary["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path = rec.save(summary)
    print(json.dumps({"database": db, "summary": summary, "results_file": str(path.relative_to(ROOT))}), flush=True)
    return summary


def share(ours: dict[str, Any], ceiling: dict[str, Any], key: str) -> float | None:
    """Parley's figure as a share of a ceiling's, or None where the ceiling was not measured."""
    return round(ours[key] / ceiling[key], 3) if ceiling.get(key) else None


def by_pairs(records: list[dict[str, Any]], db: str, client: str = "light") -> dict[str, dict[str, Any]]:
    """Workload (a) at each concurrency level with one client kind: acked sends/s and server CPU per send
    of each server, and Parley's share of each ceiling at that level."""
    out: dict[str, dict[str, Any]] = {}
    names = {BARE: "relay", CONTRACT: "contract_relay", f"parley ({db})": "parley"}
    for r in records:
        if r.get("workload") == "a_pairs" and r.get("server") in names and r.get("client", "light") == client:
            level = out.setdefault(str(r["pairs"]), {})
            who = names[r["server"]]
            level[f"{who}_acked_sends_per_second"] = r["acked_sends_per_second"]
            level[f"{who}_server_cpu_ms_per_send"] = r.get("server_cpu_ms_per_send")
            level[f"{who}_load_generator_cores"] = r.get("load_generator_cores")
    for level in out.values():
        parley = level.get("parley_acked_sends_per_second")
        for who in ("relay", "contract_relay"):
            ceiling = level.get(f"{who}_acked_sends_per_second")
            level[f"share_of_{who}"] = round(parley / ceiling, 3) if parley is not None and ceiling else None
    return out


def by_client(
    relay: dict[str, Any], contract: dict[str, Any], parley: dict[str, Any], levels: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Workload (a)'s best of each server with one client kind, Parley's shares of the ceilings measured
    with the same client, and the load generator's CPU (near one core per worker process: the bottleneck)."""
    out: dict[str, Any] = {}
    for who, best in (("relay", relay), ("contract_relay", contract), ("parley", parley)):
        out[f"{who}_acked_sends_per_second"] = best.get("acked_sends_per_second")
        out[f"{who}_pairs"] = best.get("pairs")
        out[f"{who}_load_generator_cores"] = best.get("load_generator_cores")
        out[f"{who}_load_generator_cpu_ms_per_send"] = best.get("load_generator_cpu_ms_per_send")
    out["load_generator_processes"] = parley.get("load_generator_processes")
    out["share_of_relay"] = share(parley, relay, "acked_sends_per_second") if parley else None
    out["share_of_contract_relay"] = share(parley, contract, "acked_sends_per_second") if parley else None
    out["by_pairs"] = levels
    return out
