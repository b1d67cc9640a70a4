"""The read models updated in the transaction that records the events: a send's hot path.

The projector (projections/projector.py) follows the log: a save commits, the projector is woken, reads
the events back, decodes them, applies them in a transaction of its own, and only then can the
broadcast go out. Under load that chain was most of a send's latency (a batch every ~20 ms, each
waiting for the one before) and a good part of its CPU (every event read and decoded twice).

Here the saving process applies what it records in the same transaction, from the domain events it
already holds, with the same updates the projector runs (projections/updates.py) and the same
position: the events, their read models and the new position commit together, and the broadcast goes
out as soon as the transaction commits. The read models' position is checked under its row's lock,
after the events' insert took the log's own lock: events below the save that they lack (a few, left to
the projector by earlier saves) are read from the log and applied first, so every position is still
applied once and in order. When they lack more than a batch, or applying fails (a savepoint undoes it),
or on SQLite when the save removed personal data (its traces in the files are erased outside any
transaction), the events are left to the projector, which stays the one way to catch up, to rebuild,
and to serve other processes.

On PostgreSQL what this reads first (the position row with the log's head, and the members of the
conversations the save touches) is issued before the events' insert, in the same pipeline (`prepare`),
so its rows come back with the insert's notification ids: a save's transaction takes two round trips
(the insert's sync and the commit), not four. The position row is taken `FOR UPDATE SKIP LOCKED`: while
another transaction holds it, the save leaves its events to the projector rather than waiting.

One publisher at a time per process: the projector's batches and these take `Projector.publish_lock`
from before their transaction until their changes are handed to the broadcaster, so broadcasts leave in
log order.
"""

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from projections.changes import Change
from projections.event_rows import ROWS_FROM_EVENTS
from projections.folded_writes import LOAD_CHUNK
from projections.ports import AppliedInSave, LogInSave, Recorded, SqlCursor, SqlDatabase, TransactionLost
from projections.projector import NAME, Projector
from projections.updates import ReadModelUpdates

logger = logging.getLogger("parley.projector")
LOCK_WAIT_SECONDS = 0.5  # a save waits this long for a projector batch to end, else leaves its events to it


class NotHere(Exception):
    """This save's events are better applied by the projector (the savepoint is rolled back)."""


class Applied:
    def __init__(self, projection: "ProjectionInSave", start: int, end: int, changes: list[Change]) -> None:
        self.projection = projection
        self.start = start
        self.end = end
        self.changes = changes

    def committed(self) -> None:
        projector = self.projection.projector
        try:
            projector.advance_to(self.end)
            if projector.on_batch is not None:
                projector.on_batch(self.end - self.start)
            if self.changes and projector.on_changes is not None:
                projector.on_changes(self.changes)
        finally:
            self.projection.applied_here.value = True
            projector.publish_lock.release()

    def abandoned(self) -> None:
        self.projection.projector.publish_lock.release()


class Prepared:
    """What a save took before its events' insert (`ProjectionInSave.prepare`): the publish lock, and
    two statements whose rows come back with the insert's own (PostgreSQL's pipeline: no round trip of
    their own): the position row, locked unless another transaction holds it, with the log's head,
    and the members of the conversations the save's messages and receipts touch. None of them when
    the lock could not be had in time (`locked` False: the projector applies the save's events)."""

    def __init__(
        self,
        projection: "ProjectionInSave",
        position: SqlCursor | None = None,
        members: SqlCursor | None = None,
        conversations: list[str] | None = None,
    ) -> None:
        self.projection = projection
        self.position = position
        self.members = members
        self.conversations = conversations

    @property
    def locked(self) -> bool:
        return self.position is not None

    def abandoned(self) -> None:
        if self.position is not None:
            self.position = None
            self.projection.projector.publish_lock.release()


class _Flag(threading.local):
    value = False


