"""The broadcaster in a thread of its own, so the projector starts its next batch at once.

Change lists are published in the order the projector committed them; when the broadcaster falls
behind, the lists waiting are merged and published together (one summaries query for all of them).
`flush` waits until everything queued before it is published: a stopping server tells its clients
what it projected before it lets them go.
"""

import logging
import queue
import threading
from collections.abc import Callable

from projections.changes import Change

log = logging.getLogger("parley.broadcasts")


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
        while not stopping:
            changes: list[Change] = []
            flushed: list[threading.Event] = []
            item = self._queue.get()
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
            if changes:
                try:
                    self._publish(changes)
                except Exception:
                    log.exception("could not publish %d changes", len(changes))
            for marker in flushed:
                marker.set()
