"""Who is online: a user is online while at least one of their sockets is connected, anywhere.

Ephemeral by design: never written to the event store (see docs/architecture.md). `LocalPresence`
holds it in this process (one server process); `RedisPresence` (infrastructure/redis_presence.py)
holds it in Redis, shared by every process. The socket server calls the async methods from its
event loop; `online` is called from worker threads and the projector's thread.
"""

import threading
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True)
class PresenceChanges:
    """Users that came online or went offline other than by a socket of this process joining or
    leaving: found by a heartbeat (a killed process's sockets expiring)."""

    online: list[UUID] = field(default_factory=list)
    offline: list[UUID] = field(default_factory=list)


class Presence(Protocol):
    heartbeat_seconds: float | None  # how often `heartbeat` must run; None: never

    async def join(self, user_id: UUID, sid: str) -> bool:
        """Count a new socket; True when the user just came online (their first socket anywhere)."""

    async def leave(self, user_id: UUID, sid: str) -> bool:
        """Forget a socket; True when the user just went offline (their last socket anywhere)."""

    async def sockets(self, user_id: UUID) -> list[str]:
        """The user's socket ids, in every process."""

    def online(self, user_ids: list[UUID]) -> set[UUID]:
        """Which of these users are online (blocking: call it from a thread)."""

    async def heartbeat(self) -> PresenceChanges:
        """Keep this process's sockets alive, and expire those of processes that died."""


class LocalPresence:
    heartbeat_seconds: float | None = None

    def __init__(self) -> None:
        self._sockets: dict[UUID, set[str]] = {}
        self._lock = threading.Lock()

    async def join(self, user_id: UUID, sid: str) -> bool:
        with self._lock:
            sockets = self._sockets.setdefault(user_id, set())
            sockets.add(sid)
            return len(sockets) == 1

    async def leave(self, user_id: UUID, sid: str) -> bool:
        with self._lock:
            sockets = self._sockets.get(user_id)
            if sockets is None or sid not in sockets:
                return False
            sockets.discard(sid)
            if not sockets:
                del self._sockets[user_id]
                return True
            return False

    async def sockets(self, user_id: UUID) -> list[str]:
        with self._lock:
            return list(self._sockets.get(user_id, ()))

    def online(self, user_ids: list[UUID]) -> set[UUID]:
        with self._lock:
            return {u for u in user_ids if u in self._sockets}

    async def heartbeat(self) -> PresenceChanges:
        return PresenceChanges()
