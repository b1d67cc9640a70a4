"""Pooled PostgreSQL connections checked before use only when they may have gone stale.

The library's pre-ping (`POSTGRES_PRE_PING`) makes psycopg_pool check every connection it hands out
with a round trip to the server, so that a connection broken while it sat in the pool (a database
restart, a cut network) is replaced rather than failing a request. Under load that is one more round
trip per transaction, and a send takes several (the group commit, the projector's reads and its batch,
the broadcast's read): in the send benchmark a fifth of the threads' time in psycopg. A connection used
a moment ago was alive a moment ago; one that has been idle is the one that may have died. So only
connections idle for longer than IDLE_SECONDS are checked.
"""

import time
import weakref
from typing import Any

from psycopg_pool import ConnectionPool

IDLE_SECONDS = 1.0


class CheckWhenIdle:
    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self._handed_out: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()

    def __call__(self, connection: Any) -> None:
        now = time.monotonic()
        last = self._handed_out.get(connection)
        if last is None or now - last > self.idle_seconds:
            ConnectionPool.check_connection(connection)  # raises if broken: the pool replaces it
        self._handed_out[connection] = now


def check_when_idle(pool: "ConnectionPool[Any]") -> None:
    """Replace the pool's check-every-time (the library's pre-ping) with CheckWhenIdle. psycopg_pool
    takes its check only at construction, and the library builds the pool: the attribute is set here,
    and left alone if this psycopg_pool keeps it elsewhere (every connection is then checked, as before)."""
    if getattr(pool, "_check", None) is ConnectionPool.check_connection:
        pool._check = CheckWhenIdle()
