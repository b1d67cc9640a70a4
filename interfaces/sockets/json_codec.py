"""The `json` module python-socketio encodes packets with: orjson (an emit's encoding is about 15x
faster), and the standard module for what orjson refuses (a lone surrogate escape, which the payload
models then refuse with an error ack; non-string keys), so nothing that worked before fails now."""

import json
from typing import Any

import orjson


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
