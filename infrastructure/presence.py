"""Who is online, in this process: a user is online while at least one of their sockets is connected.

Ephemeral by design: never written to the event store (see docs/architecture.md).
"""

import threading
from collections import Counter
from uuid import UUID


class LocalPresence:
    def __init__(self) -> None:
        self._sockets: Counter[UUID] = Counter()
        self._lock = threading.Lock()

    def connected(self, user_id: UUID) -> bool:
        """Count one more socket; True when the user just came online."""
        with self._lock:
            self._sockets[user_id] += 1
            return self._sockets[user_id] == 1

    def disconnected(self, user_id: UUID) -> bool:
        """Count one socket less; True when the user's last socket just went."""
        with self._lock:
            self._sockets[user_id] -= 1
            if self._sockets[user_id] <= 0:
                del self._sockets[user_id]
                return True
            return False

    def online(self, user_ids: list[UUID]) -> set[UUID]:
        with self._lock:
            return {u for u in user_ids if self._sockets.get(u)}
