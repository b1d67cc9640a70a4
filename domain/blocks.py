"""Blocks: one person stops another reaching them (contract section 8). One aggregate per ordered pair
(blocker, blocked): its id derives from the pair, so blocking again finds the same stream."""

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidInput


class Block(Aggregate):
    """Whether `blocker_id` blocks `blocked_id` now. Blocking twice or unblocking a user not blocked
    writes nothing. The removal of the pair's connection that blocking causes is the Connection's own
    `ConnectionRemoved`, saved in the same transaction."""

    class UserBlocked(Aggregate.Created):
        blocker_id: UUID
        blocked_id: UUID

    class UserBlockedAgain(Aggregate.Event):
        """Blocked again after an unblock."""

        blocker_id: UUID
        blocked_id: UUID

    class UserUnblocked(Aggregate.Event):
        """The block ended; no connection comes back."""

        blocker_id: UUID
        blocked_id: UUID

    @staticmethod
    def create_id(blocker_id: UUID, blocked_id: UUID) -> UUID:
        return block_id(blocker_id, blocked_id)

    @classmethod
    def start(cls, blocker_id: UUID, blocked_id: UUID) -> "Block":
        if blocker_id == blocked_id:
            raise InvalidInput("You cannot block yourself.")
        return cls(blocker_id=blocker_id, blocked_id=blocked_id)

    @event(UserBlocked)
    def __init__(self, blocker_id: UUID, blocked_id: UUID) -> None:
        self.blocker_id = blocker_id
        self.blocked_id = blocked_id
        self.active = True

    def block_again(self) -> bool:
        if self.active:
            return False
        self._block_again(self.blocker_id, self.blocked_id)
        return True

    @event(UserBlockedAgain)
    def _block_again(self, blocker_id: UUID, blocked_id: UUID) -> None:
        self.active = True

    def unblock(self) -> bool:
        if not self.active:
            return False
        self._unblock(self.blocker_id, self.blocked_id)
        return True

    @event(UserUnblocked)
    def _unblock(self, blocker_id: UUID, blocked_id: UUID) -> None:
        self.active = False


def block_id(blocker_id: UUID, blocked_id: UUID) -> UUID:
    """A stable id for an ordered pair: who blocks whom."""
    return uuid5(NAMESPACE_URL, f"/parley/blocks/{blocker_id}/{blocked_id}")
