"""Message search (contract section 10): what a query means, whatever the engine.

A query is words and quoted phrases. Words are runs of letters and digits (`\\w`), compared case- and
accent-insensitively; everything else (operators, punctuation, a stray quote) only separates words, so
no input can reach an engine's query syntax. Every word must match a whole word; the last one, unless
quoted, also as a prefix; a phrase its words in order, adjacent. The engines (the `SearchIndex` port:
infrastructure/search_sqlite.py, FTS5; infrastructure/search_postgres.py, tsvector + GIN) find the
ids, newest first; highlights are computed here, on the text, the same way for both."""

import base64
import re
import unicodedata
from dataclasses import dataclass

from domain.errors import InvalidInput
from projections.ports import SqlCursor

MAX_QUERY_CHARS = 200
SCOPE_CONVERSATIONS = 1000  # a caller in at most this many conversations has the match scoped to them
WORD = re.compile(r"\w+")
PHRASE = re.compile(r'"([^"]*)"')


def fold(word: str) -> str:
    """Case- and accent-insensitive form: casefolded, combining marks removed (é -> e, ß -> ss)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # folded; several for a phrase
    prefix: bool  # the last word of the query, unquoted: matches as a prefix too


@dataclass(frozen=True)
class SearchTerms:
    terms: tuple[Term, ...]


def parse(query: str) -> SearchTerms:
    """The terms of a query; `validation_error` when it is over 200 code points or holds no word."""
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"A search is at most {MAX_QUERY_CHARS} characters.")
    terms: list[Term] = []
    position = 0
    for match in PHRASE.finditer(query):
        terms += _words(query[position : match.start()])
        words = tuple(fold(w) for w in WORD.findall(match.group(1)))
        if words:
            terms.append(Term(words, False))
        position = match.end()
    trailing = _words(query[position:])
    if trailing:
        terms += trailing
        last = terms[-1]
        terms[-1] = Term(last.words, True)
    if not terms:
        raise InvalidInput("Search for at least one word.")
    return SearchTerms(tuple(dict.fromkeys(terms)))


def _words(text: str) -> list[Term]:
    return [Term((fold(w),), False) for w in WORD.findall(text.replace('"', " "))]


def highlights(body: str, terms: SearchTerms) -> list[tuple[int, int]]:
    """[start, end) code-point offsets of the words of `body` the terms match, ascending, merged where
    a phrase's words are adjacent."""
    tokens = [(m.start(), m.end(), fold(m.group())) for m in WORD.finditer(body)]
    marked: set[int] = set()
    for term in terms.terms:
        n = len(term.words)
        for i in range(len(tokens) - n + 1):
            if all(
                tokens[i + k][2] == word or (term.prefix and k == n - 1 and tokens[i + k][2].startswith(word))
                for k, word in enumerate(term.words)
            ):
                marked.update(range(i, i + n))
    spans = [(tokens[i][0], tokens[i][1]) for i in sorted(marked)]
    return spans


def encode_cursor(position: str, message_id: str) -> str:
    """The last result's place in the engine's order (`SearchIndex.find`: SQLite its time-ordered rowid,
    PostgreSQL its sent_at) and its id, opaque to the client."""
    return base64.urlsafe_b64encode(f"{position}|{message_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        position, message_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
    except ValueError:
        raise InvalidInput("That cursor is not one this server gave.") from None
    return position, message_id


def visible_to(prefix: str, alias: str = "s", join: str = "JOIN") -> str:
    """The one predicate of which messages a user can see (joins; `?` is the user's id): those sent
    within one of their membership periods (contract section 7), as `get_messages` reads them.
    `join`: "CROSS JOIN" makes SQLite keep `alias` the outer loop (its order, the result's)."""
    return (
        f"{join} {prefix}messages vm ON vm.id = {alias}.message_id "
        f"{join} {prefix}member_periods mp ON mp.conversation_id = vm.conversation_id AND mp.user_id = ? "
        "AND mp.from_seq <= vm.seq AND (mp.to_seq IS NULL OR vm.seq <= mp.to_seq)"
    )


def match_scope(cur: SqlCursor, prefix: str, user_id: str, conversation_id: str | None) -> list[str] | None:
    """The conversations a match is limited to, for both engines: the one asked for, else the caller's
    when they are at most SCOPE_CONVERSATIONS (None: too many to list; []: the caller is in none)."""
    if conversation_id is not None:
        return [conversation_id]
    rows = cur.execute(
        f"SELECT conversation_id FROM {prefix}members WHERE user_id = ? LIMIT ?", (user_id, SCOPE_CONVERSATIONS + 1)
    ).fetchall()
    return None if len(rows) > SCOPE_CONVERSATIONS else [r["conversation_id"] for r in rows]


def cursor_key(before: tuple[str, str]) -> int:
    """The search key a cursor's page ends at (`validation_error` for anything this server did not give)."""
    try:
        return int(before[0])
    except ValueError:
        raise InvalidInput("That cursor is not one this server gave.") from None
