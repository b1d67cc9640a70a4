"""One SQL interface over the library's SQLite and PostgreSQL datastores, for the read models.

Read-model SQL is written once, portable between SQLite and PostgreSQL (`?` placeholders, TEXT and
BIGINT columns, `INSERT ... ON CONFLICT`); this module adapts placeholders and rows per engine and
runs it on the same connection pool as the event store.
"""

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore

from infrastructure.sealing import destroy_keys_sql
from infrastructure.search_postgres import PostgresSearch
from infrastructure.search_sqlite import SqliteSearch
from infrastructure.wal import erase_sqlite_traces
from projections.ports import SqlCursor as CursorPort
from projections.ports import TransactionLost

# Page cache of a connection that writes the read models. SQLite's default (2 MiB) is smaller than the
# index pages a busy projector touches; with it, every message insert into the (conversation_id, seq)
# index misses the cache: a rebuild spent most of its time there. Pages are cached only as used.
SQLITE_WRITER_CACHE_KIB = 64 * 1024


POSTGRES_SEARCH, SQLITE_SEARCH = PostgresSearch(), SqliteSearch()


class SqlCursor:
    """`copy`: PostgreSQL inserts many rows with COPY (not in a pipeline: a save's own transaction, see
    postgres_recorder.py, inserts them with one pipelined executemany)."""

    def __init__(self, raw: Any, engine: str, copy: bool = True) -> None:
        self._raw = raw
        self.engine = engine
        self._copy = copy
        self._to_engine_sql = _postgres_sql if engine == "postgres" else _same
        self.search: PostgresSearch | SqliteSearch = POSTGRES_SEARCH if engine == "postgres" else SQLITE_SEARCH

    def execute(self, sql: str, params: Sequence[Any] = ()) -> "SqlCursor":
        self._raw.execute(self._to_engine_sql(sql), params)
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._raw.executemany(self._to_engine_sql(sql), rows)

    def insert_many(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows: with COPY on PostgreSQL (several times faster than INSERT statements, even
        pipelined), with one executemany on SQLite."""
        if not rows:
            return
        if self.engine == "postgres" and self._copy:
            with self._raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join("?" * len(columns))
            self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)

    def execute_values(self, sql: str, types: Sequence[str], rows: Sequence[Sequence[Any]], chunk: int = 500) -> None:
        """Run `sql` once over many rows, for a set-based `UPDATE ... FROM (VALUES) AS v WHERE ...`: the
        rows' columns, of SQL `types` ("text", "bigint"), are v.column1, v.column2, ... on both engines.
        SQLite: `(VALUES)` becomes a VALUES list of `chunk` rows a statement. PostgreSQL: one statement
        of one array per column (`unnest`), whatever the number of rows: its text stays the same, so
        PostgreSQL prepares it once, and psycopg does not parse thousands of placeholders each time."""
        if not rows:
            return
        if self.engine == "postgres":
            arrays = ", ".join(f"%s::{kind}[]" for kind in types)
            names = ", ".join(f"column{i}" for i in range(1, len(types) + 1))
            statement = sql.replace("(VALUES) AS v", f"unnest({arrays}) AS v({names})")
            self._raw.execute(statement, [list(column) for column in zip(*rows, strict=True)], prepare=True)
            return
        row = "(" + ", ".join(f"CAST(? AS {kind.upper()})" for kind in types) + ")"
        for i in range(0, len(rows), chunk):
            part = rows[i : i + chunk]
            values = "(VALUES " + ", ".join([row] * len(part)) + ")"
            self._raw.execute(sql.replace("(VALUES)", values), [v for r in part for v in r])

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """(projections/ports.py) Plain SAVEPOINT statements on both engines, also inside a PostgreSQL
        pipeline (psycopg's nested transaction there waited for ever on a connection the database had
        dropped). After an error in a pipeline, the pipeline is synced first (psycopg refuses commands
        until then); if the rollback itself fails, TransactionLost: the transaction is unusable."""
        self._raw.execute("SAVEPOINT parley_nested")
        try:
            yield
        except BaseException as error:
            try:
                pipeline = getattr(self._raw.connection, "_pipeline", None) if self.engine == "postgres" else None
                if pipeline is not None:
                    with contextlib.suppress(psycopg.Error):
                        pipeline.sync()  # ends the aborted segment (its error was raised already)
                self._raw.execute("ROLLBACK TO SAVEPOINT parley_nested")
                self._raw.execute("RELEASE SAVEPOINT parley_nested")
                if pipeline is not None:
                    pipeline.sync()  # the rollback went through, or the transaction is lost
            except Exception as lost:
                raise TransactionLost(f"could not roll back to the savepoint: {lost}") from error
            raise
        self._raw.execute("RELEASE SAVEPOINT parley_nested")

    def fetchone(self) -> dict[str, Any] | None:
        row = self._raw.fetchone()
        return None if row is None else dict(row)

    def fetchall(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self._raw.fetchall()]

    @property
    def rowcount(self) -> int:
        return int(self._raw.rowcount)


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
            if isinstance(raw, SQLiteCursor):
                yield SqlCursor(raw.sqlite_cursor, self.engine)
            else:
                yield SqlCursor(raw, self.engine)

    def vacuum(self, tables: Sequence[str]) -> None:
        """PostgreSQL: clear out the dead row versions of tables updated in place batch after batch
        (each batch leaves a version of every row it changed, and lookups slow down as chains of them
        grow). Outside any transaction, as VACUUM must be. SQLite updates in place: nothing to do."""
        if self.engine != "postgres":
            return
        assert isinstance(self.datastore, PostgresDatastore)
        with self.datastore.get_connection() as connection:  # autocommit: no transaction block
            connection.execute(f"VACUUM {', '.join(tables)}")

    def destroy_keys(self, cur: CursorPort, subjects: Sequence[UUID]) -> None:
        """(projections/ports.py) Keys of personal data, in the caller's transaction."""
        subjects = list(dict.fromkeys(subjects))
        for i in range(0, len(subjects), 500):
            part = [s.bytes for s in subjects[i : i + 500]]
            cur.execute(destroy_keys_sql(self.engine, len(part)), part)

    def erase_traces(self, prefix: str, search: bool) -> bool:
        """(projections/ports.py) PostgreSQL: nothing to do for a dump (`pg_dump` reads only live rows;
        VACUUM reclaims the dead ones later, see docs/security.md). SQLite: infrastructure/wal.py."""
        if self.engine != "sqlite":
            return True
        assert isinstance(self.datastore, SQLiteDatastore)
        return erase_sqlite_traces(self, self.datastore, prefix, search)

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
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_WRITER_CACHE_KIB}")  # per connection; a no-op once set
            # What a read-model write deletes or overwrites (a deleted message's text, an erased name,
            # a destroyed key) is overwritten with zeros in the file, not left in free space.
            cursor.execute("PRAGMA secure_delete = ON")
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield SqlCursor(cursor, self.engine)
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
