"""Events stored in an old shape are read through their class's upcaster: the example to copy when an event
changes shape (docs/events.md, "Changing an event").

The change shown: `ConnectionRemoved` version 2 carries a `reason`, "removed" for the events written before.
Production classes stay as they are: `ConnectionV1` and `ConnectionV2` below stand for the code before and
after the change. In a real deploy the new class replaces the old one at the same `module:QualName`; here
both live in this module, so `register_topic` makes the topics the old code wrote resolve to the new class.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import clear_topic_cache, get_topic, register_topic

PENDING, REMOVED = "pending", "removed"


class ConnectionV1(Aggregate):
    """The shape the stored events were written in."""

    class ConnectionRequested(Aggregate.Created):
        requester_id: UUID
        addressee_id: UUID

    class ConnectionRemoved(Aggregate.Event):
        removed_by: UUID

    @event(ConnectionRequested)
    def __init__(self, requester_id: UUID, addressee_id: UUID) -> None:
        self.status = PENDING

    @event(ConnectionRemoved)
    def remove(self, removed_by: UUID) -> None:
        self.status = REMOVED


class ConnectionV2(Aggregate):
    """Today's code: `ConnectionRemoved` is at version 2, and the aggregate keeps the reason."""

    class ConnectionRequested(Aggregate.Created):
        requester_id: UUID
        addressee_id: UUID

    class ConnectionRequestedAgain(Aggregate.Event):
        requester_id: UUID

    class ConnectionRemoved(Aggregate.Event):
        class_version = 2
        removed_by: UUID
        reason: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason"] = "removed"

    @event(ConnectionRequested)
    def __init__(self, requester_id: UUID, addressee_id: UUID) -> None:
        self.status = PENDING

    @event(ConnectionRequestedAgain)
    def request_again(self, requester_id: UUID) -> None:
        self.status = PENDING

    @event(ConnectionRemoved)
    def remove(self, removed_by: UUID, reason: str) -> None:
        self.status = REMOVED
        self.removal_reason = reason


class EventStore(Application):
    pass


@pytest.fixture
def sqlite_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.db")}
    clear_topic_cache()  # forget the redirection below; later lookups import the classes afresh


def deploy_v2() -> None:
    """As a restart with the new code would: no class is remembered, and the old topics name the v2 class."""
    clear_topic_cache()
    register_topic(get_topic(ConnectionV1), ConnectionV2)  # nested events resolve through their aggregate


def stored_state(app: Application, originator_id: UUID, version: int) -> dict[str, Any]:
    (stored,) = app.recorder.select_events(originator_id, gt=version - 1, lte=version)
    return json.loads(stored.state)


def test_events_written_in_an_old_shape_are_read_through_the_upcaster(sqlite_env: dict[str, str]) -> None:
    requester, addressee = uuid4(), uuid4()
    with EventStore(env=sqlite_env) as app:
        connection = ConnectionV1(requester_id=requester, addressee_id=addressee)
        connection.remove(removed_by=addressee)
        app.save(connection)

    deploy_v2()
    with EventStore(env=sqlite_env) as app:
        assert "reason" not in stored_state(app, connection.id, 2)  # the store still holds version 1
        assert "class_version" not in stored_state(app, connection.id, 2)

        removed = list(app.events.get(connection.id))[-1]
        assert type(removed) is ConnectionV2.ConnectionRemoved
        assert (removed.removed_by, removed.reason) == (addressee, "removed")

        loaded = app.repository.get(connection.id)
        assert type(loaded) is ConnectionV2
        assert (loaded.status, loaded.removal_reason, loaded.version) == (REMOVED, "removed", 2)


def test_an_upcast_aggregate_records_new_events_in_the_new_shape(sqlite_env: dict[str, str]) -> None:
    requester, addressee = uuid4(), uuid4()
    with EventStore(env=sqlite_env) as app:
        connection = ConnectionV1(requester_id=requester, addressee_id=addressee)
        connection.remove(removed_by=addressee)
        app.save(connection)

    deploy_v2()
    with EventStore(env=sqlite_env) as app:
        loaded = app.repository.get(connection.id)
        loaded.request_again(requester_id=requester)
        loaded.remove(removed_by=requester, reason="blocked")
        app.save(loaded)

    with EventStore(env=sqlite_env) as app:
        assert stored_state(app, connection.id, 4)["class_version"] == 2
        assert stored_state(app, connection.id, 4)["reason"] == "blocked"
        reasons = [e.reason for e in app.events.get(connection.id) if isinstance(e, ConnectionV2.ConnectionRemoved)]
        assert reasons == ["removed", "blocked"]  # only the old event went through the upcaster
        reloaded = app.repository.get(connection.id)
        assert (reloaded.status, reloaded.removal_reason, reloaded.version) == (REMOVED, "blocked", 4)
