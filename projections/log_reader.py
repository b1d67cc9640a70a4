"""Reading the log in batches for the projector: here, or ahead of it in a process of its own.

A batch covers a window of the log's positions after the projector's (at most its limit, and never past
the head read before it) and holds the events in it that the read models use (only their topics are
selected: index claims, half the log, are not even read), decoded as the updates take them
(projections/event_rows.py). The position then moves to the end of the window, even when its last
events were skipped: every event up to the head is committed (the stores commit notification ids in
order).

A long catch-up (a rebuild, a projector started far behind) reads and decodes the log in a second
process while the projector writes: the two halves of the work then run on two cores instead of
taking turns on the GIL. Batches come back in log order through a small queue (memory stays flat);
the projector still writes each one with its position in one transaction, exactly as it would have.
"""

import contextlib
import gc
import itertools
import multiprocessing
import pickle
import queue
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import ApplicationRecorder, Notification

from projections.event_rows import EventRows, MessageRow, ReceiptRow
from projections.ports import StoredRow, WindowedRecorder


@dataclass(frozen=True)
class Batch:
    """Events after `start` up to `end` (positions in the log), in log order."""

    start: int
    end: int
    events: list[Any]


def read_batch(
    recorder: ApplicationRecorder, rows: EventRows, topics: Sequence[str], limit: int, start: int, stop: int | None
) -> Batch:
    head = recorder.max_notification_id() or 0
    # A window of `limit` positions, not "up to the head": with a topic filter, a query to the head
    # makes PostgreSQL read and sort the whole rest of the log for every batch.
    bound = min(head if stop is None else min(stop, head), start + limit)
    if bound <= start:
        return Batch(start, start, [])
    stored = select_window(recorder, start, bound, topics)  # at most `limit` events: the window's size
    # The keys of the window's sealed fields in one query where the recorder's window says how
    # (infrastructure/event_log.py), else through the mapper's own key reader.
    return Batch(start, bound, rows.window(stored, getattr(stored, "keys", None)))


# Batches cross to the projector as plain tuples with a kind byte each: pickling named tuples costs
# about four times as much, and the reader process is the busier of the two.
_KINDS: dict[type, int] = {MessageRow: 1, ReceiptRow: 2}
_REBUILD: dict[int, Any] = {1: MessageRow._make, 2: ReceiptRow._make}


def pack(batch: Batch) -> tuple[int, int, bytes, list[Any]]:
    kinds = bytearray()
    values: list[Any] = []
    for event in batch.events:
        kind = _KINDS.get(type(event), 0)
        kinds.append(kind)
        values.append(tuple(event) if kind else event)
    return batch.start, batch.end, bytes(kinds), values


def unpack(packed: tuple[int, int, bytes, list[Any]]) -> Batch:
    start, end, kinds, values = packed
    return Batch(
        start, end, [_REBUILD[kind](value) if kind else value for kind, value in zip(kinds, values, strict=True)]
    )


QUEUED_BATCHES = 2  # per reader
READERS = 2  # reading and decoding is the larger half of the work: two readers keep the writer busy
POLL_SECONDS = 0.5


