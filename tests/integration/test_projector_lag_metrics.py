"""The projector's lag as scraped (infrastructure/metrics.py): events and seconds behind the log, read
from the store at scrape time, and a scrape that answers without them when the store does not."""

import threading
import time
from collections.abc import Callable

from infrastructure import metrics
from interfaces.bootstrap import Container


def gauges(collector: metrics.ProjectorLag) -> dict[str, float]:
    return {family.name: family.samples[0].value for family in collector.collect()}


def test_the_lag_counts_the_events_not_yet_projected_and_the_age_of_the_oldest(
    make_container: Callable[[], Container],
) -> None:
    container = make_container()  # its projector is not started: it applies only when told
    container.projector.catch_up()
    collector = metrics.ProjectorLag()
    collector.projector = container.projector
    assert gauges(collector)["parley_projector_lag_events"] == 0
    assert gauges(collector)["parley_projector_lag_seconds"] == 0

    before = time.monotonic()
    container.app.register_user("ada", "correct horse battery")
    container.app.register_user("grace", "correct horse battery")
    behind = container.projector.head() - container.projector.position
    assert behind >= 2
    measured = gauges(collector)
    assert measured["parley_projector_lag_events"] == behind
    assert 0 < measured["parley_projector_lag_seconds"] <= time.monotonic() - before + 1

    container.projector.catch_up()
    measured = gauges(collector)
    assert (measured["parley_projector_lag_events"], measured["parley_projector_lag_seconds"]) == (0, 0)
    assert measured["parley_projector_position"] == container.projector.head()


class HungStore:
    """A projector whose database does not answer."""

    def __init__(self) -> None:
        self.release = threading.Event()

    @property
    def position(self) -> int:
        return 7

    def head(self) -> int:
        self.release.wait(30)
        return 7

    def failing_for(self) -> float:
        return 3.0


def test_a_scrape_answers_without_the_lag_when_the_store_hangs() -> None:
    store = HungStore()
    collector = metrics.ProjectorLag()
    collector.projector = store  # type: ignore[assignment]
    try:
        started = time.monotonic()
        first = gauges(collector)
        second = gauges(collector)  # the hung probe is not started again: one thread at most
        took = time.monotonic() - started
        assert first == second == {"parley_projector_position": 7, "parley_projector_failing_seconds": 3.0}
        assert took < 2 * metrics.PROBE_SECONDS + 1
        assert sum(t.name == "metrics-lag" for t in threading.enumerate()) == 1
    finally:
        store.release.set()
