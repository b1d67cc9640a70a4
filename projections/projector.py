"""The projector: follows the event log and applies it to the read models, exactly once.

Each batch of events is applied in one transaction together with the new position (the tracking
record), guarded so that the position only moves forward from the value this projector read: a crash
mid-batch rolls the whole batch back, a second projector on the same tables cannot apply an event
twice, and a restart resumes at the recorded position. The library's own ProjectionRunner handles one
event per transaction and cannot follow SQLite (see docs/architecture.md), hence this small loop.
"""

import contextlib
import heapq
import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError

from projections.changes import Change
from projections.event_rows import EventRows
from projections.log_reader import Batch, ReaderProcess, read_batch
from projections.ports import SqlCursor, SqlDatabase
from projections.tables import LIVE_PREFIX, create_indexes, create_tables, outdated
from projections.updates import ReadModelUpdates

log = logging.getLogger("parley.projector")

NAME = "read_models"
BULK_CATCH_UP = 50_000  # events behind from which a catch-up reads the log in a second process
VACUUM_EVERY = 2  # batches of a long catch-up between two VACUUMs of the tables updated in place
UPDATED_IN_PLACE = ("conversations", "members")


class Projector:
    def __init__(
        self,
        app: Application[Any],
        db: SqlDatabase,
        prefix: str = LIVE_PREFIX,
        batch_size: int = 1000,
        on_changes: Callable[[list[Change]], None] | None = None,
        relaxed_commit: bool = False,
    ) -> None:
        self.app = app
        self.db = db
        self.prefix = prefix
        self.batch_size = batch_size
        self.bulk_catch_up = BULK_CATCH_UP
        self.on_changes = on_changes
        self.on_batch: Callable[[int], None] | None = None  # told how far each batch moved (the metrics)
        self.updates = ReadModelUpdates(prefix)
        self.relaxed_commit = relaxed_commit  # PostgreSQL: a batch's commit does not wait for the disk
        self.topics = self.updates.topics()  # only what the read models use is read (and decoded)
        self.rows = EventRows(app.mapper)
        self._position = 0
        self._advanced = threading.Condition()
        self._waiters: list[tuple[int, int, Future[None]]] = []  # a heap of (position, tie, future)
        self._tie = itertools.count()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.failure: BaseException | None = None
        self.outdated = False  # the tables lack what this release's read models hold (see setup)
        self._traces_left = False  # personal data was removed: its traces in the files are still to go
        self._search_traces = False  # text was removed from the search index: its segments to merge
        self._failing_since: float | None = None
        # Held from before a batch's transaction until its changes are handed to the broadcaster, here
        # and by saves that apply their own events (projections/in_save.py): broadcasts in log order.
        self.publish_lock = threading.Lock()

    # -- set-up and position -----------------------------------------------------------------------
    def setup(self, indexes: bool = True) -> None:
        """Create the tables if needed and read the recorded position.

        When they exist, no DDL runs: on PostgreSQL even `CREATE ... IF NOT EXISTS` takes locks that can
        deadlock with a projector already running in another process. Without `indexes` (a set built
        beside the live one), the new tables are loaded bare, unread counts left aside, until the first
        catch_up reaches its end; it then indexes them and counts the unread messages once."""
        try:
            with self.db.transaction(commit=False) as cur:
                row = cur.execute(
                    f"SELECT notification_id FROM {self.prefix}position WHERE projection = ?", (NAME,)
                ).fetchone()
        except Exception:  # no tables yet
            row = None
        if row is not None:
            self._position = int(row["notification_id"])
            try:
                self.outdated = outdated(self.db, self.prefix)  # built by an earlier release: to rebuild
            except Exception as error:  # e.g. a full disk: the set is used as it is, and checked next start
                log.warning("could not compare the read models with this release's tables: %s", error)
            return
        with self.db.transaction(commit=True) as cur:
            create_tables(cur, self.prefix, indexes)
            self.updates.writes.count_unread = indexes  # off: a set loaded bare (see _finish_loading)
            cur.execute(
                f"INSERT INTO {self.prefix}position (projection, notification_id) VALUES (?, 0) "
                "ON CONFLICT (projection) DO NOTHING",
                (NAME,),
            )
            self._position = self.stored_position(cur)

    def load_position(self) -> int:
        """Read the recorded position of tables that already exist (no DDL, no locks)."""
        with self.db.transaction(commit=False) as cur:
            self._position = self.stored_position(cur)
        return self._position

    def stored_position(self, cur: SqlCursor) -> int:
        row = cur.execute(f"SELECT notification_id FROM {self.prefix}position WHERE projection = ?", (NAME,)).fetchone()
        return int(row["notification_id"]) if row else 0

    @property
    def _loading(self) -> bool:
        """A set loaded without indexes, not yet indexed: its unread counts are left for later."""
        return not self.updates.writes.count_unread

    @property
    def position(self) -> int:
        return self._position

    @property
    def live(self) -> bool:
        """Kept batch by batch as the log grows: indexed, counting unread, and this release's tables."""
        return not self._loading and not self.outdated

    @property
    def following(self) -> bool:
        """Its thread follows the log (started, not stopping)."""
        return self._thread is not None and not self._stopping.is_set()

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    # -- applying ----------------------------------------------------------------------------------
    def run_batch(self, stop: int | None = None) -> int:
        """Apply the next batch of events (up to `stop`); return how far the position moved (events
        of the log passed, including those no read model uses)."""
        while True:
            batch = self._read(self._position, stop)
            if batch.end == batch.start:
                return 0
            if self._write(batch):
                return batch.end - batch.start

    def catch_up(self, progress: Callable[[int], None] | None = None, stop: int | None = None) -> int:
        """Apply events until the head of the log (or `stop`); return how far the position moved.
        A long catch-up reads and decodes the log in a process of its own while this one writes
        (projections/log_reader.py)."""
        total = 0
        if (self.head() if stop is None else stop) - self._position >= self.bulk_catch_up:
            total += self._catch_up_with_reader(progress, stop)
        while applied := self.run_batch(stop):
            total += applied
            if progress:
                progress(applied)
        if self._loading:
            self._finish_loading()
        return total

    def _finish_loading(self) -> None:
        """Index a set loaded bare and count its unread messages: from here on it is kept like any."""
        with self.db.transaction(commit=True) as cur:
            create_indexes(cur, self.prefix, suffix=f"_{secrets.token_hex(4)}")  # see tables.py
            self.updates.shredded = []
            self.updates.apply_deferred(cur)  # edits, deletions, reactions: by message id, now indexed
            self.db.destroy_keys(cur, self.updates.shredded)
            self.updates.writes.recount_unread(cur)  # and counts them batch by batch from here on
        if self._traces_left or self.updates.shredded:
            self._traces_left = not self.db.erase_traces(self.prefix, True)
            self._search_traces = False

    def _catch_up_with_reader(self, progress: Callable[[int], None] | None, stop: int | None) -> int:
        total = 0
        with ReaderProcess(self.app, self.topics, self.batch_size, self._position, stop) as reader:
            for number, batch in enumerate(reader, 1):
                if batch.end == batch.start or not self._write(batch):  # caught up, or moved under us
                    break
                total += batch.end - batch.start
                if progress:
                    progress(batch.end - batch.start)
                if number % VACUUM_EVERY == 0:  # every batch rewrote the rows of these small tables
                    self.db.vacuum([f"{self.prefix}{table}" for table in UPDATED_IN_PLACE])
        return total

    def catch_up_within(self, cur: SqlCursor) -> int:
        """Apply every remaining event inside the caller's transaction (which holds the write lock)."""
        assert not self._loading, "catch_up first: the set is not indexed yet"
        total = 0
        while (batch := self._read(self._position, None)).end != batch.start:
            self._apply(cur, batch)
            self._position = batch.end
            total += batch.end - batch.start
        return total

    def _read(self, start: int, stop: int | None) -> Batch:
        return read_batch(self.app.recorder, self.rows, self.topics, self.batch_size, start, stop)

    def _write(self, batch: Batch) -> bool:
        """Apply the batch in one transaction if the read models are still at its start; otherwise
        (another projector, a save that applied its own events, or an online rebuild's swap, moved
        them) take their position, False. The publish lock is taken once the transaction has its
        connection (a save holding the lock never waits for a connection: no deadlock over the pool)
        and held until the changes are handed to the broadcaster."""
        with contextlib.ExitStack() as held:
            with self.db.transaction(commit=True) as cur:
                self.publish_lock.acquire()
                held.callback(self.publish_lock.release)
                if self.relaxed_commit and self.db.engine == "postgres":
                    # The read models are rebuilt from the log, and a batch's rows and position commit
                    # together: a database crash can lose the last batches whole, and the projector
                    # applies them again. The events themselves were committed durably before.
                    cur.execute("SET LOCAL synchronous_commit TO OFF")
                stored = self._lock_position(cur)
                if stored == batch.start:
                    changes = self._apply(cur, batch)
            if stored != batch.start:
                self._advance(stored)
                return False
            if self._traces_left and not self._loading:
                # Personal data left the read models and its keys were destroyed: its traces in the
                # files go before the position is reported (an erasure has succeeded once /readyz
                # answers 200).
                self._traces_left = not self.db.erase_traces(self.prefix, self._search_traces)
                self._search_traces = self._search_traces and self._traces_left
            self._advance(batch.end)
            if self.on_batch is not None:
                self.on_batch(batch.end - batch.start)
            if self.on_changes and changes:
                self.on_changes(changes)
            return True

    def _lock_position(self, cur: SqlCursor) -> int:
        """Take the write lock on the position row first (always in this order: no deadlocks), and
        return the recorded position."""
        row = cur.execute(
            f"UPDATE {self.prefix}position SET notification_id = notification_id WHERE projection = ? "
            "RETURNING notification_id",
            (NAME,),
        ).fetchone()
        return int(row["notification_id"]) if row else -1

    def _apply(self, cur: SqlCursor, batch: Batch) -> list[Change]:
        self.updates.report = self.on_changes is not None
        self.updates.shredded = []
        self.updates.searched_out = False
        changes = self.updates.apply_batch(batch.events, cur)
        if self.updates.shredded:
            self.db.destroy_keys(cur, self.updates.shredded)
            self._traces_left = True
            self._search_traces = self._search_traces or self.updates.searched_out
        cur.execute(
            f"UPDATE {self.prefix}position SET notification_id = ? WHERE projection = ? AND notification_id = ?",
            (batch.end, NAME, batch.start),
        )
        if cur.rowcount != 1:
            raise IntegrityError(f"The read models moved past {batch.start} under this projector.")
        return changes

    def advance_to(self, position: int) -> None:
        """Another writer applied the log up to `position` (projections/in_save.py)."""
        if position > self._position:
            self._advance(position)

    def _advance(self, position: int) -> None:
        reached: list[Future[None]] = []
        with self._advanced:
            self._position = position
            self._advanced.notify_all()
            while self._waiters and self._waiters[0][0] <= position:
                reached.append(heapq.heappop(self._waiters)[2])
        for future in reached:
            future.set_result(None)

    # -- waiting (read your writes) ------------------------------------------------------------------
    def wait(self, position: int, timeout: float) -> bool:
        """Block until the read models reflect `position`; False on timeout."""
        self._wake.set()
        with self._advanced:
            return self._advanced.wait_for(lambda: self._position >= position, timeout)

    def reached(self, position: int) -> "Future[None]":
        """A future settled once the read models reflect `position`: to wait on an event loop. It
        cannot be cancelled; a waiter that gives up just drops it."""
        future: Future[None] = Future()
        future.set_running_or_notify_cancel()
        with self._advanced:
            if self._position >= position:
                future.set_result(None)
                return future
            heapq.heappush(self._waiters, (position, next(self._tie), future))
        self._wake.set()
        return future

    # -- running in a thread ---------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def start(self, idle_poll_seconds: float = 0.5) -> None:
        self._thread = threading.Thread(target=self._run, args=(idle_poll_seconds,), name="projector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)

    def failing_for(self) -> float:
        """Seconds since the projector's batches started failing (0 while they succeed)."""
        return 0.0 if self._failing_since is None else time.monotonic() - self._failing_since

    @property
    def healthy(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self.failure is None

    def _run(self, idle_poll_seconds: float) -> None:
        backoff = 0.05
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                applied = self.run_batch()
                self.failure = self._failing_since = None
                backoff = 0.05
            except Exception as error:  # the store is down, or a bug: keep trying, report via /readyz
                if self.failure is None:
                    log.exception("projector batch failed; retrying")
                    self._failing_since = time.monotonic()
                self.failure = error
                self._resync()
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            if not applied:
                self._wake.wait(idle_poll_seconds)

    def _resync(self) -> None:
        try:
            with self.db.transaction(commit=False) as cur:
                self._advance(max(self._position, self.stored_position(cur)))
        except Exception:
            pass
