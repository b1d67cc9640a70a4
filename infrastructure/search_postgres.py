"""Message search on PostgreSQL: a `tsvector` column with a GIN index, of the text through `unaccent`
(the `simple` configuration: no stemming, so every word matches whole), kept by the projector.

Queries are built from the parsed terms (projections/search.py), never from raw input: each word a
`plainto_tsquery`, a phrase a `phraseto_tsquery` (words in order, adjacent), the last unquoted word a
prefix (`:*`), all joined with `&&`. The extension and an IMMUTABLE wrapper of `unaccent` (the plain
function is only STABLE) are created with the tables."""

from collections.abc import Sequence
from typing import Any

from projections.ports import SqlCursor
from projections.search import SearchTerms, Term, visible_to

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
            "sent_at TEXT NOT NULL, words tsvector NOT NULL)",
        ]

    def indexes(self, prefix: str, suffix: str) -> list[str]:
        return [
            f"CREATE UNIQUE INDEX IF NOT EXISTS {prefix}search_by_id{suffix} ON {prefix}search (message_id)",
            f"CREATE INDEX IF NOT EXISTS {prefix}search_words{suffix} ON {prefix}search USING gin (words)",
        ]

    def add(self, cur: SqlCursor, prefix: str, rows: Sequence[tuple[str, str, str, str]]) -> None:
        cur.execute_values(
            f"INSERT INTO {prefix}search (message_id, conversation_id, sent_at, words) "
            f"SELECT v.column1, v.column2, v.column3, {DOCUMENT.format('v.column4')} FROM (VALUES) AS v",
            ("text", "text", "text", "text"),
            rows,
        )

    def replace(self, cur: SqlCursor, prefix: str, message_id: str, body: str, sent_at: str | None = None) -> None:
        cur.execute(
            f"UPDATE {prefix}search SET words = {DOCUMENT.format('?')} WHERE message_id = ?", (body, message_id)
        )

    def remove(self, cur: SqlCursor, prefix: str, message_id: str, sent_at: str | None = None) -> None:
        cur.execute(f"DELETE FROM {prefix}search WHERE message_id = ?", (message_id,))

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
        query, words = tsquery(terms)
        sql = f"SELECT s.message_id, s.sent_at FROM {prefix}search s {visible_to(prefix)} WHERE s.words @@ ({query})"
        params: list[Any] = [user_id, *words]
        if conversation_id is not None:
            sql += " AND s.conversation_id = ?"
            params.append(conversation_id)
        if before is not None:
            sql += " AND (s.sent_at, s.message_id) < (?, ?)"
            params += [before[0], before[1]]
        sql += " ORDER BY s.sent_at DESC, s.message_id DESC LIMIT ?"
        params.append(limit)
        return [(r["message_id"], r["sent_at"]) for r in cur.execute(sql, params).fetchall()]
