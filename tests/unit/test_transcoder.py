"""The orjson transcoder reads exactly what the library's JSON transcoder wrote."""

from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from infrastructure.transcoder import OrjsonTranscoder


def transcoders() -> tuple[JSONTranscoder, OrjsonTranscoder]:
    app = Application()
    library, ours = JSONTranscoder(), OrjsonTranscoder()
    app.register_transcodings(library)
    app.register_transcodings(ours)
    return library, ours


def test_decodes_custom_types_nested_in_dicts_and_lists_as_the_library_does() -> None:
    library, ours = transcoders()
    state = {
        "timestamp": datetime(2026, 11, 25, 16, 45, 1, 123456, tzinfo=UTC),
        "member_ids": [uuid4(), uuid4()],
        "nested": {"who": uuid4(), "amounts": [Decimal("1.10"), {"at": datetime.now(UTC)}]},
        "title": "caf\u00e9 \U0001f600",
        "seq": 2**62,
        "none": None,
    }
    encoded = library.encode(state)
    decoded = ours.decode(encoded)
    assert decoded == library.decode(encoded) == state
    assert type(decoded["member_ids"][0]).__name__ == "UUID"


def test_what_orjson_refuses_falls_back_to_the_library() -> None:
    library, ours = transcoders()
    for state in ({"big": 2**80}, {"nan": float("inf")}):
        encoded = library.encode(state)
        assert ours.decode(encoded) == library.decode(encoded) == state
