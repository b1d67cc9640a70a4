"""Bytes nobody needs leave the blob store: an upload left unattached for 24 hours is swept, an
attached one stays until its message is deleted; two uploads of the same bytes share them safely."""

import uuid
from datetime import UTC, datetime, timedelta

from interfaces.bootstrap import Container


def test_the_sweep_removes_unattached_uploads_after_a_day_and_nothing_still_needed(container: Container) -> None:
    container.start()
    app, blobs = container.app, container.blobs
    alice = app.register_user("alice", "password-alice").id
    bob = app.register_user("bob", "password-bob").id
    app.accept_connection(app.request_connection(alice, "bob").id, bob)
    conversation = app.start_conversation(alice, [bob], None).id

    kept, left, shared = blobs.put(b"attached bytes"), blobs.put(b"forgotten bytes"), blobs.put(b"twice")
    attached = app.store_upload(alice, "a.txt", "text/plain", 14, kept, None, None, None)
    app.store_upload(alice, "f.txt", "text/plain", 15, left, None, None, None)
    app.store_upload(alice, "t1.txt", "text/plain", 5, shared, None, None, None)  # never attached
    twice = app.store_upload(bob, "t2.txt", "text/plain", 5, shared, None, None, None)
    sent = app.send_message(conversation, alice, uuid.uuid4(), "", None, (attached.id,))
    app.send_message(conversation, bob, uuid.uuid4(), "same", None, (twice.id,))
    assert container.projector.wait(container.projector.head(), 10)

    assert container.collector.sweep() == 0, "everything is still needed today"
    tomorrow = datetime.now(UTC) + timedelta(hours=25)
    assert container.collector.sweep(now=tomorrow) == 1
    assert blobs.read(left) is None, "unattached for a day: swept"
    assert blobs.read(kept) == b"attached bytes" and blobs.read(shared) == b"twice"

    app.delete_message(conversation, alice, sent.message_id)
    assert container.projector.wait(container.projector.head(), 10)
    assert container.collector.collect([kept, shared]) == 1
    assert blobs.read(kept) is None and blobs.read(shared) == b"twice", "bob's message still shows it"
