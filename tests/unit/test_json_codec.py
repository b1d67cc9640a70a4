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
