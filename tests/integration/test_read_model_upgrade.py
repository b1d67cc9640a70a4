"""Read models built by an earlier release (before message edits and reactions, groups' membership
periods, attachments and search) are rebuilt from the events when a server of this release starts on
them, beside the live ones and swapped in: every new read model then holds what the log says (members
see their history, search finds what was sent before), and from then on they equal a rebuild."""

from collections.abc import Callable
from uuid import uuid4

from interfaces.bootstrap import Container
from projections.tables import LIVE_PREFIX, outdated
from projections.verify import verify

EARLIER_LACKED = (
    ("messages", "reply_to"),
    ("messages", "mentions"),
    ("messages", "edited_at"),
    ("messages", "deleted"),
    ("members", "mention_count"),
    ("members", "role"),
)


def test_read_models_of_an_earlier_release_are_rebuilt_at_start(make_container: Callable[[], Container]) -> None:
    before = make_container()
    app = before.app
    alice = app.register_user("alice", "password").id
    bob = app.register_user("bob", "password").id
    app.accept_connection(app.request_connection(alice, "bob").id, bob)
    conversation = app.start_conversation(alice, [bob], None).id
    old = [app.send_message(conversation, alice, uuid4(), f"before the upgrade {n}") for n in range(3)]
    before.projector.catch_up()
    with before.db.transaction(commit=True) as cur:  # as the release before issue 15 left them
        for table, column in EARLIER_LACKED:
            cur.execute(f"ALTER TABLE {LIVE_PREFIX}{table} DROP COLUMN {column}")
        for table in ("message_edits", "reactions", "member_periods", "blocks", "attachments", "search"):
            cur.execute(f"DROP TABLE {LIVE_PREFIX}{table}")
    assert outdated(before.db, LIVE_PREFIX)
    before.close()

    after = make_container()  # a server of this release starting on them
    assert after.projector.outdated
    after.bring_read_models_up_to_date()
    assert not outdated(after.db, LIVE_PREFIX) and not after.projector.outdated
    assert [m["body"] for m in after.queries.messages(conversation, bob, None, None, 10)[0]] == [
        f"before the upgrade {n}" for n in range(3)
    ]  # bob's membership period covers them: rebuilt from the events, not left empty
    assert next(r["message"]["body"] for r in after.queries.search(bob, "upgrade", None, 10, None)[0]).startswith(
        "before the upgrade"
    )
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
