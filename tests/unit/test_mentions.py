"""Mentions as contract v2 section 6 defines them, and what a reaction may be."""

from uuid import uuid4

import pytest

from domain.errors import InvalidInput
from domain.mentions import mentions_in
from domain.reactions import check_emoji

ALICE, BOB, CAROL, DOTS = uuid4(), uuid4(), uuid4(), uuid4()
MEMBERS = {"alice": ALICE, "bob": BOB, "carol": CAROL, "d.o.t-": DOTS}


@pytest.mark.parametrize(
    ("body", "group", "expected"),
    [
        ("hi @bob", False, [BOB]),
        ("@BOB and @Carol", True, [BOB, CAROL]),
        ("@carol @bob @carol", True, [CAROL, BOB]),  # deduplicated, in order of first appearance
        ("(@bob), [@carol]!", True, [BOB, CAROL]),  # after punctuation
        ("mail bob@example.com", True, []),  # not after a letter
        ("@alice is me", True, []),  # never the sender
        ("@nobody", True, []),
        ("@all hands", True, [BOB, CAROL, DOTS]),  # every other member of a group
        ("@all in a direct conversation", False, []),
        ("hello @bob.", True, [BOB]),  # the run less its trailing . and -
        ("@d.o.t- is a name", True, [DOTS]),  # the whole run names a member first
        ("@bobby", True, []),  # a whole name, not a prefix
        ("line\n@carol", True, [CAROL]),
    ],
)
def test_mentions(body: str, group: bool, expected: list[object]) -> None:
    assert mentions_in(body, ALICE, MEMBERS, group) == expected


@pytest.mark.parametrize("emoji", ["👍", "👍🏽", "👩🏽‍💻", "❤️", "🏳️‍🌈", "🇫🇷", "1️⃣", "🫱🏻‍🫲🏿"])
def test_fully_qualified_emoji_are_reactions(emoji: str) -> None:
    assert check_emoji(emoji) == emoji


@pytest.mark.parametrize("text", ["", "a", "👍👍", "❤", "👍 ", ":thumbsup:", "\u200d", "🏻"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        check_emoji(text)
