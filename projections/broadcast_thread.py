"""The broadcaster in a thread of its own, so the projector starts its next batch at once.

Change lists are published in the order they were committed (by saves applying their own events, or
by the projector); when the broadcaster falls behind, the lists waiting are merged and published
together (one summaries query for all of them). Messages and markers go out at once; the
`conversation_updated` that messages and receipts cause are coalesced for up to COALESCE_SECONDS, so
under load each member's summary is read and sent once per window, not once per commit (the latest
state: it is read when sent). Any other change publishes what waits with it, in order.
`flush` waits until everything queued before it is published: a stopping server tells its clients
what it projected before it lets them go.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable

from projections.changes import Change, ConversationChanged, MarkerMoved, MessageAdded

log = logging.getLogger("parley.broadcasts")
COALESCE_SECONDS = 0.02
AT_ONCE = (MessageAdded, MarkerMoved)  # carry their whole payload: no read, no reason to wait


class BroadcastThread:
    def __init__(self, publish: Callable[[list[Change]], None]) -> None:
        self._publish = publish
        # A change list, a flush marker (set once what came before it is published), or None: stop.
        self._queue: queue.SimpleQueue[list[Change] | threading.Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="broadcaster", daemon=True)
        self._thread.start()

    def put(self, changes: list[Change]) -> None:
        self._queue.put(changes)

    def flush(self, timeout: float) -> bool:
        """Block until every change list queued so far is published; False if `timeout` passed first
        (or the thread is gone)."""
        if not self._thread.is_alive():
            return False
        published = threading.Event()
        self._queue.put(published)
        return published.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Publish what is queued, then stop; within `timeout` (the thread is a daemon: a publish
        stuck on a dead database does not hold the process)."""
        self._queue.put(None)
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        stopping = False
        waiting: list[Change] = []  # ConversationChanged held for the window
        due: float | None = None
        while not stopping:
            changes: list[Change] = []
            flushed: list[threading.Event] = []
            try:
                item = self._queue.get(timeout=None if due is None else max(0.0, due - time.monotonic()))
            except queue.Empty:
                item = []  # the window closed
            while True:  # whatever else is waiting goes out with it, in order
                if item is None:
                    stopping = True
                    break
                if isinstance(item, threading.Event):
                    flushed.append(item)
                else:
                    changes = changes + item
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if stopping or flushed or any(not isinstance(c, (*AT_ONCE, ConversationChanged)) for c in changes):
                self._send(waiting + changes)
                waiting, due = [], None
            else:
                self._send([c for c in changes if isinstance(c, AT_ONCE)])
                waiting += [c for c in changes if isinstance(c, ConversationChanged)]
                if waiting and due is None:
                    due = time.monotonic() + COALESCE_SECONDS
                if due is not None and time.monotonic() >= due:
                    self._send(waiting)
                    waiting, due = [], None
            for marker in flushed:
                marker.set()

    def _send(self, changes: list[Change]) -> None:
        if changes:
            try:
                self._publish(changes)
            except Exception:
                log.exception("could not publish %d changes", len(changes))
