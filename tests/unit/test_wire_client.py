"""The benchmark's wire client speaks Socket.IO v5 over Engine.IO v4 as python-socketio does."""

import json

import pytest
from socketio import packet

from benchmarks.wire_client import decode, encode_connect, encode_event


def test_an_event_with_an_ack_id_is_what_python_socketio_encodes() -> None:
    ours = encode_event("send_message", {"conversation_id": "c", "body": 'hé "x"'}, ack_id=12)
    theirs = (
        "4"
        + packet.Packet(packet.EVENT, data=["send_message", {"conversation_id": "c", "body": 'hé "x"'}], id=12).encode()
    )
    assert json.loads(ours[4:]) == json.loads(theirs[4:])
    assert ours[:4] == theirs[:4] == "4212"


def test_an_event_without_data_or_ack() -> None:
    assert encode_event("get_conversations", None) == '42["get_conversations"]'


def test_connect_carries_the_auth_object() -> None:
    assert encode_connect({"token": "abc"}) == '40{"token":"abc"}'
    assert encode_connect() == "40"


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ('4312[{"ok":true}]', ("4", "3", 12, [{"ok": True}])),
        ('42["message_new",{"seq":3}]', ("4", "2", None, ["message_new", {"seq": 3}])),
        ('40{"sid":"abc"}', ("4", "0", None, {"sid": "abc"})),
        (
            '44{"message":"no","data":{"code":"unauthorized"}}',
            ("4", "4", None, {"message": "no", "data": {"code": "unauthorized"}}),
        ),
        ("41", ("4", "1", None, None)),
        ("2", ("2", None, None, "")),
        ('0{"sid":"x","pingInterval":20000}', ("0", None, None, {"sid": "x", "pingInterval": 20000})),
        ('42/admin,7["x"]', ("4", "2", 7, ["x"])),
    ],
)
def test_decode(frame: str, expected: tuple[object, ...]) -> None:
    assert decode(frame) == expected


def test_decode_what_python_socketio_encodes_for_an_ack() -> None:
    frame = "4" + packet.Packet(packet.ACK, data=[{"ok": True, "message": {"seq": 1}}], id=99).encode()
    assert decode(frame) == ("4", "3", 99, [{"ok": True, "message": {"seq": 1}}])
