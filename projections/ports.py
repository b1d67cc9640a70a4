"""What the read side needs from the outside, as ports: a SQL database for the read-model tables
(adapted to SQLite and PostgreSQL by infrastructure/sql.py), and windows of the event log as plain
rows (infrastructure/sqlite_recorder.py and postgres_recorder.py). The read side imports no adapter."""

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, NamedTuple, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import Notification


class TransactionLost(Exception):
    """A savepoint could not be rolled back: the enclosing transaction cannot be committed."""


class SqlCursor(Protocol):
    """Read-model SQL written once for both engines: `?` placeholders, rows as dicts."""

    engine: str

    @property
    def search(self) -> "SearchIndex":
        """The engine's search read model (infrastructure/search_*.py)."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> "SqlCursor": ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def insert_many(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None: ...

    def execute_values(
        self, sql: str, types: Sequence[str], rows: Sequence[Sequence[Any]], chunk: int = 500
    ) -> None: ...

    def fetchone(self) -> dict[str, Any] | None: ...

    def fetchall(self) -> list[dict[str, Any]]: ...

    @property
    def rowcount(self) -> int: ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested transaction: an exception inside rolls back only what ran inside, then propagates
        (TransactionLost instead when the rollback itself failed)."""
        ...


class SqlDatabase(Protocol):
    engine: str  # "sqlite" or "postgres"

    def transaction(self, *, commit: bool) -> AbstractContextManager[SqlCursor]: ...

    def vacuum(self, tables: Sequence[str]) -> None: ...

    def destroy_keys(self, cur: SqlCursor, subjects: Sequence[UUID]) -> None:
        """Destroy the keys these subjects' personal data is sealed under in the log, in the caller's
        transaction (infrastructure/sealing.py): no copy of it can be read again."""
        ...

    def erase_traces(self, prefix: str, search: bool) -> bool:
        """After a transaction that removed personal data from a set of read models (`search`: text from
        its search index too): leave no readable trace of it in the database's files (SQLite: the search
        index's segments merged, the write-ahead log emptied). False when it could not finish now."""
        ...


class StoredRow(NamedTuple):
    """A stored event as the projector's readers take it (Notification's fields; the id as text)."""

    id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes

    def notification(self) -> Notification:
        return Notification(
            id=self.id,
            originator_id=UUID(self.originator_id),
            originator_version=self.originator_version,
            topic=self.topic,
            state=self.state,
        )


@runtime_checkable
class WindowedRecorder(Protocol):
    """An application recorder that reads a window of the log as plain rows, faster than the library's
    `select_notifications` (which builds a Notification and a UUID per row)."""

    def select_window(self, start: int, stop: int, topics: Sequence[str]) -> Sequence[StoredRow]: ...


class Recorded(NamedTuple):
    """One event of a save, as the save's transaction recorded it."""

    position: int  # its notification id
    topic: str
    event: Any  # the domain event, with its personal data in the clear (sealed only in the stored state)


class AppliedInSave(Protocol):
    """What a save's transaction does once it ends: committed (report the position, broadcast), or not."""

    def committed(self) -> None: ...

    def abandoned(self) -> None: ...


class LogInSave(Protocol):
    """The log as the save's own transaction sees it (its connection: a save holding the log's lock
    never waits for a second one)."""

    def window(self, start: int, stop: int, topics: Sequence[str]) -> Sequence[StoredRow]: ...

    def get_many(self, subjects: Iterable[bytes]) -> dict[bytes, bytes]:
        """The keys of these subjects (infrastructure/sealing.py)."""
        ...


class PreparedInSave(Protocol):
    """What `ProjectionInSave.prepare` took; `abandoned` gives it back when the save goes no further."""

    def abandoned(self) -> None: ...


class ProjectionInSave(Protocol):
    """The read models updated in the transaction that records the events (projections/in_save.py):
    the recorders (infrastructure/) call it with the save's cursor, after the events went in."""

    def prepare(self, cursor: Callable[[], SqlCursor], events: Sequence[Any]) -> PreparedInSave | None:
        """(Optional: PostgreSQL) Before the events' insert, once the log's lock is asked for in the same
        pipeline: issue what `apply` reads first on cursors of `cursor()`, so their rows come back with
        the insert's rather than in round trips of their own. Give the result to `apply`."""
        ...

    def apply(
        self, cur: SqlCursor, recorded: Sequence[Recorded], log: LogInSave, prepared: Any = None
    ) -> AppliedInSave | None:
        """Apply `recorded` to the read models in `cur`'s transaction; None: not applied here (the
        projector will, from the log)."""
        ...


class ReadModelPosition(Protocol):
    """How far the read models have applied the event log (this process's projector, or the position
    another process's projector records)."""

    def wait(self, position: int, timeout: float) -> bool: ...

    def failing_for(self) -> float: ...


class SearchIndex(Protocol):
    """The search read model (`<prefix>search`), one adapter per engine: SQLite FTS5
    (infrastructure/search_sqlite.py) and PostgreSQL full-text search (infrastructure/search_postgres.py).
    Kept by the projector with the messages; queried in the semantics of projections/search.py."""

    def schema(self, prefix: str) -> list[str]:
        """Statements creating the set's search table (and what it needs), idempotent."""
        ...

    def indexes(self, prefix: str, suffix: str) -> list[str]:
        """Statements creating its indexes (built once after a bare load, like the others)."""
        ...

    def add(self, cur: "SqlCursor", prefix: str, rows: Sequence[tuple[str, str, str, str]]) -> None:
        """Index new messages: (message id, conversation id, sent_at, body)."""
        ...

    def replace(self, cur: "SqlCursor", prefix: str, message_id: str, body: str, sent_at: str | None = None) -> None:
        """An edited message's text (`sent_at`, when the caller has it, spares a look-up of its row)."""
        ...

    def remove(self, cur: "SqlCursor", prefix: str, message_id: str, sent_at: str | None = None) -> None:
        """A deleted message's row is physically removed from the index (its text with it)."""
        ...

    def find(
        self,
        cur: "SqlCursor",
        prefix: str,
        terms: Any,
        user_id: str,
        conversation_id: str | None,
        before: tuple[str, str] | None,
        limit: int,
    ) -> list[tuple[str, str]]:
        """(message id, position) of the matching messages the user can see, newest first by sent_at,
        after the cursor `before` (a position and an id, as this method returned them). The position is
        the engine's: SQLite the time-ordered rowid, PostgreSQL sent_at (then id, descending).
        `terms`: projections.search.SearchTerms."""
        ...


class AttachmentUrls(Protocol):
    """Signed, expiring download paths of an upload's bytes and thumbnail (infrastructure/blob_urls.py)."""

    def url(self, upload_id: str, thumbnail: bool) -> str: ...
