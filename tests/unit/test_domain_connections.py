from uuid import uuid4

import pytest

from domain.connections import Connection
from domain.errors import ConnectionExists, InvalidInput, InvalidState, NotAParty


def test_a_request_is_pending_until_the_addressee_accepts() -> None:
    a, b = uuid4(), uuid4()
    connection = Connection.request(a, b)
    assert connection.status == "pending" and not connection.is_connected
    connection.accept(b)
    assert connection.is_connected
    assert connection.id == Connection.create_id(b, a)  # one aggregate per pair, whoever asks


def test_only_the_addressee_answers_and_only_while_pending() -> None:
    a, b, outsider = uuid4(), uuid4(), uuid4()
    connection = Connection.request(a, b)
    with pytest.raises(NotAParty):
        connection.accept(a)
    with pytest.raises(NotAParty):
        connection.decline(outsider)
    connection.decline(b)
    assert connection.status == "declined"
    with pytest.raises(InvalidState):
        connection.accept(b)


def test_a_new_request_is_allowed_after_decline_or_removal_but_not_while_active() -> None:
    a, b = uuid4(), uuid4()
    connection = Connection.request(a, b)
    with pytest.raises(ConnectionExists):
        connection.request_again(b)
    connection.accept(b)
    with pytest.raises(ConnectionExists):
        connection.request_again(a)
    connection.remove(a)
    assert connection.status == "removed"
    connection.request_again(b)
    assert (connection.status, connection.requester_id, connection.addressee_id) == ("pending", b, a)


def test_removal_is_for_parties_and_removing_twice_changes_nothing() -> None:
    a, b = uuid4(), uuid4()
    connection = Connection.request(a, b)
    with pytest.raises(NotAParty):
        connection.remove(uuid4())
    connection.remove(b)
    connection.collect_events()
    connection.remove(a)
    assert connection.collect_events() == []


def test_nobody_connects_with_themselves() -> None:
    me = uuid4()
    with pytest.raises(InvalidInput):
        Connection.request(me, me)


def test_replaying_the_events_gives_the_same_state() -> None:
    a, b = uuid4(), uuid4()
    connection = Connection.request(a, b)
    connection.accept(b)
    connection.remove(a)
    connection.request_again(a)
    copy = None
    for event in connection.collect_events():
        copy = event.mutate(copy)
    assert copy is not None
    assert (copy.status, copy.requester_id, copy.version) == ("pending", a, 4)
