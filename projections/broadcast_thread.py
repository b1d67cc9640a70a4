"""The broadcaster in a thread of its own, so the projector starts its next batch at once.

Change lists are published in the order the projector committed them; when the broadcaster falls
behind, the lists waiting are merged and published together (one summaries query for all of them).
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
        self._queue: queue.SimpleQueue[list[Change] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="broadcaster", daemon=True)
        self._thread.start()

    def put(self, changes: list[Change]) -> None:
        self._queue.put(changes)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        stopping = False
        while not stopping and (changes := self._queue.get()) is not None:
            while True:  # whatever else is waiting goes out with it, in order
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                changes = changes + more
            try:
                self._publish(changes)
            except Exception:
                log.exception("could not publish %d changes", len(changes))
