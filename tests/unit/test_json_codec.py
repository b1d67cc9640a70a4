"""Socket.IO packets encode with orjson, and what orjson refuses still encodes as before."""

import json

from interfaces.sockets.json_codec import OrjsonJson


def test_encodes_and_decodes_like_the_standard_module() -> None:
    payload = {"conversation_id": "c", "body": "caf\u00e9 \U0001f600", "seq": 2**53, "ok": True, "none": None}
    assert json.loads(OrjsonJson.dumps(payload)) == payload
    assert OrjsonJson.loads(json.dumps(payload)) == payload


def test_what_orjson_refuses_goes_to_the_standard_module() -> None:
    lone_surrogate = '["send_message", {"body": "\\ud800"}]'
    assert OrjsonJson.loads(lone_surrogate) == json.loads(lone_surrogate)
    assert json.loads(OrjsonJson.dumps({1: "non-string key"})) == {"1": "non-string key"}


def test_json_packets_encode_as_the_librarys_and_still_decode_binary_events_from_clients() -> None:
    from socketio import packet

    from interfaces.sockets.json_codec import JsonPacket

    payload = ["message_new", {"id": "x", "body": "héllo", "mentions": [], "reply_to": None}]
    ours = JsonPacket(packet.EVENT, data=payload, namespace="/").encode()
    assert ours.startswith("2") and json.loads(ours[1:]) == payload  # a plain EVENT, never BINARY_EVENT
    incoming = JsonPacket(encoded_packet='51-["upload",{"_placeholder":true,"num":0}]')
    assert incoming.packet_type == packet.BINARY_EVENT and incoming.attachment_count == 1
