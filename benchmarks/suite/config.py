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
    "idle_kib_per_socket": 100.0,
    "storm_p99_catch_up_ms": 2000.0,
    "rebuild_share_of_raw_read": 0.50,
    "two_process_gain": 1.6,
}


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
        )
