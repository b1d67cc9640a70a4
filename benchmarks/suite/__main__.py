"""`python -m benchmarks.suite`: the command line (see the package's docstring)."""

import argparse
import json
from pathlib import Path

import benchmarks.suite
from benchmarks.loadgen import raise_nofile
from benchmarks.suite.config import Config
from benchmarks.suite.machine import machine
from benchmarks.suite.report import table
from benchmarks.suite.run import run_database


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.suite",
        description=benchmarks.suite.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument(
        "--quick", action="store_true", help="smaller counts and shorter windows (about 3 minutes a database)"
    )
    parser.add_argument(
        "--workers", type=int, default=3, help="client worker processes (one more runs the storm's sender)"
    )
    parser.add_argument(
        "--pairs",
        type=lambda s: [int(x) for x in s.split(",")],
        default=None,
        help="concurrency levels of workload a, comma-separated (default 50,100,200; quick 100)",
    )
    parser.add_argument("--seconds", type=float, default=None, help="measured window of each run (default 8; quick 4)")
    parser.add_argument("--idle-sockets", type=int, default=None)
    parser.add_argument("--storm-followers", type=int, default=None)
    parser.add_argument("--rebuild-events", type=int, default=None)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy record the Parley server during workloads a, b and d, summarised in the results",
    )
    parser.add_argument(
        "--skip",
        type=lambda s: [x for x in s.split(",") if x],
        default=[],
        help="workloads to leave out, comma-separated from a,b,c,d,e,l,2",
    )
    parser.add_argument(
        "--client",
        choices=["light", "socketio", "both"],
        default="light",
        help="workload a's load generator: the light client (benchmarks/wire_client.py), python-socketio's own "
        "AsyncClient, or both (the closed loop at each level with each, relays and Parley alike; the open loop, "
        "the lag and 2-process workloads use the first)",
    )
    parser.add_argument(
        "--lag-seconds",
        type=float,
        default=None,
        help="workload l: length of each of its two phases (default 60; quick 20)",
    )
    parser.add_argument(
        "--table",
        nargs="+",
        type=Path,
        metavar="RESULTS_JSON",
        help="print a markdown table of saved results and exit (runs nothing)",
    )
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    cfg = Config.make(args)
    raise_nofile()
    info = machine()
    print(json.dumps({"machine": info}), flush=True)
    for db in ["postgres", "sqlite"] if args.database == "both" else [args.database]:
        run_database(db, cfg, info)


if __name__ == "__main__":
    main()
