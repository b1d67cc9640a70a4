"""The event log as a product: export it as JSON Lines, import an export into an empty store.

One record per event: its position in the log, its type and topic, the aggregate id and version, its
timestamp, and its fields. Streaming, page by page, so a store of any size exports in flat memory.

Credentials (password hashes, and any key material an event carries) are left out unless asked for:
such a field is absent from the record's `data` and named in the record's `omitted` list, and an
import refuses a file with any `omitted` (it could not sign anyone in).
"""

import dataclasses
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import get_topic, resolve_topic

from domain.connections import Connection
from domain.conversations import Conversation
from domain.users import User

PAGE = 1000
COMMON = ("originator_id", "originator_version", "timestamp")
CREDENTIAL_FIELDS = ("password_hash",)  # User.UserRegistered, User.PasswordChanged
CREDENTIAL_SUFFIXES = ("_key", "_secret")  # key material, should an event ever carry some
REDACTED = "[redacted]"  # how exports before `--with-credentials` marked a left-out hash
WITH_CREDENTIALS = "parley audit export --with-credentials"


def is_credential(field: str) -> bool:
    return field in CREDENTIAL_FIELDS or field.endswith(CREDENTIAL_SUFFIXES)


class ImportRefused(Exception):
    """The file or the store is not fit for an import; nothing was written."""


@dataclass(frozen=True)
class Filters:
    conversation: UUID | None = None
    user: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def whole_store(self) -> bool:
        return self == Filters()


def export_events(
    app: Application[Any], filters: Filters = Filters(), with_credentials: bool = False
) -> Iterator[dict[str, Any]]:
    """Yield the matching events in log order, credentials left out unless `with_credentials`."""
    involvement = _Involvement(filters.user) if filters.user else None
    position = 0
    while notifications := app.recorder.select_notifications(start=position, limit=PAGE, inclusive_of_start=False):
        for notification in notifications:
            event: Any = app.mapper.to_domain_event(notification)
            position = notification.id
            if involvement is not None and not involvement.includes(event):
                continue
            if filters.conversation and event.originator_id != filters.conversation:
                continue
            if (filters.since and event.timestamp < filters.since) or (
                filters.until and event.timestamp > filters.until
            ):
                continue
            yield record(notification.id, event, with_credentials)


def record(position: int, event: Any, with_credentials: bool = False) -> dict[str, Any]:
    """One event as a plain record. Without credentials, those fields are absent from `data` and named
    in `omitted` (only present when something was left out)."""
    fields = {f.name: _plain(getattr(event, f.name)) for f in dataclasses.fields(event) if f.name not in COMMON}
    omitted = [] if with_credentials else [name for name in fields if is_credential(name)]
    item = {
        "position": position,
        "type": type(event).__name__,
        "topic": get_topic(type(event)),
        "aggregate_id": str(event.originator_id),
        "version": event.originator_version,
        "timestamp": event.timestamp.isoformat(),
        "data": {name: value for name, value in fields.items() if name not in omitted},
    }
    if omitted:
        item["omitted"] = omitted
    return item


def check_export(records: Iterable[dict[str, Any]]) -> int:
    """Check a whole-store export without writing anything (run it before an import): return the count."""
    checker = _ExportChecker()
    for item in records:
        checker.check(item)
    return checker.line


def import_events(app: Application[Any], records: Iterable[dict[str, Any]], batch: int = PAGE) -> int:
    """Append a whole-store export to an empty store, checking order and versions; return the count."""
    if app.recorder.max_notification_id():
        raise ImportRefused("The event store is not empty: import only into a new database.")
    checker = _ExportChecker()
    pending = []
    count = 0
    for item in records:
        checker.check(item)
        pending.append(rebuild_event(item))
        if len(pending) >= batch:
            app.recorder.insert_events(_stored(app, pending))
            count += len(pending)
            pending = []
    if pending:
        app.recorder.insert_events(_stored(app, pending))
        count += len(pending)
    return count


def _stored(app: Application[Any], events: list[Any]) -> list[Any]:
    """A batch's events as stored, mapped together: a store that seals personal fields (infrastructure/
    sealing.py) seals each subject of the batch under one new key (a message and its edits)."""
    together = getattr(app.mapper, "to_stored_events", None)
    return list(together(events)) if together else [app.mapper.to_stored_event(e) for e in events]


class _ExportChecker:
    """Positions strictly increase; each aggregate's versions run 1, 2, 3...; no credential left out."""

    def __init__(self) -> None:
        self.line = 0
        self.last_position = 0
        self.versions: dict[UUID, int] = {}

    def check(self, item: dict[str, Any]) -> None:
        self.line += 1
        left_out = item.get("omitted") or [n for n, v in item["data"].items() if is_credential(n) and v == REDACTED]
        if left_out:
            raise ImportRefused(
                f"line {self.line}: this export was made without credentials ({item['type']}'s "
                f"{', '.join(left_out)} left out), so it cannot be imported: export with `{WITH_CREDENTIALS}`"
            )
        if item["position"] <= self.last_position:
            raise ImportRefused(f"line {self.line}: position {item['position']} is not after {self.last_position}")
        aggregate_id = UUID(item["aggregate_id"])
        expected = self.versions.get(aggregate_id, 0) + 1
        if item["version"] != expected:
            raise ImportRefused(
                f"line {self.line}: {item['type']} of {aggregate_id} is version {item['version']}, expected {expected}"
            )
        self.last_position, self.versions[aggregate_id] = item["position"], expected


def rebuild_event(item: dict[str, Any]) -> Any:
    cls = resolve_topic(item["topic"])
    hints = typing.get_type_hints(cls)
    values = {name: _typed(value, hints.get(name)) for name, value in item["data"].items()}
    return cls(
        originator_id=UUID(item["aggregate_id"]),
        originator_version=item["version"],
        timestamp=datetime.fromisoformat(item["timestamp"]),
        **values,
    )


class _Involvement:
    """Which events involve one user, remembering who is party to what as the log streams by."""

    def __init__(self, user_id: UUID) -> None:
        self.user_id = user_id
        self.connections: set[UUID] = set()
        self.conversations: set[UUID] = set()
        self.messages: set[UUID] = set()  # the messages they sent (only their sender edits one)

    def includes(self, event: Any) -> bool:
        me = self.user_id
        if isinstance(event, User.UserRegistered):
            return event.originator_id == me
        if isinstance(event, (Connection.ConnectionRequested, Connection.ConnectionRequestedAgain)):
            if me in (event.requester_id, event.addressee_id):
                self.connections.add(event.originator_id)
        if isinstance(event, Connection.Event):
            return event.originator_id in self.connections
        if isinstance(event, Conversation.ConversationStarted) and me in event.member_ids:
            self.conversations.add(event.originator_id)
            return True
        if isinstance(event, Conversation.MessageSent):
            if event.sender_id == me:
                self.messages.add(event.message_id)
            return event.sender_id == me
        if isinstance(event, Conversation.MessageEdited):
            return event.message_id in self.messages
        if isinstance(event, Conversation.MessageDeleted):
            return event.deleted_by == me
        if isinstance(
            event,
            (
                Conversation.MessagesDelivered,
                Conversation.MessagesRead,
                Conversation.ReactionAdded,
                Conversation.ReactionRemoved,
            ),
        ):
            return event.user_id == me
        return False


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _typed(value: Any, hint: Any) -> Any:
    if value is None or hint is None:
        return value
    if hint is UUID:
        return UUID(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if typing.get_origin(hint) is list and typing.get_args(hint) == (UUID,):
        return [UUID(v) for v in value]
    return value
