"""Units of work and group commit.

A command runs against a UnitOfWork: it finds aggregates through it (one object per aggregate within
the unit, so several commands can change one conversation in turn) and stages what it changed. The
caller saves everything staged in one transaction. GroupCommit runs the conversation commands that
arrive together from many threads in one writer thread and saves each group with one commit, so a
busy server pays one commit per group instead of one per message; every caller is answered only
after its group is durable.
"""

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, Protocol, TypeVar

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.errors import DomainError

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

POSITION_OF_SAVE = -1  # a result's position placeholder: "the position of the save that stored this"


class Finder(Protocol):
    def _find(self, cls: type[A], aggregate_id: Any, fresh: bool = False) -> A | None: ...


class UnitOfWork:
    def __init__(self, finder: Finder, fresh: bool) -> None:
        self.finder = finder
        self.fresh = fresh
        self._loaded: dict[Any, Aggregate | None] = {}
        self.staged: list[Aggregate] = []

    def find(self, cls: type[A], aggregate_id: Any) -> A | None:
        if aggregate_id not in self._loaded:
            self._loaded[aggregate_id] = self.finder._find(cls, aggregate_id, self.fresh)
        found = self._loaded[aggregate_id]
        return found if isinstance(found, cls) else None

    def refresh(self, cls: type[A], aggregate_id: Any) -> A | None:
        """Reload from the store (the cached copy may be behind another process), unless a command
        of this unit already changed it (then a stale copy fails the save, and each command reruns)."""
        current = self._loaded.get(aggregate_id)
        if current is not None and current.pending_events:
            return current if isinstance(current, cls) else None
        self._loaded[aggregate_id] = self.finder._find(cls, aggregate_id, True)
        return self.find(cls, aggregate_id)

    def stage(self, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            if all(aggregate is not staged for staged in self.staged):
                self.staged.append(aggregate)
            self._loaded[aggregate.id] = aggregate


Command = Callable[[UnitOfWork], T]


class _Pending(Generic[T]):
    def __init__(self, command: Command[T]) -> None:
        self.command = command
        self.future: Future[T] = Future()


class GroupCommit:
    """One writer thread; `run(command)` blocks the calling thread until the command's group is saved,
    `submit(command)` returns a future of it at once."""

    def __init__(
        self,
        save: Callable[[list[Aggregate]], int | None],
        alone: Callable[[Command[Any]], Any],
        finder: Finder,
        max_group: int = 256,
    ) -> None:
        self._save = save  # saves aggregates in one transaction, returns the last position
        self._alone = alone  # runs one command on its own, with retries (the fallback)
        self._finder = finder
        self.max_group = max_group
        self._queue: queue.SimpleQueue[_Pending[Any] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="group-commit", daemon=True)
        self._thread.start()

    def run(self, command: Command[T]) -> T:
        return self.submit(command).result()

    def submit(self, command: Command[T]) -> "Future[T]":
        """Queue `command` without blocking; the future settles when its group is saved (or refused).
        It cannot be cancelled: a caller that stops waiting just drops it, and the writer settles it."""
        pending: _Pending[T] = _Pending(command)
        pending.future.set_running_or_notify_cancel()
        self._queue.put(pending)
        return pending.future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

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
            self._commit(group)

    def _commit(self, group: list[_Pending[Any]]) -> None:
        unit = UnitOfWork(self._finder, fresh=False)
        results: list[tuple[_Pending[Any], Any, BaseException | None]] = []
        for pending in group:
            try:
                results.append((pending, pending.command(unit), None))
            except DomainError as error:  # this command broke a rule: it staged nothing
                results.append((pending, None, error))
        try:
            position = self._save(unit.staged) if unit.staged else None
        except IntegrityError:
            # A stale aggregate (another process wrote) or a repeated message id: each command again,
            # on its own, on fresh aggregates.
            for pending in group:
                self._settle(pending, lambda p=pending: self._alone(p.command))
            return
        except BaseException as error:  # the store is down: nothing of the group was saved
            for pending in group:
                pending.future.set_exception(error)
            return
        for pending, result, error in results:
            if error is not None:
                pending.future.set_exception(error)
            else:
                pending.future.set_result(with_position(result, position))

    @staticmethod
    def _settle(pending: _Pending[Any], run: Callable[[], Any]) -> None:
        try:
            pending.future.set_result(run())
        except BaseException as error:
            pending.future.set_exception(error)


def with_position(result: Any, position: int | None) -> Any:
    """Fill the placeholder position of a result with the position of the save that stored it."""
    from dataclasses import replace

    if getattr(result, "position", None) == POSITION_OF_SAVE:
        return replace(result, position=position)
    return result
