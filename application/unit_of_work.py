"""Units of work and group commit.

A command runs against a UnitOfWork: it finds aggregates through it (one object per aggregate within
the unit, so several commands can change one conversation in turn) and stages what it changed. The
caller saves everything staged in one transaction. GroupCommit runs the conversation commands that
arrive together from many threads in one writer thread and saves each group with one commit, so a
busy server pays one commit per group instead of one per message; every caller is answered only
after its group is durable.
"""

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from typing import Any, Generic, Protocol, TypeVar

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, PersistenceError

from domain.errors import DomainError

log = logging.getLogger("parley.group_commit")
A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

MAX_QUEUE_DELAY_SECONDS = 0.5  # how long the commands of the last group waited for it, past which new sends are refused
POSITION_OF_SAVE = -1  # a result's position placeholder: "the position of the save that stored this"


class Finder(Protocol):
    def _find(self, cls: type[A], aggregate_id: Any, fresh: bool = False, copy: bool = True) -> A | None: ...

    def _forget(self, aggregate_ids: list[Any]) -> None: ...


class UnitOfWork:
    """`fresh`: aggregates are loaded from the store, not the cache. `recheck`: commands look again in the
    store for what a cached copy may have hidden (a message key saved by an earlier attempt of the same
    send), one read per command: a command alone after a conflict does; a whole group run again on fresh
    copies does not (its save would meet such a key as a conflict, and its commands then run alone).
    `borrow`: the unit works on the cached aggregates themselves, not deep copies (a copy per aggregate
    per group cost the writer about a fifth of its time); only the group-commit writer borrows, as the
    one thread that changes conversations, and it `discard`s what a unit loaded whenever the unit is
    not saved whole, so the cache never keeps a change that was not stored."""

    def __init__(self, finder: Finder, fresh: bool, recheck: bool | None = None, borrow: bool = False) -> None:
        self.finder = finder
        self.fresh = fresh
        self.recheck = fresh if recheck is None else recheck
        self.borrow = borrow
        self._loaded: dict[Any, Aggregate | None] = {}
        self.staged: list[Aggregate] = []

    def find(self, cls: type[A], aggregate_id: Any) -> A | None:
        if aggregate_id not in self._loaded:
            self._loaded[aggregate_id] = self.finder._find(cls, aggregate_id, self.fresh, copy=not self.borrow)
        found = self._loaded[aggregate_id]
        return found if isinstance(found, cls) else None

    def refresh(self, cls: type[A], aggregate_id: Any) -> A | None:
        """Reload from the store (the cached copy may be behind another process), unless a command
        of this unit already changed it (then a stale copy fails the save, and each command reruns)."""
        current = self._loaded.get(aggregate_id)
        if current is not None and current.pending_events:
            return current if isinstance(current, cls) else None
        self._loaded[aggregate_id] = self.finder._find(cls, aggregate_id, True, copy=not self.borrow)
        return self.find(cls, aggregate_id)

    def stage(self, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            if all(aggregate is not staged for staged in self.staged):
                self.staged.append(aggregate)
            self._loaded[aggregate.id] = aggregate

    def discard(self) -> None:
        """Drop what this unit loaded or staged from the cache: it was not saved (borrowed aggregates
        may hold changes that were never stored); the next unit loads them from the store."""
        if self.borrow:
            self.finder._forget(list(self._loaded))


Command = Callable[[UnitOfWork], T]


class CommandTimedOut(Exception):
    """A command was not saved within its deadline (the store is slow or down, or the writer is
    behind): the caller is answered instead of waiting. The command may still be saved later; a
    retried send with the same client_message_id then returns the original."""


class Overloaded(Exception):
    """The writer is further behind than a send may wait (MAX_QUEUE_DELAY_SECONDS): nothing was queued.
    Answered `rate_limited` with a wait: under a load the store cannot take, clients are told to slow
    down rather than every queued send getting later and later."""

    def __init__(self, retry_after_ms: int) -> None:
        super().__init__("The server is busy; nothing was stored. Try again shortly.")
        self.retry_after_ms = retry_after_ms


class ShuttingDown(Exception):
    """The process is stopping: this command was not run."""


class _Pending(Generic[T]):
    def __init__(self, command: Command[T], deadline: float) -> None:
        self.command = command
        self.deadline = deadline  # time.monotonic() after which nobody waits for the result
        self.queued = time.monotonic()
        self.future: Future[T] = Future()

    def settle(self, result: Any = None, error: BaseException | None = None) -> None:
        """Set the result or the error once; a second settlement is ignored (never raises)."""
        if self.future.done():
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(result)


class GroupCommit:
    """One writer thread; `run(command)` blocks the calling thread until the command's group is saved,
    `submit(command)` returns a future of it at once.

    Every command's future settles, whatever happens: with its result once durable, with the rule it
    broke, with the store's error (nothing of its group was saved), with any other exception of the
    command (logged by the caller with a correlation id), or with CommandTimedOut when it was still
    queued past its deadline. The writer thread logs and goes on after anything."""

    def __init__(
        self,
        save: Callable[[list[Aggregate]], int | None],
        alone: Callable[[Command[Any]], Any],
        finder: Finder,
        max_group: int = 256,
        deadline_seconds: float = 10.0,
    ) -> None:
        self._save = save  # saves aggregates in one transaction, returns the last position
        self._alone = alone  # runs one command on its own, with retries (the fallback)
        self._finder = finder
        self.max_group = max_group
        self.deadline_seconds = deadline_seconds
        self._queue: queue.SimpleQueue[_Pending[Any] | None] = queue.SimpleQueue()
        self.on_group: Callable[[int], None] | None = None  # told each group's size (the metrics)
        self.max_queue_delay = MAX_QUEUE_DELAY_SECONDS
        self._delay = 0.0  # how long the first command of the group being written waited for the writer
        self._closed = False
        self._thread = threading.Thread(target=self._write, name="group-commit", daemon=True)
        self._thread.start()

    def run(self, command: Command[T]) -> T:
        try:
            return self.submit(command).result(timeout=self.deadline_seconds + 1)
        except FutureTimeout:  # the writer itself is stuck (a store call that does not return)
            raise CommandTimedOut("The command was not saved in time.") from None

    def submit(self, command: Command[T], sheddable: bool = False) -> "Future[T]":
        """Queue `command` without blocking; the future settles when its group is saved (or refused).
        It cannot be cancelled: a caller that stops waiting just drops it, and the writer settles it.
        `sheddable`: refused with Overloaded while the writer is behind (sends: the contract lets a
        send answer `rate_limited`)."""
        pending: _Pending[T] = _Pending(command, time.monotonic() + self.deadline_seconds)
        pending.future.set_running_or_notify_cancel()
        if self._closed:
            pending.settle(error=ShuttingDown("The server is shutting down; nothing was changed."))
        elif sheddable and self._delay > self.max_queue_delay and not self._queue.empty():
            # Push-back: the writer is behind by more than a send may wait (load shedding at the door,
            # like CoDel: by the time commands spent queued, not by the queue's length).
            pending.settle(error=Overloaded(max(50, int(self._delay * 1000))))
        else:
            self._queue.put(pending)
        return pending.future

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        """Stop after what is queued (each settled), within 10 s; anything left is refused."""
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=10)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item.settle(error=ShuttingDown("The server is shutting down; nothing was changed."))

    def _write(self) -> None:
        while (first := self._queue.get()) is not None:
            group = [first]
            while len(group) < self.max_group:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                group.append(item)
            self._delay = time.monotonic() - group[0].queued
            if self.on_group is not None:
                with contextlib.suppress(Exception):  # a report never costs a group its answers
                    self.on_group(len(group))
            try:
                self._commit(group)
            except BaseException as error:  # a defect of the writer itself: answer everyone, go on
                log.exception("group commit failed; its %d commands are refused", len(group))
                for pending in group:
                    pending.settle(error=error)

    @staticmethod
    def _live(group: list[_Pending[Any]]) -> list[_Pending[Any]]:
        """The commands somebody still waits for; the others are refused unrun (load shedding: their
        callers were already answered, and retrying a send is safe)."""
        now = time.monotonic()
        live = []
        for pending in group:
            if pending.deadline < now:
                pending.settle(error=CommandTimedOut("The server was too busy to save this in time."))
            else:
                live.append(pending)
        return live

    def _commit(self, group: list[_Pending[Any]], fresh: bool = False) -> None:
        """Run the group's commands in one unit of work and save it in one transaction; `fresh`: on
        aggregates loaded from the store rather than the cache."""
        if not group:
            return
        unit = UnitOfWork(self._finder, fresh=fresh, recheck=False, borrow=True)
        results: list[tuple[_Pending[Any], Any, BaseException | None]] = []
        for number, pending in enumerate(group):
            if not self._live([pending]):  # its deadline passed while the group's earlier ones ran
                continue
            try:
                results.append((pending, pending.command(unit), None))
            except DomainError as error:  # this command broke a rule: it staged nothing
                results.append((pending, None, error))
            except PersistenceError as error:  # the store is down (an aggregate could not be loaded)
                unit.discard()
                for other in group:  # nothing was saved: each learns now, rather than each in turn
                    other.settle(error=error)
                return
            except Exception as error:  # a defect in one command: it may have changed the unit halfway
                pending.settle(error=error)
                log.error("command failed in group commit: %r", error, exc_info=error)
                unit.discard()
                self._commit(group[:number] + group[number + 1 :], fresh)  # the others again, in a clean unit
                return
        try:
            position = self._save(unit.staged) if unit.staged else None
        except IntegrityError:
            unit.discard()
            # A stale aggregate (another process wrote) or a repeated message id. First the whole group
            # again, on aggregates fresh from the store: one more commit for all of it (where several
            # processes write the same conversations, nearly every group meets a stale copy, and one
            # commit per command made a group of 200 cost 200). If that conflicts too (another process
            # wrote again meanwhile), each command on its own, with the retries of `_alone`.
            if not fresh:
                self._commit(self._live(group), fresh=True)
                return
            for pending in group:
                if self._live([pending]):  # each in turn: the deadline may pass while others run
                    self._settle(pending, self._alone)
            return
        except Exception as error:  # the store is down: nothing of the group was saved
            unit.discard()
            for pending in group:
                pending.settle(error=error)
            return
        for pending, result, refusal in results:
            if refusal is not None:
                pending.settle(error=refusal)
            else:
                pending.settle(with_position(result, position))

    @staticmethod
    def _settle(pending: _Pending[Any], alone: Callable[[Command[Any]], Any]) -> None:
        try:
            result = alone(pending.command)
        except Exception as error:
            pending.settle(error=error)
        else:
            pending.settle(result)


def with_position(result: Any, position: int | None) -> Any:
    """Fill the placeholder position of a result with the position of the save that stored it."""
    if getattr(result, "position", None) == POSITION_OF_SAVE:
        return replace(result, position=position)
    return result
