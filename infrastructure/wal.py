"""Leaving no trace of removed personal data in a SQLite database's files (contract section 11).

Read-model writes run with `secure_delete` on (infrastructure/sql.py), so the cells and pages they free
are overwritten with zeros. Two places still hold old bytes after such a transaction: the FTS5 search
index, whose segments are immutable (a deletion adds a delete marker; the words stay in the older
segment until the segments merge), and the write-ahead log, which holds every page as it was
written, the plaintext ones included, until it is reset. So, after a batch that removed text from the
search index, its segments are merged into one (`optimize`: the deleted rows' words are dropped, the old
segments' pages freed and zeroed); then the write-ahead log is checkpointed into the database and
truncated to nothing.
"""

import logging
import time

from eventsourcing.sqlite import SQLiteDatastore

from projections.ports import SqlDatabase

log = logging.getLogger("parley.erasure")
CHECKPOINT_ATTEMPTS = 20
CHECKPOINT_PAUSE_SECONDS = 0.05


def erase_sqlite_traces(db: SqlDatabase, datastore: SQLiteDatastore, prefix: str, search: bool) -> bool:
    if search:
        with db.transaction(commit=True) as cur:
            table = f"{prefix}search"
            if cur.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
                cur.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")
    return checkpoint_truncate(datastore)


def checkpoint_truncate(datastore: SQLiteDatastore) -> bool:
    """Copy the write-ahead log into the database and truncate it to zero bytes; False when readers
    kept it from finishing (it is tried again after the next batch)."""
    for _ in range(CHECKPOINT_ATTEMPTS):
        with datastore.get_connection(commit=False) as connection:
            row = connection._sqlite_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if row is None or row[0] == 0:
            return True
        time.sleep(CHECKPOINT_PAUSE_SECONDS)
    log.warning("the write-ahead log could not be truncated now (readers): tried again after the next batch")
    return False
