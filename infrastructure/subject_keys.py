"""The `subject_keys` table: the keys personal data is sealed under (infrastructure/sealing.py).

Beside the log in the same database, never in it: a key is written in the transaction of the first
event sealed under it (the recorders), read a batch at a time, and destroyed by the projector
(SqlDatabase.destroy_keys) when an event says its data must go. Its size is measured in
benchmarks/README.md (about one row per message)."""

from collections.abc import Iterable

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from infrastructure.sealing import keys_table_sql
from infrastructure.sql import SqlDatabase
from projections.ports import SqlCursor as CursorPort

CHUNK = 500


class SubjectKeys:
    """(infrastructure/sealing.py: KeyReader)"""

    def __init__(self, datastore: SQLiteDatastore | PostgresDatastore) -> None:
        self.db = SqlDatabase(datastore)

    def setup(self) -> None:
        with self.db.transaction(commit=True) as cur:
            cur.execute(keys_table_sql(self.db.engine))

    def get_many(self, subjects: Iterable[bytes]) -> dict[bytes, bytes]:
        wanted = list(dict.fromkeys(subjects))
        if not wanted:
            return {}
        with self.db.transaction(commit=False) as cur:
            return keys_in(cur, wanted)

    def count(self) -> int:
        with self.db.transaction(commit=False) as cur:
            row = cur.execute("SELECT COUNT(*) AS n FROM subject_keys").fetchone()
        return int(row["n"]) if row else 0


def keys_in(cur: CursorPort, subjects: Iterable[bytes]) -> dict[bytes, bytes]:
    """The keys of these subjects that exist, read on `cur` (its transaction's view)."""
    wanted = list(dict.fromkeys(subjects))
    found: dict[bytes, bytes] = {}
    for i in range(0, len(wanted), CHUNK):
        part = wanted[i : i + CHUNK]
        marks = ", ".join(["?"] * len(part))
        rows = cur.execute(f"SELECT subject, key FROM subject_keys WHERE subject IN ({marks})", part).fetchall()
        found.update({bytes(r["subject"]): bytes(r["key"]) for r in rows})
    return found
