"""What the suite measures against, and how much of it: the issue's targets and a run's counts."""

import argparse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
RESULTS = ROOT / "benchmarks" / "results"
TARGETS = {
    "pairs_share_of_relay": 0.60,
    "pairs_share_of_contract_relay": 0.60,  # issue 14: the ceiling of the contract's own socket work
    "pairs_p99_deliver_ms_at_half_rate": 50.0,
    "pairs_p99_ack_ms_at_half_rate": 25.0,  # issue 14: the open-loop run's send -> ack
    "idle_kib_per_socket": 100.0,
    "storm_p99_catch_up_ms": 2000.0,
    "rebuild_share_of_raw_read": 0.80,
    # issue 14: 2 cores cannot show a scale-out gain; the CPU per acknowledged message of two server processes
    # + the projector, all processes counted (PostgreSQL, Redis), over one process's, at the same offered rate
    "two_process_cpu_ratio": 1.3,
    # issue 14: under sustained load p99 send -> message_new within 4x p99 send -> ack, and not growing
    "lag_p99_deliver_over_ack": 4.0,
}
CLIENTS = (
    "light",
    "socketio",
)  # workload a's load generators: benchmarks/wire_client.py, python-socketio's AsyncClient
TWO_PROCESS_OFFERED_SHARE = 0.6  # the 2-process CPU comparison offers this share of the lower closed-loop best of both
LAG_OVERLOAD = 1.5  # the lag workload's second phase offers this multiple of Parley's best closed-loop rate
LAG_WINDOW_SECONDS = 5.0


@dataclass
class Config:
    quick: bool
    workers: int
    pair_levels: list[int]
    seconds: float
    group_members: int
    idle_sockets: int
    storm_followers: int
    storm_rate: float
    rebuild_events: int
    profile: bool = False
    skip: set[str] = field(default_factory=set)
    clients: list[str] = field(default_factory=lambda: ["light"])  # workload a's closed loop runs with each
    lag_seconds: float = 60.0

    @classmethod
    def make(cls, args: argparse.Namespace) -> "Config":
        quick = args.quick
        return cls(
            quick=quick,
            workers=args.workers,
            pair_levels=args.pairs or ([100] if quick else [50, 100, 200]),
            seconds=args.seconds or (4.0 if quick else 8.0),
            group_members=50,
            idle_sockets=args.idle_sockets or (2_000 if quick else 10_000),
            storm_followers=args.storm_followers or (300 if quick else 1_000),
            storm_rate=200.0,
            rebuild_events=args.rebuild_events or (50_000 if quick else 1_000_000),
            profile=args.profile,
            skip=set(args.skip),
            clients=list(CLIENTS) if args.client == "both" else [args.client],
            lag_seconds=args.lag_seconds or (20.0 if quick else 60.0),
        )
