"""docs/events.md is generated from the code (domain/catalog.py), and no event can be left out of it."""

import importlib
import inspect
import pkgutil
from pathlib import Path

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

import domain
from domain.catalog import CATALOG, COMMAND, class_version, event_classes, render, topic
from domain.connections import Connection
from domain.conversations import Conversation
from domain.messages import ClientMessageKey
from domain.users import User, Username

EVENTS_MD = Path(__file__).parents[2] / "docs" / "events.md"


def domain_aggregates() -> set[type[Aggregate]]:
    """Every aggregate class defined in a module of the domain package."""
    found = set()
    for module_info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"domain.{module_info.name}")
        found |= {
            cls
            for cls in vars(module).values()
            if inspect.isclass(cls) and issubclass(cls, Aggregate) and cls.__module__ == module.__name__
        }
    return found


def nested_events(aggregate: type[Aggregate]) -> set[type]:
    """The event classes in an aggregate's namespace, without the library's own `Event` and `Created`
    bases (every aggregate gets them; Parley names each created event, so those are never stored)."""
    library_bases = {vars(aggregate).get("Event"), vars(aggregate).get("Created")}
    return {
        cls
        for cls in vars(aggregate).values()
        if inspect.isclass(cls) and issubclass(cls, aggregate.Event) and cls not in library_bases
    }


def test_the_events_page_is_generated_from_the_code() -> None:
    assert EVENTS_MD.read_text(encoding="utf-8") == render(), f"docs/events.md is out of date: run `{COMMAND}`"


def test_every_aggregate_of_the_domain_is_in_the_catalog() -> None:
    catalogued = {entry.aggregate for entry in CATALOG}

    assert {User, Username, Connection, Conversation, ClientMessageKey} <= catalogued
    assert domain_aggregates() == catalogued, "add the aggregate and its events to CATALOG in domain/catalog.py"


def test_every_event_class_of_the_aggregates_is_in_the_catalog() -> None:
    for entry in CATALOG:
        missing = nested_events(entry.aggregate) - set(entry.events)
        assert not missing, f"describe {sorted(c.__qualname__ for c in missing)} in domain/catalog.py"
        assert set(entry.events) <= nested_events(entry.aggregate)


def test_each_aggregate_has_one_catalogued_created_event() -> None:
    for entry in CATALOG:
        created = [cls for cls in entry.events if issubclass(cls, Aggregate.Created)]
        assert len(created) == 1, entry.aggregate


def test_the_catalog_shows_the_topics_the_library_stores() -> None:
    for cls in event_classes():
        assert topic(cls) == get_topic(cls)


def test_every_versioned_event_can_upcast_from_version_1() -> None:
    for cls in event_classes():
        for version in range(1, class_version(cls)):
            assert callable(getattr(cls, f"upcast_v{version}_v{version + 1}", None)), (cls, version)
