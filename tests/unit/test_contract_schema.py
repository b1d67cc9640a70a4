"""The JSON Schema the web client's types are generated from is the one the contract declares now."""

from interfaces.contract_schema import TARGET, rendered


def test_the_committed_schema_is_what_the_contract_declares() -> None:
    assert TARGET.read_text() == rendered(), "run: python -m interfaces.contract_schema"
