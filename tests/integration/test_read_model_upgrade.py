"""Read models built by the release before message edits, deletion, replies, reactions and mentions are
upgraded in place when a server of this release starts on them: the columns they lack are added with
the values that hold for every row written before (no reply, no mentions, not edited, not deleted), the
new tables created, and from then on they equal a rebuild."""

from collections.abc import Callable
from uuid import uuid4

from interfaces.bootstrap import Container
from projections.tables import ADDED_COLUMNS, LIVE_PREFIX, missing_columns
from projections.verify import verify


def test_read_models_of_the_earlier_release_are_upgraded_in_place(make_container: Callable[[], Container]) -> None:
    before = make_container()
    app = before.app
    alice = app.register_user("alice", "password").id
    bob = app.register_user("bob", "password").id
    app.accept_connection(app.request_connection(alice, "bob").id, bob)
    conversation = app.start_conversation(alice, [bob], None).id
    old = [app.send_message(conversation, alice, uuid4(), f"before the upgrade {n}") for n in range(3)]
    before.projector.catch_up()
    with before.db.transaction(commit=True) as cur:  # as the earlier release left them
        for table, column, _ in ADDED_COLUMNS:
            cur.execute(f"ALTER TABLE {LIVE_PREFIX}{table} DROP COLUMN {column}")
        cur.execute(f"DROP TABLE {LIVE_PREFIX}message_edits")
        cur.execute(f"DROP TABLE {LIVE_PREFIX}reactions")
    assert len(missing_columns(before.db, LIVE_PREFIX)) == len(ADDED_COLUMNS)
    before.close()

    after = make_container()  # a server of this release starting on them
    assert missing_columns(after.db, LIVE_PREFIX) == []
    app = after.app
    app.edit_message(conversation, alice, old[0].message_id, "edited @bob")
    app.react(conversation, bob, old[1].message_id, "👍", True)
    app.delete_message(conversation, alice, old[2].message_id)
    app.send_message(conversation, bob, uuid4(), "after, to @alice", old[0].message_id)
    after.projector.catch_up()
    messages, _ = after.queries.messages(conversation, alice, None, None, 10)
    assert [(m["body"], m["deleted"], m["mentions"]) for m in messages] == [
        ("edited @bob", False, [str(bob)]),
        ("before the upgrade 1", False, []),
        ("", True, []),
        ("after, to @alice", False, [str(alice)]),
    ]
    assert messages[1]["reactions"] == [{"emoji": "👍", "user_ids": [str(bob)]}]
    assert messages[3]["reply_to"] is not None and messages[3]["reply_to"]["body"] == "edited @bob"
    summary = after.queries.conversation(conversation, bob)
    assert (summary["unread_count"], summary["mention_count"]) == (2, 1)
    assert verify(app, after.db).differences == []
