"""Connections between two people: request, accept, decline, remove. One aggregate per pair."""

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConnectionExists, InvalidInput, InvalidState, NotAParty

PENDING, CONNECTED, DECLINED, REMOVED = "pending", "connected", "declined", "removed"
ACTIVE = (PENDING, CONNECTED)


class Connection(Aggregate):
    """The relationship of one pair of users.

    Its id derives from the pair, so two concurrent first requests conflict in the store, and a
    request while one is pending or connected is refused. After a decline or a removal the pair may
    request again: the same aggregate, a new request.
    """

    class ConnectionRequested(Aggregate.Created):
        requester_id: UUID
        addressee_id: UUID

    class ConnectionRequestedAgain(Aggregate.Event):
        requester_id: UUID
        addressee_id: UUID

    class ConnectionAccepted(Aggregate.Event):
        """The addressee accepted: the pair is connected."""

    class ConnectionDeclined(Aggregate.Event):
        """The addressee declined the pending request."""

    class ConnectionRemoved(Aggregate.Event):
        removed_by: UUID

    @staticmethod
    def create_id(requester_id: UUID, addressee_id: UUID) -> UUID:
        return pair_id("connections", requester_id, addressee_id)

    @classmethod
    def request(cls, requester_id: UUID, addressee_id: UUID) -> "Connection":
        if requester_id == addressee_id:
            raise InvalidInput("You cannot connect with yourself.")
        return cls(requester_id=requester_id, addressee_id=addressee_id)

    @event(ConnectionRequested)
    def __init__(self, requester_id: UUID, addressee_id: UUID) -> None:
        self._requested(requester_id, addressee_id)

    def request_again(self, requester_id: UUID) -> None:
        if self.status in ACTIVE:
            raise ConnectionExists("A connection between you is already pending or connected.")
        addressee_id = self.other_party(requester_id)
        self._request_again(requester_id, addressee_id)

    @event(ConnectionRequestedAgain)
    def _request_again(self, requester_id: UUID, addressee_id: UUID) -> None:
        self._requested(requester_id, addressee_id)

    def _requested(self, requester_id: UUID, addressee_id: UUID) -> None:
        self.requester_id = requester_id
        self.addressee_id = addressee_id
        self.status = PENDING

    def accept(self, user_id: UUID) -> None:
        self._check_addressee(user_id)
        self._accept()

    @event(ConnectionAccepted)
    def _accept(self) -> None:
        self.status = CONNECTED

    def decline(self, user_id: UUID) -> None:
        self._check_addressee(user_id)
        self._decline()

    @event(ConnectionDeclined)
    def _decline(self) -> None:
        self.status = DECLINED

    def remove(self, user_id: UUID) -> None:
        """Either party ends a pending or connected relationship; removing an ended one changes nothing."""
        self.other_party(user_id)
        if self.status in ACTIVE:
            self._remove(user_id)

    @event(ConnectionRemoved)
    def _remove(self, removed_by: UUID) -> None:
        self.status = REMOVED

    @property
    def is_connected(self) -> bool:
        return self.status == CONNECTED

    def other_party(self, user_id: UUID) -> UUID:
        if user_id == self.requester_id:
            return self.addressee_id
        if user_id == self.addressee_id:
            return self.requester_id
        raise NotAParty("You are not a party to this connection.")

    def _check_addressee(self, user_id: UUID) -> None:
        if user_id != self.addressee_id:
            self.other_party(user_id)  # an outsider is told so first
            raise NotAParty("Only the person asked can answer a connection request.")
        if self.status != PENDING:
            raise InvalidState(f"This connection is {self.status}, not pending.")


def pair_id(kind: str, a: UUID, b: UUID) -> UUID:
    """A stable id for an unordered pair of users."""
    low, high = sorted((str(a), str(b)))
    return uuid5(NAMESPACE_URL, f"/parley/{kind}/{low}/{high}")