class ProjectionInSave:
    """(projections/ports.py) Bound to the projector of a process that broadcasts what it projects."""

    def __init__(self, projector: Projector, db: SqlDatabase, events_table: str, position_column: str) -> None:
        self.projector = projector
        self.db = db
        self.updates = ReadModelUpdates(projector.prefix)
        self.topics = frozenset(projector.topics)
        self.applied_here = _Flag()  # per thread: whether its last save was applied in its transaction
        p = projector.prefix
        # The position row's write lock (the projector takes it first too), and the log's head below
        # this save: the events' insert holds the log's lock, so nothing else is being recorded.
        self._lock_position = (
            f"UPDATE {p}position SET notification_id = notification_id WHERE projection = ? "
            f"RETURNING notification_id, (SELECT COALESCE(MAX({position_column}), 0) FROM {events_table} "
            f"WHERE {position_column} < ?) AS head"
        )
        self._move_position = f"UPDATE {p}position SET notification_id = ? WHERE projection = ?"
        # The same, issued before the insert (which the log's lock orders after every earlier event),
        # not waiting for a lock another transaction holds (the projector applies the save's events then).
        self._take_position = (
            f"SELECT notification_id, (SELECT COALESCE(MAX({position_column}), 0) FROM {events_table}) AS head "
            f"FROM {p}position WHERE projection = ? FOR UPDATE SKIP LOCKED"
        )

    @property
    def enabled(self) -> bool:
        projector = self.projector
        return projector.following and projector.on_changes is not None and projector.live

    def prepare(self, cursor: Callable[[], SqlCursor], events: Sequence[Any]) -> Prepared | None:
        """(PostgreSQL, in the insert's pipeline, once the log's lock is asked for) Take the publish lock
        and issue what `apply` reads first, each on a cursor of its own, so their rows come back with
        the insert's. None: nothing to apply here."""
        if not events or not self.enabled:
            return None
        lock = self.projector.publish_lock
        if not lock.acquire(timeout=LOCK_WAIT_SECONDS):
            return Prepared(self)
        try:
            position = cursor().execute(self._take_position, (NAME,))
            rows = [_row(e) for e in events]
            conversations = self.updates.touched_conversations(rows)
            members = None
            if conversations and len(conversations) <= LOAD_CHUNK:
                members = cursor().execute(*self.updates.writes.load_statement(conversations))
        except BaseException:
            lock.release()
            raise
        return Prepared(self, position, members, conversations)

    def apply(
        self, cur: SqlCursor, recorded: Sequence[Recorded], log: LogInSave, prepared: Prepared | None = None
    ) -> AppliedInSave | None:
        lock = self.projector.publish_lock
        if prepared is not None:
            if not prepared.locked:
                return None
            prepared.position, position = None, prepared.position  # the lock is this call's now
        else:
            if not recorded or not self.enabled:
                return None
            # Wait for a batch of the projector to be published (it takes the lock only once its
            # transaction has a connection, and never waits for the log's lock, which this save holds).
            if not lock.acquire(timeout=LOCK_WAIT_SECONDS):
                return None
            position = None
        try:
            applied = self._apply(cur, recorded, log, position, prepared) if recorded else None
        except BaseException:
            lock.release()
            raise
        if applied is None:
            lock.release()
        return applied

    def _apply(
        self,
        cur: SqlCursor,
        recorded: Sequence[Recorded],
        log: LogInSave,
        position: SqlCursor | None,
        prepared: Prepared | None,
    ) -> Applied | None:
        start, end = recorded[0].position - 1, recorded[-1].position
        updates = self.updates
        try:
            with cur.savepoint():
                if position is not None:  # read with the insert's rows
                    row = position.fetchone()
                else:
                    row = cur.execute(self._lock_position, (NAME, recorded[0].position)).fetchone()
                if row is None:  # (another transaction holds the position: the projector's batch)
                    raise NotHere
                start, head = int(row["notification_id"]), int(row["head"])
                events = self._behind(start, head, log)
                rows = [_row(r.event) for r in recorded if r.topic in self.topics]
                members = None
                if not events and prepared is not None and prepared.members is not None:
                    if prepared.conversations == updates.touched_conversations(rows):
                        members = prepared.members.fetchall()
                events += rows
                updates.shredded = []
                updates.report = True
                changes = updates.apply_batch(events, cur, members)
                if updates.shredded:
                    if cur.engine == "sqlite":
                        raise NotHere  # its traces in the files go outside a transaction: the projector's
                    self.db.destroy_keys(cur, updates.shredded)
                cur.execute(self._move_position, (end, NAME))
        except NotHere:
            return None
        except TransactionLost:
            raise  # the save's transaction is unusable: the save fails (nothing stored), as it must
        except Exception:
            logger.exception("could not apply positions %d-%d in their save; the projector will", start + 1, end)
            return None
        return Applied(self, start, end, changes)

    def _behind(self, position: int, head: int, log: LogInSave) -> list[Any]:
        """The events the read models lack below this save (recorded by saves that left them to the
        projector), read from the log in this transaction: a batch at most, else the projector's."""
        if position == head:
            return []
        if position > head or head - position > self.projector.batch_size:
            raise NotHere
        stored = log.window(position, head, self.projector.topics)
        rows = self.projector.rows
        with rows.preloaded(stored, keys=log):
            return [rows(s) for s in stored]

    def wake_unless_applied(self) -> None:
        """A save listener: wake the projector for a save whose events were not applied in it."""
        flag = self.applied_here
        if flag.value:
            flag.value = False
        else:
            self.projector.wake()


def _row(event: Any) -> Any:
    """What the updates take: messages and receipts as rows, the rest as domain events."""
    to_row = ROWS_FROM_EVENTS.get(type(event))
    return event if to_row is None else to_row(event)
