"""Reactions: what may be a reaction (one fully-qualified emoji) and how many a message may carry.

The judge is Unicode's emoji-test.txt as the `emoji` package ships it (its data keeps each sequence's
qualification status): every fully-qualified emoji, ZWJ sequences and skin tones included, and
nothing else (no text, no unqualified or minimally-qualified forms, no two emoji).
"""

import emoji

from domain.errors import InvalidInput

MAX_DISTINCT_REACTIONS = 20
_FULLY_QUALIFIED = emoji.STATUS["fully_qualified"]


def check_emoji(text: str) -> str:
    data = emoji.EMOJI_DATA.get(text)
    if data is None or data.get("status") != _FULLY_QUALIFIED:
        raise InvalidInput("A reaction is exactly one fully-qualified emoji.")
    return text
