from uuid import uuid4

import pytest

from domain.conversations import Conversation, direct_conversation_id
from domain.errors import InvalidInput, NotAMember
from domain.messages import message_id_for, normalize_body


def test_one_other_person_makes_a_direct_conversation_with_an_id_from_the_pair() -> None:
    a, b = uuid4(), uuid4()
    conversation = Conversation.start(a, [b, a, b], "ignored")
    assert conversation.kind == "direct" and conversation.title is None
    assert conversation.member_ids == [a, b]
    assert conversation.id == direct_conversation_id(b, a)


def test_two_or_more_others_make_a_group_with_its_title() -> None:
    a, b, c = uuid4(), uuid4(), uuid4()
    first = Conversation.start(a, [b, c], "  Weekend   plans ")
    second = Conversation.start(a, [b, c], None)
    assert (first.kind, first.title) == ("group", "Weekend plans")
    assert second.title is None and first.id != second.id
    with pytest.raises(InvalidInput):
        Conversation.start(a, [b, c], "x" * 101)


def test_a_conversation_needs_someone_else() -> None:
    me = uuid4()
    with pytest.raises(InvalidInput):
        Conversation.start(me, [me], None)


def test_members_send_with_gap_free_seq_and_outsiders_cannot() -> None:
    a, b = uuid4(), uuid4()
    conversation = Conversation.start(a, [b], None)
    seqs = [conversation.send(sender, uuid4(), "hi", uuid4()) for sender in (a, b, a)]
    assert seqs == [1, 2, 3]
    with pytest.raises(NotAMember):
        conversation.send(uuid4(), uuid4(), "let me in", uuid4())
    assert conversation.last_seq == 3


def test_message_ids_derive_from_sender_and_client_message_id() -> None:
    sender, client_message_id = uuid4(), uuid4()
    assert message_id_for(sender, client_message_id) == message_id_for(sender, client_message_id)
    assert message_id_for(uuid4(), client_message_id) != message_id_for(sender, client_message_id)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  hello  ", "hello"),
        ("e\u0301", "\u00e9"),
        ("a\r\nb\tc\x00d\x1b", "a\nb\tcd"),
        ("\x85x\x9f", "x"),
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
    ],
)
def test_bodies_are_normalised(raw: str, expected: str) -> None:
    assert normalize_body(raw, 4000) == expected


def test_empty_and_overlong_bodies_are_refused_counting_code_points_after_normalisation() -> None:
    for empty in ["", "   ", "\x00\x07\r", "\n\t "]:
        with pytest.raises(InvalidInput):
            normalize_body(empty, 4000)
    assert normalize_body("é" * 4000, 4000) == "é" * 4000
    assert normalize_body("e\u0301" * 4000, 4000) == "\u00e9" * 4000
    with pytest.raises(InvalidInput):
        normalize_body("x" * 4001, 4000)


def test_markers_move_forward_only_clamped_to_the_last_seq() -> None:
    a, b = uuid4(), uuid4()
    conversation = Conversation.start(a, [b], None)
    for _ in range(5):
        conversation.send(a, uuid4(), "hi", uuid4())
    conversation.collect_events()
    assert conversation.mark_delivered(b, 3) is True
    assert conversation.mark_delivered(b, 2) is False
    assert conversation.mark_delivered(b, 3) is False
    assert conversation.mark_read(b, 99) is True
    assert (conversation.read[str(b)], conversation.delivered[str(b)]) == (5, 5)  # clamped; reading implies delivery
    assert conversation.mark_read(b, 5) is False
    assert conversation.mark_delivered(b, 4) is False
    assert [type(e).__name__ for e in conversation.collect_events()] == ["MessagesDelivered", "MessagesRead"]


def test_an_empty_conversation_has_nothing_to_mark_and_outsiders_cannot_mark() -> None:
    a, b = uuid4(), uuid4()
    conversation = Conversation.start(a, [b], None)
    assert conversation.mark_read(b, 10) is False
    with pytest.raises(NotAMember):
        conversation.mark_delivered(uuid4(), 1)
