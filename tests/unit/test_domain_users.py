import pytest

from domain.errors import InvalidInput
from domain.users import Username, normalize_display_name, normalize_username


@pytest.mark.parametrize("raw, expected", [("Alice", "alice"), (" bob.smith_1-x ", "bob.smith_1-x"), ("abc", "abc")])
def test_usernames_are_stored_lower_case(raw: str, expected: str) -> None:
    assert normalize_username(raw) == expected


@pytest.mark.parametrize("raw", ["ab", "a" * 33, "al ice", "alice!", "ålice", ""])
def test_usernames_outside_the_pattern_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_username(raw)


def test_the_username_index_id_ignores_case() -> None:
    assert Username.create_id("Alice") == Username.create_id("alice")
    assert Username.create_id("alice") != Username.create_id("alicia")


def test_display_names_default_to_the_username_and_are_cleaned() -> None:
    assert normalize_display_name(None, "alice") == "alice"
    assert normalize_display_name("  \x07 ", "alice") == "alice"
    assert normalize_display_name(" Alice \n Liddell ", "alice") == "Alice Liddell"
    with pytest.raises(InvalidInput):
        normalize_display_name("x" * 65, "alice")
