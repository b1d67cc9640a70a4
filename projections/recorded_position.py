"""The read models' position as another process records it, for a server that does not project
(`parley serve --no-projections`, with `parley projections run` elsewhere).

Read-your-writes waits cannot wait on an in-process projector there, so one thread polls the
recorded position (the `rm_position` row) while anybody waits, every `interval` seconds, and wakes
the waiters it satisfies; when nobody waits it does not query at all.
"""

import logging
import threading
import time

from projections.ports import SqlDatabase
from projections.projector import Projector

log = logging.getLogger("parley.position")


class RecordedPosition:
    def __init__(self, db: SqlDatabase, projector: Projector, interval: float = 0.005) -> None:
        self.db = db
        self.projector = projector  # only to read its recorded position; it never runs here
        self.interval = interval
        self._position = 0
        self._changed = threading.Condition()
        self._waiters = 0
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.failure: BaseException | None = None
        self._failing_since: float | None = None

    @property
    def position(self) -> int:
        return self._position

    def wait(self, position: int, timeout: float) -> bool:
        """Block until the recorded position reaches `position`; False on timeout."""
        with self._changed:
            if self._position >= position:
                return True
            self._waiters += 1
            self._wanted.set()
            try:
                return self._changed.wait_for(lambda: self._position >= position, timeout)
            finally:
                self._waiters -= 1

    def failing_for(self) -> float:
        """Seconds since reading the position started failing (0 while it succeeds)."""
        return 0.0 if self._failing_since is None else time.monotonic() - self._failing_since

    def start(self) -> None:
        self._read()
        self._thread = threading.Thread(target=self._run, name="recorded-position", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wanted.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wanted.wait()
            self._read()
            with self._changed:
                if not self._waiters:
                    self._wanted.clear()
            self._stopping.wait(self.interval if self.failure is None else 0.5)

    def _read(self) -> None:
        try:
            with self.db.transaction(commit=False) as cur:
                position = self.projector.stored_position(cur)
        except Exception as error:  # the store is down: waits time out, /readyz says so
            if self.failure is None:
                log.warning("cannot read the read models' position: %s", error)
                self._failing_since = time.monotonic()
            self.failure = error
            return
        self.failure = self._failing_since = None
        with self._changed:
            if position != self._position:  # (it moves back only when an online rebuild swaps)
                self._position = position
                self._changed.notify_all()
