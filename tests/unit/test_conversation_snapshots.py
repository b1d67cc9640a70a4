"""A Conversation snapshot round-trips its message state (deleted ids, reactions), and a snapshot taken
before that state existed (class_version 1) is read through the aggregate's upcaster: no deletions, no
reactions, and the conversation goes on from there."""

import dataclasses
from uuid import uuid4

from eventsourcing.domain import Snapshot

from application.commands import Parley
from tests.support.fakes import PlainPasswords

ENV = {
    "PERSISTENCE_MODULE": "eventsourcing.popo",
    "TRANSCODER_TOPIC": "infrastructure.transcoder:OrjsonTranscoder",
    "IS_SNAPSHOTTING_ENABLED": "y",
}


def chat() -> tuple[Parley, object, object, object]:
    app = Parley(env=ENV)
    app.passwords = PlainPasswords()
    alice, bob = app.register_user("alice", "password").id, app.register_user("bob", "password").id
    app.accept_connection(app.request_connection(alice, "bob").id, bob)
    return app, alice, bob, app.start_conversation(alice, [bob], None).id


def test_a_snapshot_keeps_deletions_and_reactions() -> None:
    app, alice, bob, conversation = chat()
    kept = app.send_message(conversation, alice, uuid4(), "kept")  # type: ignore[arg-type]
    gone = app.send_message(conversation, alice, uuid4(), "gone")  # type: ignore[arg-type]
    app.react(conversation, bob, kept.message_id, "👍", True)  # type: ignore[arg-type]
    app.delete_message(conversation, alice, gone.message_id)  # type: ignore[arg-type]
    app.take_snapshot(conversation)  # type: ignore[arg-type]
    app.repository.cache = None
    loaded = app.repository.get(conversation)  # type: ignore[arg-type]
    assert loaded.reactions == {str(kept.message_id): {"👍": [str(bob)]}}
    assert loaded.deleted == {str(gone.message_id): True}


def test_a_snapshot_from_before_message_state_reads_as_none_of_it() -> None:
    app, alice, bob, conversation = chat()
    first = app.send_message(conversation, alice, uuid4(), "before the upgrade")  # type: ignore[arg-type]
    taken = Snapshot.take(app.repository.get(conversation))  # type: ignore[arg-type]
    state = {k: v for k, v in taken.state.items() if k not in ("deleted", "reactions", "class_version")}
    app.snapshots.put([dataclasses.replace(taken, state=state)])  # as version 1 took it
    app.repository.cache = None
    loaded = app.repository.get(conversation)  # type: ignore[arg-type]
    assert (loaded.deleted, loaded.reactions, loaded.last_seq) == ({}, {}, 1)
    assert app.react(conversation, bob, first.message_id, "🎉", True).changed  # type: ignore[arg-type]


def test_a_snapshot_keeps_the_members_markers() -> None:
    """Markers were keyed by UUID, which JSON cannot hold: a conversation with receipts took no snapshot
    (its loads replayed every event). Now its snapshot is stored and read back with the markers."""
    app, alice, bob, conversation = chat()
    for n in range(3):
        app.send_message(conversation, alice, uuid4(), f"message {n}")  # type: ignore[arg-type]
    app.mark_delivered(conversation, bob, 3)  # type: ignore[arg-type]
    app.mark_read(conversation, bob, 2)  # type: ignore[arg-type]
    app.take_snapshot(conversation)  # type: ignore[arg-type]
    stored = list(app.snapshots.get(conversation))  # type: ignore[arg-type, union-attr]
    assert stored, "the snapshot was stored"
    app.repository.cache = None
    loaded = app.repository.get(conversation)  # type: ignore[arg-type]
    assert (loaded.delivered[str(bob)], loaded.read[str(bob)]) == (3, 2)
    assert not app.mark_read(conversation, bob, 2).position  # type: ignore[arg-type]  # not moved: nothing written
    assert app.mark_read(conversation, bob, 3).position  # type: ignore[arg-type]
