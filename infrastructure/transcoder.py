"""The event store's transcoder: the library's JSON format, decoded with orjson.

Stored events stay byte-for-byte what `eventsourcing`'s JSONTranscoder writes (it still encodes), so
every existing store reads as before; only decoding, the larger part of reading the log, is done by
orjson and then handed the library's own hook for custom types (`{"_type_": ..., "_data_": ...}`),
innermost first, as `json`'s object_hook would be. Anything orjson refuses (NaN, integers beyond 64
bits) falls back to the library's decoder.
"""

from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder


class OrjsonTranscoder(JSONTranscoder):
    def decode(self, data: bytes) -> Any:
        try:
            decoded = orjson.loads(data)
        except orjson.JSONDecodeError:
            return super().decode(data)
        return self._revive(decoded)

    def _revive(self, value: Any) -> Any:
        if type(value) is dict:
            for key, item in value.items():
                if type(item) is dict or type(item) is list:
                    value[key] = self._revive(item)
            return self._decode_obj(value)
        if type(value) is list:
            return [self._revive(item) if type(item) is dict or type(item) is list else item for item in value]
        return value
