"""The faults, injected in turn: each one blocks (run it in a thread) until the broken part is back,
and says when that was. Recovery, as clients see it, is measured afterwards from the load's own
record (report.py), from the moment the fault began."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.soak.topology import Postgres, RedisServer, Topology

ORDER = ("server_kill", "postgres_restart", "redis_restart", "projector_kill")


@dataclass
class Fault:
    name: str
    at: float  # seconds since the load began, when the fault began
    back_at: float | None = None  # when the broken part was serving again (ready, accepting, started)
    error: str | None = None  # the fault could not be injected or the part did not come back
    detail: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return {
            "fault": self.name,
            "at_s": round(self.at, 2),
            "back_after_s": None if self.back_at is None else round(self.back_at - self.at, 2),
            "error": self.error,
            **self.detail,
        }


class Injector:
    """Knows how to break and mend each part of the topology."""

    def __init__(self, db: Postgres, redis_server: RedisServer, servers: Topology, down_seconds: float) -> None:
        self.db, self.redis, self.servers, self.down_seconds = db, redis_server, servers, down_seconds

    def server_kill(self) -> dict[str, Any]:
        """kill -9 of server a, then `parley serve` again on the same port (ready = /readyz 200)."""
        pid = self.servers.pids()["server_a"]
        self.servers.a.kill()
        self.servers.a.start(timeout=60)
        return {"killed_pid": pid}

    def postgres_restart(self) -> dict[str, Any]:
        self.db.restart(self.down_seconds)
        return {"down_s": self.down_seconds, "postgres": self.db.kind}

    def redis_restart(self) -> dict[str, Any]:
        self.redis.restart(self.down_seconds)
        return {"down_s": self.down_seconds}

    def projector_kill(self) -> dict[str, Any]:
        """kill -9 of `parley projections run`, then started again (its start line in the log)."""
        pid = self.servers.pids()["projector"]
        self.servers.projector.kill()
        self.servers.restart_projector()
        return {"killed_pid": pid}

    def inject(self, fault: Fault, clock: Callable[[], float]) -> Fault:
        try:
            fault.detail = getattr(self, fault.name)()
            fault.back_at = clock()
        except Exception as error:  # reported as a failed fault, never a crashed soak
            fault.error = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        return fault


def schedule(duration: float, every: float) -> list[tuple[float, str]]:
    """(seconds since the load began, fault) for each fault: one every `every` seconds, in turn, the
    last one at least `every` seconds before the load ends so its recovery is seen under load."""
    times: list[tuple[float, str]] = []
    k = 1
    while k * every <= duration - every + 1e-9:
        times.append((k * every, ORDER[(k - 1) % len(ORDER)]))
        k += 1
    return times
