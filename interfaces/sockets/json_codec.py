"""The `json` module python-socketio encodes packets with: orjson (an emit's encoding is about 15x
faster), and the standard module for what orjson refuses (a lone surrogate escape, which the payload
models then refuse with an error ack; non-string keys), so nothing that worked before fails now."""

import json
from typing import Any

import orjson
from socketio import packet


class OrjsonJson:
    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        try:
            return orjson.dumps(obj).decode()
        except TypeError:
            return json.dumps(obj, **kwargs)

    @staticmethod
    def loads(text: str | bytes, **kwargs: Any) -> Any:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return json.loads(text, **kwargs)


class JsonPacket(packet.Packet):  # type: ignore[misc]  # (python-socketio is untyped)
    """Socket.IO packets of JSON only: everything this server sends is a contract shape (no bytes), so
    the library's search of every outgoing payload for binary parts, at each packet's construction, is
    skipped (it was 9% of the server's time at 200 pairs: one recursive walk per emit and per ack).
    Incoming packets are decoded as before, binary ones included."""

    uses_binary_events = False
