"""Prometheus metrics: every metric Parley exports, defined once, and the server that exposes them.

The inner layers do not know Prometheus: the composition root hands them plain callbacks (a group's
size, a batch's length), the socket handlers and the error mapping record through the small objects
here. Everything on the hot path (a send's ack, ~1,400/s) is a prometheus_client child resolved once
per label set and cached, so recording one ack is two increments and one observation.

Values read from the database (the projector's lag) are read when Prometheus scrapes, in the scrape's
own thread (never the event loop), and bounded: a scrape waits at most PROBE_SECONDS for them and then
answers without them rather than hang on a dead database. The endpoint (PARLEY_METRICS_PORT) is a
separate port, on 127.0.0.1 unless PARLEY_METRICS_HOST says otherwise; see docs/operations.md.
"""

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from projections.projector import Projector

log = logging.getLogger("parley.metrics")

ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
GROUP_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
PROBE_SECONDS = 1.0  # the longest a scrape waits for the database (the projector's lag)

disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series: half the series, unused

ACKS = Counter(
    "parley_socket_acks",
    "Socket.IO events answered, by event and outcome (`ok`, or the error code of the ack).",
    ["event", "outcome"],
)
ACK_SECONDS = Histogram(
    "parley_socket_ack_seconds",
    "Time from a Socket.IO event's arrival to its ack, by event (whatever the outcome).",
    ["event"],
    buckets=ACK_BUCKETS,
)
ERRORS = Counter(
    "parley_errors",
    "Errors answered to clients (HTTP responses, socket acks, refused handshakes), by contract error code "
    "and HTTP status (`internal` 503: a fault of the store or a deadline; `internal` 500: a defect).",
    ["code", "status"],
)
GROUP_SIZE = Histogram(
    "parley_group_commit_size",
    "Commands saved together in one commit by the group-commit writer.",
    buckets=GROUP_BUCKETS,
)
PROJECTED = Counter(
    "parley_projector_events",
    "Positions of the event log applied to the read models by this process's projector.",
)
CONNECTED = Gauge("parley_connected_sockets", "Socket.IO connections signed in to this process.")


class Acks:
    """The ack metrics of one event, resolved once: recording costs no label lookup."""

    def __init__(self, event: str) -> None:
        self.event = event
        self._ok = ACKS.labels(event, "ok")
        self._seconds = ACK_SECONDS.labels(event)
        self._errors: dict[str, Any] = {}  # error code -> counter child, filled on first use

    def record(self, ack: Mapping[str, Any], seconds: float) -> None:
        if ack.get("ok"):
            self._ok.inc()
        else:
            code = str(ack.get("error", {}).get("code", "internal"))
            child = self._errors.get(code)
            if child is None:
                child = self._errors[code] = ACKS.labels(self.event, code)
            child.inc()
        self._seconds.observe(seconds)


_errors: dict[tuple[str, int], Any] = {}


def error_answered(code: str, status: int) -> None:
    """One error answered to a client (interfaces/errors.py `describe`, the one place they are made)."""
    child = _errors.get((code, status))
    if child is None:
        child = _errors[code, status] = ERRORS.labels(code, str(status))
    child.inc()


def count_sockets(count: Callable[[], int]) -> None:
    """The connected-sockets gauge reads `count` at each scrape (the last registered counts)."""
    CONNECTED.set_function(count)


# -- the projector's lag, read at scrape time -------------------------------------------------------------
class ProjectorLag:
    """`parley_projector_lag_events` (head of the log minus the position), `parley_projector_lag_seconds`
    (age of the oldest event not yet applied; 0 when caught up), the position, and for how long the
    projector's batches have been failing. One probe of the database at a time, in a daemon thread: a
    scrape waits for it at most PROBE_SECONDS, then answers without the lag."""

    def __init__(self) -> None:
        self.projector: Projector | None = None
        self._lock = threading.Lock()
        self._probe: threading.Thread | None = None
        self._result: tuple[int, float] | None = None
        self._done = threading.Event()

    def collect(self) -> Iterable[Metric]:
        projector = self.projector
        if projector is None:
            return
        yield GaugeMetricFamily(
            "parley_projector_position", "Position of the event log the read models reflect.", value=projector.position
        )
        yield GaugeMetricFamily(
            "parley_projector_failing_seconds",
            "Seconds since the projector's batches started failing (0 while they succeed).",
            value=projector.failing_for(),
        )
        lag = self._measure(projector)
        if lag is not None:
            events, seconds = lag
            yield GaugeMetricFamily(
                "parley_projector_lag_events", "Events in the log not yet applied to the read models.", value=events
            )
            yield GaugeMetricFamily(
                "parley_projector_lag_seconds",
                "Age of the oldest event not yet applied to the read models (0 when caught up).",
                value=seconds,
            )

    def _measure(self, projector: "Projector") -> tuple[int, float] | None:
        with self._lock:
            if self._probe is None or not self._probe.is_alive():  # else a probe still runs (a hung database)
                self._done.clear()
                self._probe = threading.Thread(target=self._run, args=(projector,), name="metrics-lag", daemon=True)
                self._probe.start()
        if not self._done.wait(PROBE_SECONDS):
            return None
        return self._result

    def _run(self, projector: "Projector") -> None:
        try:
            self._result = lag_of(projector)
        except Exception as error:  # the database is down: scrapes go on without the lag
            log.debug("projector lag not measured: %r", error)
            self._result = None
        finally:
            self._done.set()


def lag_of(projector: "Projector") -> tuple[int, float]:
    """(events behind, age in seconds of the oldest of them), read from the store: two small queries."""
    position = projector.position
    behind = projector.head() - position
    if behind <= 0:
        return 0, 0.0
    app = projector.app
    following = app.recorder.select_notifications(position, 1, inclusive_of_start=False)
    if not following:
        return behind, 0.0
    oldest: Any = app.mapper.to_domain_event(following[0])  # every event of the log has a timestamp
    return behind, max(0.0, (datetime.now(UTC) - oldest.timestamp).total_seconds())


PROJECTOR_LAG = ProjectorLag()
REGISTRY.register(PROJECTOR_LAG)


def watch_projector(projector: "Projector") -> None:
    """Export the lag of `projector`, the process's own (the last one registered is exported)."""
    PROJECTOR_LAG.projector = projector


# -- the endpoint ---------------------------------------------------------------------------------------
def serve_metrics(host: str, port: int) -> str:
    """Serve /metrics on host:port in a daemon thread; return its URL. Raises OSError if it cannot listen."""
    start_http_server(port, addr=host)
    return f"http://{host}:{port}/metrics"
