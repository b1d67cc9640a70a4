"""Mentions: which members a message body names, as the server decides it (contract v2 section 6).

`@username` (case-insensitive) where `@` starts the body or follows whitespace or punctuation; the
name is the run of `a-z 0-9 _ . -` after it or, if that names no member, the run less its trailing
`.` and `-`. It mentions a current member other than the sender; in a group `@all` mentions every
other current member. The result: their ids, deduplicated, in order of first appearance.
"""

import re
import unicodedata
from collections.abc import Mapping
from uuid import UUID

NAME_RUN = re.compile(r"[A-Za-z0-9_.\-]+")
EVERYONE = "all"


def _starts_mention(body: str, at: int) -> bool:
    if at == 0:
        return True
    before = body[at - 1]
    return before.isspace() or unicodedata.category(before).startswith("P")


def mentions_in(body: str, sender_id: UUID, members: Mapping[str, UUID], is_group: bool) -> list[UUID]:
    """`members`: each current member's (lower-case) username -> id."""
    if "@" not in body:
        return []
    found: dict[UUID, None] = {}
    for at, char in enumerate(body):
        if char != "@" or not _starts_mention(body, at):
            continue
        run = NAME_RUN.match(body, at + 1)
        if run is None:
            continue
        name = run.group().lower()
        for candidate in dict.fromkeys((name, name.rstrip(".-"))):
            if is_group and candidate == EVERYONE:
                found.update(dict.fromkeys(m for m in members.values() if m != sender_id))
                break
            if candidate in members:
                if members[candidate] != sender_id:
                    found[members[candidate]] = None
                break
    return list(found)
