"""Which user (and sign-in session) each socket belongs to, and each user's sockets in this process."""

from uuid import UUID


class Sessions:
    def __init__(self) -> None:
        self._users: dict[str, UUID] = {}
        self._sockets: dict[UUID, set[str]] = {}
        self._session_of: dict[str, UUID] = {}

    def add(self, sid: str, user_id: UUID, session_id: UUID | None = None) -> None:
        self._users[sid] = user_id
        if session_id is not None:
            self._session_of[sid] = session_id
        self._sockets.setdefault(user_id, set()).add(sid)

    def remove(self, sid: str) -> UUID | None:
        user_id = self._users.pop(sid, None)
        self._session_of.pop(sid, None)
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

    def of_sessions(self, session_ids: list[UUID]) -> list[str]:
        """The sockets here of these sign-in sessions."""
        wanted = set(session_ids)
        return [sid for sid, session_id in self._session_of.items() if session_id in wanted]

    def session_ids(self) -> list[UUID]:
        """The sessions of this process's live sockets."""
        return list(set(self._session_of.values()))

    def sids(self) -> list[str]:
        return list(self._users)

    def __len__(self) -> int:
        return len(self._users)
