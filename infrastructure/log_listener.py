"""Wakes a projector the moment any process stores events (PostgreSQL only).

The library's PostgreSQL recorder sends `NOTIFY <events table>` with every insert; a projector in a
process of its own (`parley projections run`), where no local save wakes it, LISTENs for that on one
connection of the pool, rather than polling the log often. A NOTIFY is only a wake-up: the
projector reads the log by position, so a missed one costs a poll interval, never an event.
"""

import logging
import threading
from collections.abc import Callable
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

log = logging.getLogger("parley.log_listener")


class LogListener:
    def __init__(self, recorder: PostgresApplicationRecorder, wake: Callable[[], None]) -> None:
        self.recorder = recorder
        self.wake = wake
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-listener", daemon=True)

    @classmethod
    def start_for(cls, recorder: Any, wake: Callable[[], None]) -> "LogListener | None":
        """A started listener, or None where the store cannot notify (SQLite: poll instead)."""
        if not isinstance(recorder, PostgresApplicationRecorder):
            return None
        listener = cls(recorder, wake)
        listener._thread.start()
        return listener

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with self.recorder.datastore.get_connection() as connection:
                    connection.execute(sql.SQL("LISTEN {0}").format(sql.Identifier(self.recorder.channel_name)))
                    self.wake()  # events stored before LISTEN took effect
                    while not self._stopping.is_set():
                        for _ in connection.notifies(timeout=0.5, stop_after=1):
                            self.wake()
                    connection.execute("UNLISTEN *")  # the connection goes back to the pool
            except Exception as error:  # the database went away: the projector polls meanwhile
                log.warning("cannot listen for new events (%s); trying again", error)
                self._stopping.wait(1.0)
