"""Time travel shows a message as it was then: before an edit, between edits, before its deletion; the
live read models, rebuilt, agree with it now."""

from uuid import uuid4

from interfaces.bootstrap import Container
from projections.history import conversation_at


def test_time_travel_shows_each_message_as_it_was_before_edits_and_deletion(container: Container) -> None:
    app = container.app
    alice = app.register_user("alice", "password").id
    bob = app.register_user("bob", "password").id
    app.accept_connection(app.request_connection(alice, "bob").id, bob)
    conversation = app.start_conversation(alice, [bob], None).id
    first = app.send_message(conversation, alice, uuid4(), "helo @bob")
    quoting = app.send_message(conversation, bob, uuid4(), "what?", first.message_id)
    app.react(conversation, bob, first.message_id, "👍", True)
    sent = app.recorder.max_notification_id()
    app.edit_message(conversation, alice, first.message_id, "hello")
    edited = app.recorder.max_notification_id()
    app.delete_message(conversation, alice, first.message_id)
    deleted = app.recorder.max_notification_id()

    def seen(position: int | None) -> list[tuple[str, str, bool, object]]:
        travelled = conversation_at(app, container.positions, conversation, position)
        return [(m["body"], m["edited_at"] is not None, m["deleted"], m["mentions"]) for m in travelled["messages"]]

    assert seen(sent)[0] == ("helo @bob", False, False, [str(bob)])
    assert seen(edited)[0] == ("hello", True, False, [])
    assert seen(deleted)[0] == ("", False, True, [])
    then = conversation_at(app, container.positions, conversation, sent)
    assert then["messages"][0]["reactions"] == [{"emoji": "👍", "user_ids": [str(bob)]}]
    assert then["messages"][1]["reply_to"] == {
        "id": str(first.message_id),
        "seq": 1,
        "sender_id": str(alice),
        "body": "helo @bob",
        "deleted": False,
    }
    bobs = next(m for m in then["members"] if m["user"]["id"] == str(bob))
    assert (bobs["unread_count"], bobs["mention_count"]) == (1, 1)
    now = conversation_at(app, container.positions, conversation, None)
    assert now["messages"][1]["reply_to"]["deleted"] is True and now["messages"][0]["reactions"] == []
    bobs = next(m for m in now["members"] if m["user"]["id"] == str(bob))
    assert (bobs["unread_count"], bobs["mention_count"]) == (0, 0)
    assert quoting.reply_to == first.message_id

    container.projector.catch_up()
    with container.db.transaction(commit=False) as cur:
        live = container.queries.reads.messages(cur, str(conversation), None, None, 10)[0]
    assert [(m["body"], m["deleted"]) for m in live] == [(m["body"], m["deleted"]) for m in now["messages"]]