class ReaderProcess:
    """Batches from `start` to `stop` (or the head), read by child processes, each with its own
    application on the same store: reader k reads windows k, k + READERS, ... of `limit` positions,
    and the batches are handed out in log order. Iteration ends at an empty batch, or at a batch that
    does not start where the previous one ended (the head was reached mid-window: the projector carries
    on batch by batch from there). Use as a context manager."""

    def __init__(
        self,
        app: Application[Any],
        topics: Sequence[str],
        limit: int,
        start: int,
        stop: int | None,
        readers: int = READERS,
    ) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        env = {**app.env, "CREATE_TABLE": "n"}
        self._queues: list[Any] = [context.Queue(QUEUED_BATCHES) for _ in range(readers)]
        self._processes = [
            context.Process(
                target=_read_log,
                args=(type(app), env, list(topics), limit, start, stop, k, readers, self._queues[k]),
                name=f"parley-log-reader-{k}",
                daemon=True,
            )
            for k in range(readers)
        ]

    def __enter__(self) -> "ReaderProcess":
        with _main_module_not_imported():
            for process in self._processes:
                process.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        for process, queue_ in zip(self._processes, self._queues, strict=True):
            if process.is_alive():
                process.terminate()
            process.join(timeout=10)
            queue_.close()

    def __iter__(self) -> Iterator[Batch]:
        position: int | None = None
        for window in itertools.count():
            batch = self._next_from(window % len(self._queues))
            if batch.end == batch.start or (position is not None and batch.start != position):
                return
            yield batch
            position = batch.end

    def _next_from(self, reader: int) -> Batch:
        while True:
            try:
                item = self._queues[reader].get(timeout=POLL_SECONDS)
            except queue.Empty:
                process = self._processes[reader]
                if not process.is_alive():
                    raise RuntimeError(f"the log reader process exited ({process.exitcode})") from None
                continue
            if isinstance(item, str):
                raise RuntimeError(f"the log reader process failed: {item}")
            return unpack(pickle.loads(item))


@contextlib.contextmanager
def _main_module_not_imported() -> Iterator[None]:
    """A spawned child runs the parent's main module again before its target (for targets defined
    there): `parley` or a benchmark imports the whole server, about a second per reader before it reads
    anything. A reader's target and arguments are all importable by name, so the child is not told
    what the main module is. (Started from the one thread that starts readers; nothing else here
    reads these two attributes.)"""
    main = sys.modules.get("__main__")
    saved = {name: getattr(main, name) for name in ("__spec__", "__file__") if hasattr(main, name)}
    try:
        if main is not None:
            main.__spec__ = None
            if "__file__" in saved:
                del main.__file__
        yield
    finally:
        for name, value in saved.items():
            setattr(main, name, value)
        if main is not None and "__spec__" not in saved:
            del main.__spec__


def _read_log(
    app_class: type[Application[Any]],
    env: dict[str, str],
    topics: list[str],
    limit: int,
    start: int,
    stop: int | None,
    first: int,
    step: int,
    out: Any,
) -> None:
    """In a reader: windows `first`, `first + step`, ... after `start`, until one starts at or past the
    head (or `stop`): then an empty batch."""
    import traceback

    try:
        app = app_class(env=env)
        rows = EventRows(app.mapper)
        # What is alive now (modules, the application) lives as long as the process: no collection
        # walks it again. A window's tens of thousands of rows hold no cycles; the cyclic collector
        # runs once per window, when they are gone, rather than every 700 allocations through them.
        gc.collect()
        gc.freeze()
        gc.disable()
        for window in itertools.count(first, step):
            at = start + window * limit
            batch = read_batch(app.recorder, rows, topics, limit, at, stop)
            # Pickled here rather than by the queue's feeder thread, which would take turns on this
            # process's GIL with the next window's decoding: the batch leaves as soon as it is read.
            out.put(pickle.dumps(pack(batch), protocol=pickle.HIGHEST_PROTOCOL))
            if batch.end == batch.start:
                break
            del batch
            gc.collect()
        app.close()
    except BaseException:
        out.put(traceback.format_exc(limit=5))


def select_window(
    recorder: ApplicationRecorder, start: int, stop: int, topics: Sequence[str]
) -> Sequence[StoredRow | Notification]:
    """The events after `start` up to `stop` of these topics, in log order: through the recorder's own
    window query where it has one (WindowedRecorder), else the library's generic one."""
    if isinstance(recorder, WindowedRecorder):
        return recorder.select_window(start, stop, topics)
    return recorder.select_notifications(
        start=start, limit=stop - start, stop=stop, topics=list(topics), inclusive_of_start=False
    )
