"""Which user each socket belongs to, and each user's sockets in this process."""

from uuid import UUID


class Sessions:
    def __init__(self) -> None:
        self._users: dict[str, UUID] = {}
        self._sockets: dict[UUID, set[str]] = {}

    def add(self, sid: str, user_id: UUID) -> None:
        self._users[sid] = user_id
        self._sockets.setdefault(user_id, set()).add(sid)

    def remove(self, sid: str) -> UUID | None:
        user_id = self._users.pop(sid, None)
        if user_id is not None:
            sockets = self._sockets.get(user_id, set())
            sockets.discard(sid)
            if not sockets:
                self._sockets.pop(user_id, None)
        return user_id

    def user(self, sid: str) -> UUID | None:
        return self._users.get(sid)

    def sockets(self, user_id: UUID) -> list[str]:
        return list(self._sockets.get(user_id, ()))

    def sids(self) -> list[str]:
        return list(self._users)

    def __len__(self) -> int:
        return len(self._users)
