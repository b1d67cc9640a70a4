"""Message search on PostgreSQL: a `tsvector` column with a GIN index, of the text through `unaccent`
(the `simple` configuration: no stemming, so every word matches whole), kept by the projector.

Queries are built from the parsed terms (projections/search.py), never from raw input: each word a
`plainto_tsquery`, a phrase a `phraseto_tsquery` (words in order, adjacent), the last unquoted word a
prefix (`:*`), all joined with `&&`. The extension and an IMMUTABLE wrapper of `unaccent` (the plain
function is only STABLE) are created with the tables.

Each row carries the time-ordered key SQLite uses as its rowid (`search_sqlite.key`: sent_at in
microseconds, then 11 bits of the id), with a B-tree on (key, id) and one on (conversation, key, id):
a page is `ORDER BY key DESC, message_id DESC LIMIT n`, so the planner can walk a common word's matches
newest first and stop at the page's end (or a conversation's, for a search in one), and still take the
GIN index and sort the few matches of a rare one. A caller in at most `SCOPE_CONVERSATIONS` (projections/search.py)
conversations has the match limited to them (`conversation_id = ANY(...)`), which the planner may
answer from the conversation index."""

from collections.abc import Sequence
from typing import Any

from infrastructure.search_sqlite import key
from projections.ports import SqlCursor
from projections.search import SearchTerms, Term, cursor_key, match_scope, visible_to

DOCUMENT = "to_tsvector('simple', parley_unaccent({}))"


def _tsquery(term: Term) -> str:
    if term.prefix and len(term.words) == 1:
        return "to_tsquery('simple', quote_literal(parley_unaccent(?)) || ':*')"
    if term.prefix:  # a phrase whose last word is a prefix cannot arise (phrases are quoted): kept exact
        return "phraseto_tsquery('simple', parley_unaccent(?))"
    if len(term.words) > 1:
        return "phraseto_tsquery('simple', parley_unaccent(?))"
    return "plainto_tsquery('simple', parley_unaccent(?))"


def tsquery(terms: SearchTerms) -> tuple[str, list[str]]:
    return " && ".join(_tsquery(t) for t in terms.terms), [" ".join(t.words) for t in terms.terms]


class PostgresSearch:
    def schema(self, prefix: str) -> list[str]:
        return [
            "CREATE EXTENSION IF NOT EXISTS unaccent",
            "CREATE OR REPLACE FUNCTION parley_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
            "STRICT AS $f$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $f$",
            f"CREATE TABLE IF NOT EXISTS {prefix}search (message_id TEXT NOT NULL, conversation_id TEXT NOT NULL, "
            "key BIGINT NOT NULL, words tsvector NOT NULL)",
        ]

    def indexes(self, prefix: str, suffix: str) -> list[str]:
        return [
            f"CREATE UNIQUE INDEX IF NOT EXISTS {prefix}search_by_id{suffix} ON {prefix}search (message_id)",
            f"CREATE INDEX IF NOT EXISTS {prefix}search_words{suffix} ON {prefix}search USING gin (words)",
            f"CREATE INDEX IF NOT EXISTS {prefix}search_by_time{suffix} ON {prefix}search (key, message_id)",
            f"CREATE INDEX IF NOT EXISTS {prefix}search_by_conversation{suffix} "
            f"ON {prefix}search (conversation_id, key, message_id)",
        ]

    def add(self, cur: SqlCursor, prefix: str, rows: Sequence[tuple[str, str, str, str]]) -> None:
        cur.execute_values(
            f"INSERT INTO {prefix}search (message_id, conversation_id, key, words) "
            f"SELECT v.column1, v.column2, v.column3, {DOCUMENT.format('v.column4')} FROM (VALUES) AS v",
            ("text", "text", "bigint", "text"),
            [(m, c, key(at, m), body) for m, c, at, body in rows],
        )

    def replace(self, cur: SqlCursor, prefix: str, message_id: str, body: str, sent_at: str | None = None) -> None:
        cur.execute(
            f"UPDATE {prefix}search SET words = {DOCUMENT.format('?')} WHERE message_id = ?", (body, message_id)
        )

    def remove(self, cur: SqlCursor, prefix: str, message_id: str, sent_at: str | None = None) -> None:
        cur.execute(f"DELETE FROM {prefix}search WHERE message_id = ?", (message_id,))

    def query(
        self,
        cur: SqlCursor,
        prefix: str,
        terms: Any,
        user_id: str,
        conversation_id: str | None,
        before: tuple[str, str] | None,
        limit: int,
    ) -> tuple[str, list[Any]] | None:
        """The statement of a page and its parameters (None: the caller belongs to no conversation)."""
        scope = match_scope(cur, prefix, user_id, conversation_id)
        if scope == []:
            return None
        query, words = tsquery(terms)
        sql = f"SELECT s.message_id, s.key FROM {prefix}search s {visible_to(prefix)} WHERE s.words @@ ({query})"
        params: list[Any] = [user_id, *words]
        if conversation_id is not None:
            sql += " AND s.conversation_id = ?"
            params.append(conversation_id)
        elif scope is not None:
            sql += " AND s.conversation_id = ANY(?)"
            params.append(scope)
        if before is not None:
            below = cursor_key(before)
            sql += " AND (s.key, s.message_id) < (?, ?)"
            params += [below, before[1]]
        return f"{sql} ORDER BY s.key DESC, s.message_id DESC LIMIT ?", [*params, limit]

    def find(
        self,
        cur: SqlCursor,
        prefix: str,
        terms: Any,
        user_id: str,
        conversation_id: str | None,
        before: tuple[str, str] | None,
        limit: int,
    ) -> list[tuple[str, str]]:
        """(message id, key) newest first; the cursor's position is the last key."""
        query = self.query(cur, prefix, terms, user_id, conversation_id, before, limit)
        if query is None:
            return []
        return [(r["message_id"], str(r["key"])) for r in cur.execute(*query).fetchall()]
