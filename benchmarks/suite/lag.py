"""Workload (l): bounded delivery lag. Under sustained load send -> message_new must stay within a bound of
send -> ack (issue 14: p99 under 4x the ack's p99) and not grow over the run; when broadcasting cannot keep
up the server must push back (slower acks, or rate_limited) rather than queue without limit.

Two phases on one `parley serve`, each `--lag-seconds` long: 200 pairs (or fewer, the largest level the
cast has) in a closed loop, then the same pairs open loop at LAG_OVERLOAD times Parley's best closed-loop
rate (overload). Each phase is reported per LAG_WINDOW_SECONDS window (acked/s and delivered/s by arrival
time, latencies of the sends made in the window, errors by code by arrival time) and as a whole."""

import math
from typing import Any

from benchmarks.suite.cast import Cast
from benchmarks.suite.config import LAG_OVERLOAD, LAG_WINDOW_SECONDS, Config
from benchmarks.suite.pairs import merged_errors, pair_list, pairs_jobs_run, schedule_kept
from benchmarks.suite.pool import Pool
from benchmarks.suite.report import Recorder, latency, pct

LAG_PAIRS = 200
UNDELIVERED_WAIT = 5.0  # an acknowledged message not delivered this long after the phase counts as lost
GROWTH = 1.5  # lag_growing: the last third's p99 send -> message_new over the first third's above this


def workload_lag(
    rec: Recorder,
    pool: Pool,
    cfg: Config,
    cast: Cast,
    url: str,
    pids: dict[str, int],
    server: str,
    best_rate: float | None,
) -> dict[str, Any]:
    """Both phases; `best_rate`: Parley's best closed-loop acked sends/s from workload a (None when it was
    skipped: the closed phase's rate is used instead)."""
    pairs = pair_list(cast, min(LAG_PAIRS, len(cast.pairs)))
    client = cfg.clients[0]
    out: dict[str, Any] = {"pairs": len(pairs), "seconds": cfg.lag_seconds, "client": client}
    for phase in ("closed", "overload"):
        rate = None
        if phase == "overload":
            base = best_rate or out["closed"]["acked_sends_per_second"]
            rate = LAG_OVERLOAD * base
        results, cpu = pairs_jobs_run(
            pool,
            url,
            pids,
            pairs,
            "closed" if phase == "closed" else "open",
            cfg.lag_seconds,
            rate_per_pair=rate / len(pairs) if rate else None,
            client=client,
            extra={
                "timeline": True,
                "window_seconds": LAG_WINDOW_SECONDS,
                "undelivered_wait": UNDELIVERED_WAIT,
                "ack_wait": 30.0,
            },
        )
        result = lag_phase(results, cfg.lag_seconds, LAG_WINDOW_SECONDS)
        result |= cpu.report(sum(r["cpu_seconds"] for r in results))
        if rate:
            result["offered_per_second"] = round(rate, 1)
            result |= schedule_kept(results)
            result["offered_as"] = (
                f"{LAG_OVERLOAD} x Parley's best closed-loop rate ({round(rate / LAG_OVERLOAD, 1)}/s)"
            )
        rec.emit(
            {
                "workload": "l_lag",
                "server": server,
                "phase": phase,
                "mode": "closed (one message in flight per sender)" if phase == "closed" else "open loop (overload)",
                "client": client,
                "pairs": len(pairs),
                **result,
            }
        )
        out[phase] = {k: v for k, v in result.items() if k != "windows"}
    return out


def lag_phase(results: list[dict[str, Any]], seconds: float, width: float) -> dict[str, Any]:
    """One phase's figures from the pairs jobs' timelines (send times in seconds after the window's start)."""
    acks = [(s, ms) for r in results for s, ms in zip(r["ack_sent"], r["ack_ms"], strict=True)]
    delivers = [(s, ms) for r in results for s, ms in zip(r["deliver_sent"], r["deliver_ms"], strict=True)]
    count = max(1, math.ceil(seconds / width - 1e-9))
    windows: list[dict[str, Any]] = []
    for i in range(count):
        lo, hi = i * width, min(seconds, (i + 1) * width)
        span = hi - lo
        errors: dict[str, int] = {}
        for r in results:
            for code, n in r["errors_by_window"].get(i, {}).items():
                errors[code] = errors.get(code, 0) + n
        ack_in = [ms for s, ms in acks if lo <= s < hi]
        deliver_in = [ms for s, ms in delivers if lo <= s < hi]
        windows.append(
            {
                "from_s": round(lo, 1),
                # rates by arrival time (send time + latency), latencies of the sends made in the window
                "acked_per_second": round(sum(1 for s, ms in acks if lo <= s + ms / 1000 < hi) / span, 1),
                "delivered_per_second": round(sum(1 for s, ms in delivers if lo <= s + ms / 1000 < hi) / span, 1),
                "send_to_ack_ms": {"p50": pct(ack_in, 50), "p99": pct(ack_in, 99), "n": len(ack_in)},
                "send_to_message_new_ms": {
                    "p50": pct(deliver_in, 50),
                    "p99": pct(deliver_in, 99),
                    "n": len(deliver_in),
                },
                "errors": errors,
            }
        )
    ack_all = [ms for _, ms in acks]
    deliver_all = [ms for _, ms in delivers]
    third = seconds / 3
    first = [ms for s, ms in delivers if s < third]
    last = [ms for s, ms in delivers if s >= 2 * third]
    p99_first, p99_last = pct(first, 99), pct(last, 99)
    p99_ack, p99_deliver = pct(ack_all, 99), pct(deliver_all, 99)
    acked_in_window = sum(r["acked_in_window"] for r in results)
    return {
        "acked_sends_per_second": round(acked_in_window / seconds, 1),
        "delivered_per_second": round(len(deliver_all) / seconds, 1),
        "send_to_ack_ms": latency(ack_all),
        "send_to_message_new_ms": latency(deliver_all),
        "errors": merged_errors(results),
        "acked_messages": sum(r["acked_messages"] for r in results),
        # acknowledged, yet not seen as message_new by the receiver UNDELIVERED_WAIT s after the phase's last ack
        "acked_never_delivered": sum(r["undelivered"] or 0 for r in results),
        "p99_deliver_over_ack": round(p99_deliver / p99_ack, 2) if p99_deliver and p99_ack else None,
        "p99_send_to_message_new_ms_first_third": p99_first,
        "p99_send_to_message_new_ms_last_third": p99_last,
        "lag_growing": bool(p99_first and p99_last and p99_last > GROWTH * p99_first),
        "windows": windows,
    }
