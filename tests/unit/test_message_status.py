"""The contract's status rule: read once every other member read it, delivered once every other got it."""

from projections.shapes import message_status


def member(user_id: str, delivered: int, read: int) -> dict[str, object]:
    return {"user_id": user_id, "last_delivered_seq": delivered, "last_read_seq": read}


def test_direct_conversation_status_follows_the_other_member() -> None:
    members = [member("alice", 0, 0), member("bob", 4, 2)]
    assert message_status("alice", 2, members) == "read"
    assert message_status("alice", 3, members) == "delivered"
    assert message_status("alice", 5, members) == "sent"


def test_the_senders_own_markers_do_not_count() -> None:
    members = [member("alice", 0, 0), member("bob", 9, 9)]
    assert message_status("alice", 5, members) == "read"
    assert message_status("bob", 5, members) == "sent"


def test_group_status_waits_for_the_slowest_other_member() -> None:
    members = [member("alice", 0, 0), member("bob", 5, 5), member("carol", 5, 1)]
    assert message_status("alice", 1, members) == "read"
    assert message_status("alice", 3, members) == "delivered"
    members.append(member("dave", 2, 0))
    assert message_status("alice", 3, members) == "sent"
