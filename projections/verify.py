"""Verify the live read models: rebuild them into scratch tables and compare row by row."""

from dataclasses import dataclass, field
from typing import Any

from eventsourcing.application import Application

from projections.ports import SqlDatabase
from projections.projector import Projector
from projections.tables import LIVE_PREFIX, TABLES, column_names, drop_tables

SCRATCH_PREFIX = "rv_"
ATTEMPTS = 10


@dataclass
class Difference:
    table: str
    only_in_live: list[dict[str, Any]] = field(default_factory=list)
    only_in_rebuilt: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Verification:
    position: int
    differences: list[Difference]

    @property
    def ok(self) -> bool:
        return not self.differences


def verify(app: Application[Any], db: SqlDatabase, show: int = 20) -> Verification:
    """Compare the live read models with ones rebuilt from the events at the same position."""
    scratch = Projector(app, db, SCRATCH_PREFIX)
    with db.transaction(commit=True) as cur:
        drop_tables(cur, SCRATCH_PREFIX)
    scratch.setup(indexes=False)
    live = Projector(app, db, LIVE_PREFIX)
    try:
        for _ in range(ATTEMPTS):
            with db.transaction(commit=False) as cur:
                target = live.stored_position(cur)
            scratch.catch_up(stop=target)
            with db.transaction(commit=False) as cur:
                if db.engine == "postgres":
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                if live.stored_position(cur) != target:
                    continue  # the live set moved on while we caught up: catch up again
                return Verification(target, compare(cur, show, db.engine))
        raise RuntimeError("the live read models kept moving; verify while the server is quieter")
    finally:
        with db.transaction(commit=True) as cur:
            drop_tables(cur, SCRATCH_PREFIX)


def compare(cur: Any, show: int, engine: str) -> list[Difference]:
    """Row sets compared column by column by name: a live set upgraded in place has its added columns
    at the end, where a rebuilt one has them where the schema declares them."""
    differences = []
    for table in TABLES:
        if table == "position":
            continue
        live, rebuilt = f"{LIVE_PREFIX}{table}", f"{SCRATCH_PREFIX}{table}"
        names = ", ".join(column_names(cur, engine, rebuilt))
        difference = Difference(
            table,
            cur.execute(
                f"SELECT {names} FROM {live} EXCEPT SELECT {names} FROM {rebuilt} LIMIT {int(show)}"
            ).fetchall(),
            cur.execute(
                f"SELECT {names} FROM {rebuilt} EXCEPT SELECT {names} FROM {live} LIMIT {int(show)}"
            ).fetchall(),
        )
        if difference.only_in_live or difference.only_in_rebuilt:
            differences.append(difference)
    return differences
