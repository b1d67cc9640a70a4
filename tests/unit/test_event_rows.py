"""Messages and receipts read straight from the stored JSON give the same rows as through the mapper."""

import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from eventsourcing.persistence import Notification
from eventsourcing.utils import clear_topic_cache, get_topic, register_topic
from hypothesis import given, settings
from hypothesis import strategies as st

from application.commands import Parley
from domain.conversations import Conversation
from projections.event_rows import DIRECT_READERS, EventRows, MessageRow, ReceiptRow, message_row, topics_of

ENV = {"PERSISTENCE_MODULE": "eventsourcing.popo", "TRANSCODER_TOPIC": "infrastructure.transcoder:OrjsonTranscoder"}


def stored(app: Parley, event: object, topic: str | None = None) -> Notification:
    s = app.mapper.to_stored_event(event)  # type: ignore[arg-type]
    return Notification(
        id=1,
        originator_id=s.originator_id,
        originator_version=s.originator_version,
        topic=topic or s.topic,
        state=s.state,
    )


def both_ways(app: Parley, event: object) -> tuple[object, object]:
    """(read straight from the JSON, read through the mapper) for the same stored event."""
    notification = stored(app, event)
    direct = EventRows(app.mapper)(notification)
    through_mapper = EventRows(app.mapper)
    through_mapper.direct = {}
    return direct, through_mapper(notification)


moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)  # includes whole seconds, which isoformat() writes without microseconds


@settings(max_examples=200, deadline=None)
@given(
    body=st.text(min_size=1, max_size=50),
    seq=st.integers(1, 2**53),
    at=moments,
    reply=st.booleans(),
    mentioned=st.integers(0, 3),
)
def test_a_message_reads_the_same_both_ways(body: str, seq: int, at: datetime, reply: bool, mentioned: int) -> None:
    app = Parley(env=ENV)
    event = Conversation.MessageSent(
        originator_id=uuid4(),
        originator_version=seq + 1,
        timestamp=at,
        message_id=uuid4(),
        seq=seq,
        sender_id=uuid4(),
        body=body,
        client_message_id=uuid4(),
        reply_to=uuid4() if reply else None,
        mentions=[uuid4() for _ in range(mentioned)],
    )
    direct, through_mapper = both_ways(app, event)
    assert type(direct) is MessageRow and direct == through_mapper == message_row(event)
    assert direct.sent_at.endswith("+00:00") and len(direct.sent_at) == 32
    assert direct.reply_to == (str(event.reply_to) if reply else None)
    assert direct.mentions == " ".join(str(u) for u in event.mentions)


def test_a_message_stored_before_replies_and_mentions_reads_through_its_upcaster() -> None:
    """A version 1 `MessageSent` (no reply_to, no mentions, no class_version) is not the direct reader's
    shape: the mapper upcasts it, and the row says: no reply, no mentions."""
    app = Parley(env=ENV)
    event = Conversation.MessageSent(
        originator_id=uuid4(),
        originator_version=2,
        timestamp=datetime.now(UTC),
        message_id=uuid4(),
        seq=1,
        sender_id=uuid4(),
        body="written by version 1",
        client_message_id=uuid4(),
        reply_to=None,
        mentions=[],
    )
    current = stored(app, event)
    state = json.loads(current.state)
    assert state.pop("class_version") == 2
    del state["reply_to"], state["mentions"]
    old = Notification(**{**current.__dict__, "state": json.dumps(state).encode()})
    row = EventRows(app.mapper)(old)
    assert row == message_row(event)
    assert row.reply_to is None and row.mentions == ""


@pytest.mark.parametrize("kind", [Conversation.MessagesDelivered, Conversation.MessagesRead])
def test_a_receipt_reads_the_same_both_ways(kind: type) -> None:
    app = Parley(env=ENV)
    for at in (datetime.now(UTC), datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)):
        event = kind(originator_id=uuid4(), originator_version=9, timestamp=at, user_id=uuid4(), up_to_seq=7)
        direct, through_mapper = both_ways(app, event)
        assert type(direct) is ReceiptRow and direct == through_mapper
        assert direct.read is (kind is Conversation.MessagesRead)


def test_a_state_in_another_shape_goes_through_the_mapper() -> None:
    app = Parley(env=ENV)
    event = Conversation.MessagesRead(
        originator_id=uuid4(), originator_version=3, timestamp=datetime.now(UTC), user_id=uuid4(), up_to_seq=2
    )
    notification = stored(app, event)
    expected = both_ways(app, event)[1]
    rows = EventRows(app.mapper)
    calls: list[Notification] = []
    real = app.mapper.to_domain_event
    app.mapper.to_domain_event = lambda n: calls.append(n) or real(n)  # type: ignore[method-assign]
    assert rows(notification) == expected and calls == []  # read directly
    for odd in (b'"up_to_seq":2,"class_version":2', b'"up_to_seq":"2"', b'"up_to_sequence":2'):
        changed = Notification(**{**notification.__dict__, "state": notification.state.replace(b'"up_to_seq":2', odd)})
        try:
            rows(changed)
        except Exception:
            pass  # the mapper's own verdict on a state it cannot build an event from
        assert calls[-1] is changed  # never guessed at: handed to the mapper


def test_every_direct_reader_knows_its_class_current_shape() -> None:
    for cls, (version, _) in DIRECT_READERS.items():
        assert version == getattr(cls, "class_version", 1), f"update the reader of {cls.__qualname__}"


def test_topics_include_those_registered_for_a_moved_class() -> None:
    old = "domain.chat:Conversation.MessageSent"
    register_topic(old, Conversation.MessageSent)
    try:
        assert {old, get_topic(Conversation.MessageSent)} <= set(topics_of([Conversation.MessageSent]))
    finally:
        clear_topic_cache()
