"""One SQL interface over the library's SQLite and PostgreSQL datastores, for the read models.

Read-model SQL is written once, portable between SQLite and PostgreSQL (`?` placeholders, TEXT and
BIGINT columns, `INSERT ... ON CONFLICT`); this module adapts placeholders and rows per engine and
runs it on the same connection pool as the event store.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore


class SqlCursor:
    def __init__(self, raw: Any, to_engine_sql: Any) -> None:
        self._raw = raw
        self._to_engine_sql = to_engine_sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> "SqlCursor":
        self._raw.execute(self._to_engine_sql(sql), params)
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._raw.executemany(self._to_engine_sql(sql), rows)

    def fetchone(self) -> dict[str, Any] | None:
        row = self._raw.fetchone()
        return None if row is None else dict(row)

    def fetchall(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self._raw.fetchall()]

    @property
    def rowcount(self) -> int:
        return self._raw.rowcount


class SqlDatabase:
    """Transactions on the event store's own datastore (so read models live in the same database)."""

    def __init__(self, datastore: SQLiteDatastore | PostgresDatastore) -> None:
        self.datastore = datastore
        self.engine = "postgres" if isinstance(datastore, PostgresDatastore) else "sqlite"

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SqlCursor]:
        if self.engine == "sqlite" and commit:
            with self._sqlite_write() as cursor:
                yield cursor
            return
        with self.datastore.transaction(commit=commit) as raw:
            if self.engine == "sqlite":
                yield SqlCursor(raw.sqlite_cursor, _same)
            else:
                yield SqlCursor(raw, _postgres_sql)

    @contextmanager
    def _sqlite_write(self) -> Iterator[SqlCursor]:
        """A SQLite write transaction that takes the write lock at BEGIN (IMMEDIATE).

        The library begins DEFERRED; a transaction that reads first and then writes fails at once
        ("database is locked") when another connection wrote in between, whatever the busy timeout.
        """
        assert isinstance(self.datastore, SQLiteDatastore)
        with self.datastore.get_connection(commit=True) as connection:
            raw = connection._sqlite_conn  # the pooled sqlite3 connection (autocommit mode)
            cursor = raw.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield SqlCursor(cursor, _same)
            except BaseException:
                raw.rollback()
                raise
            else:
                raw.commit()
            finally:
                cursor.close()


def _same(sql: str) -> str:
    return sql


@lru_cache(maxsize=512)
def _postgres_sql(sql: str) -> str:
    return sql.replace("?", "%s")
