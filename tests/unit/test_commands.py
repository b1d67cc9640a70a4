"""The application's commands on the in-memory event store."""

from uuid import UUID, uuid4

import pytest

from application.commands import Parley
from domain.connections import Connection
from domain.conversations import Conversation
from domain.errors import (
    ConnectionExists,
    ConnectionNotFound,
    ConversationNotFound,
    InvalidCredentials,
    InvalidInput,
    NotAMember,
    NotConnected,
    UsernameTaken,
    UserNotFound,
)
from domain.users import User


def register(app: Parley, name: str) -> UUID:
    return app.register_user(name, "password-" + name).id


def connected(app: Parley, a: UUID, b_name: str, b: UUID) -> None:
    request = app.request_connection(a, b_name)
    app.accept_connection(request.id, b)


def test_registration_stores_a_hash_and_refuses_a_taken_name_in_any_case(app: Parley) -> None:
    user_id = register(app, "Alice")
    user = app.repository.get(user_id)
    assert isinstance(user, User)
    assert (user.username, user.display_name, user.password_hash) == ("alice", "alice", "plain$password-Alice")
    with pytest.raises(UsernameTaken):
        app.register_user("ALICE", "another password")
    with pytest.raises(InvalidInput):
        app.register_user("no", "password")


def test_a_password_change_needs_the_current_password_and_replaces_the_hash(app: Parley) -> None:
    user_id = register(app, "alice")
    with pytest.raises(InvalidCredentials):
        app.change_password(user_id, "not the password", "a new password")
    user = app.repository.get(user_id)
    assert isinstance(user, User) and user.password_hash == "plain$password-alice"  # a refusal changes nothing
    app.change_password(user_id, "password-alice", "a new password")
    user = app.repository.get(user_id)
    assert isinstance(user, User) and user.password_hash == "plain$a new password"
    with pytest.raises(UserNotFound):
        app.change_password(uuid4(), "password-alice", "a new password")


def test_a_command_reports_the_position_of_what_it_wrote(app: Parley) -> None:
    first = app.register_user("alice", "password")
    second = app.register_user("bobby", "password")
    assert first.position is not None and second.position is not None
    assert second.position > first.position == app.recorder.max_notification_id() - 2


def test_connection_requests_by_username(app: Parley) -> None:
    alice, bob = register(app, "alice"), register(app, "bob")
    request = app.request_connection(alice, "BOB")
    with pytest.raises(ConnectionExists):
        app.request_connection(bob, "alice")
    with pytest.raises(UserNotFound):
        app.request_connection(alice, "nobody")
    with pytest.raises(UserNotFound):
        app.request_connection(alice, "not a valid name!")
    with pytest.raises(InvalidInput):
        app.request_connection(alice, "alice")
    app.decline_connection(request.id, bob)
    again = app.request_connection(bob, "alice")
    assert again.id == request.id
    app.accept_connection(again.id, alice)
    with pytest.raises(ConnectionNotFound):
        app.accept_connection(uuid4(), alice)


def test_removing_an_ended_connection_writes_nothing(app: Parley) -> None:
    alice, bob = register(app, "alice"), register(app, "bob")
    request = app.request_connection(alice, "bob")
    assert app.remove_connection(request.id, bob).position is not None
    assert app.remove_connection(request.id, alice).position is None


def test_conversations_need_existing_connected_people(app: Parley) -> None:
    alice, bob, carol = register(app, "alice"), register(app, "bob"), register(app, "carol")
    connected(app, alice, "bob", bob)
    with pytest.raises(UserNotFound):  # an unknown user is reported before an unconnected one
        app.start_conversation(alice, [carol, uuid4()], None)
    with pytest.raises(NotConnected):
        app.start_conversation(alice, [bob, carol], None)
    with pytest.raises(InvalidInput):
        app.start_conversation(alice, [alice], None)
    direct = app.start_conversation(alice, [bob], None)
    assert app.start_conversation(bob, [alice], None).id == direct.id
    connected(app, alice, "carol", carol)
    group = app.start_conversation(alice, [bob, carol], "Trio")
    conversation = app.repository.get(group.id)
    assert isinstance(conversation, Conversation)
    assert (conversation.kind, conversation.title, set(conversation.member_ids)) == (
        "group",
        "Trio",
        {alice, bob, carol},
    )


def test_sends_number_messages_and_a_retry_returns_the_original(app: Parley) -> None:
    alice, bob = register(app, "alice"), register(app, "bob")
    connected(app, alice, "bob", bob)
    conversation = app.start_conversation(alice, [bob], None).id
    key = uuid4()
    first = app.send_message(conversation, alice, key, "  hello ")
    second = app.send_message(conversation, bob, uuid4(), "hi")
    retry = app.send_message(conversation, alice, key, "hello again")
    assert (first.seq, first.body, first.is_retry) == (1, "hello", False)
    assert second.seq == 2
    assert retry.is_retry and (retry.message_id, retry.seq) == (first.message_id, 1)
    events = app.repository.get(conversation).version
    assert events == 3  # started + two messages: the retry wrote nothing


def test_sending_rules(app: Parley) -> None:
    alice, bob, eve = register(app, "alice"), register(app, "bob"), register(app, "eve")
    connected(app, alice, "bob", bob)
    conversation = app.start_conversation(alice, [bob], None).id
    with pytest.raises(NotAMember):
        app.send_message(conversation, eve, uuid4(), "hello")
    with pytest.raises(ConversationNotFound):
        app.send_message(uuid4(), alice, uuid4(), "hello")
    with pytest.raises(InvalidInput):
        app.send_message(conversation, alice, uuid4(), " \x00 ")
    app.remove_connection(Connection.create_id(alice, bob), bob)
    with pytest.raises(NotConnected):
        app.send_message(conversation, alice, uuid4(), "are you there?")
