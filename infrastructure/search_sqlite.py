"""Message search on SQLite: an FTS5 table (`unicode61 remove_diacritics 2`: Unicode words, case- and
accent-insensitive), kept by the projector.

Its rowid follows time: the message's sent_at in microseconds, shifted left 11 bits, with 11 bits of
its id below (`key`), so a larger rowid is a later message (ties within a microsecond ordered by id).
FTS5 keeps every doclist in rowid order, so `ORDER BY rowid DESC LIMIT n` walks the matches newest
first and stops at the page's end, with no sort of every match (EXPLAIN QUERY PLAN: no temp b-tree),
and the next page starts below the cursor's rowid. A key already taken (two messages in one
microsecond with the same 11 bits) moves up to the next free one; an edit or a deletion finds its row
by the key's short range and the message id, never by a scan.

A second indexed column holds the conversation's id as one token, so a search can be scoped to the
caller's conversations inside the match itself: one conversation (`conversation_id`), or every one of
a caller who belongs to at most `SCOPE_CONVERSATIONS` (projections/search.py) of them. FTS5 then intersects the word's doclist
with theirs and never visits the rest of the store; a caller in more conversations walks the matches
newest first, and the visibility join skips what is not theirs."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from projections.ports import SqlCursor
from projections.search import SearchTerms, Term, cursor_key, match_scope, visible_to

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
TIE_BITS = 11  # microseconds since 2000 fill the other 52 bits of a positive rowid until 2142
SPAN = 1 << TIE_BITS  # how far above its key a message's row can be (collisions: practically never more than 1)


def key(sent_at: str, message_id: str) -> int:
    """The rowid a message's row starts from: later sent_at, larger key."""
    micros = (datetime.fromisoformat(sent_at) - EPOCH) // timedelta(microseconds=1)
    # (the id's low bits from its last hex digits: ids here are canonical UUID strings, and building a
    # UUID per message was about a tenth of a rebuild's writer on SQLite)
    return (micros << TIE_BITS) | (int(message_id[-3:], 16) & (SPAN - 1))


def token(conversation_id: str) -> str:
    """A conversation's id as one FTS5 token (32 hex digits: unicode61 would split it at the dashes)."""
    return conversation_id.replace("-", "").lower()


def _fts_term(term: Term) -> str:
    # Words are runs of \w (projections/search.py): no quote or operator can be in them.
    text = " ".join(term.words)
    return f'"{text}"*' if term.prefix else f'"{text}"'


def match_expression(terms: SearchTerms) -> str:
    return " AND ".join(_fts_term(t) for t in terms.terms)


def scoped_expression(terms: SearchTerms, conversation_ids: Sequence[str] | None) -> str:
    """The words in the body column only (a prefix must not match a conversation token), within the
    given conversations when there are any."""
    words = f"body : ({match_expression(terms)})"
    if conversation_ids is None:
        return words
    tokens = " OR ".join(f'"{token(c)}"' for c in conversation_ids)
    return f"conversation : ({tokens}) AND {words}"


class SqliteSearch:
    def schema(self, prefix: str) -> list[str]:
        return [
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {prefix}search USING fts5(body, conversation, "
            "message_id UNINDEXED, conversation_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')"
        ]

    def indexes(self, prefix: str, suffix: str) -> list[str]:
        return []

    def add(self, cur: SqlCursor, prefix: str, rows: Sequence[tuple[str, str, str, str]]) -> None:
        """In key order: FTS5 buffers a transaction's rows while their rowids ascend (a lower one makes
        it write out what it holds), so a bulk load in time order is one stream."""
        if not rows:
            return
        keyed = sorted((key(at, m), m, c, body) for m, c, at, body in rows)
        low, high = keyed[0][0], keyed[-1][0]
        taken = {
            r["k"]
            for r in cur.execute(
                f"SELECT rowid AS k FROM {prefix}search WHERE rowid >= ? AND rowid < ?", (low, high + SPAN)
            ).fetchall()
        }
        values = []
        for k, message_id, conversation_id, body in keyed:
            while k in taken:
                k += 1
            taken.add(k)
            values.append((k, body, token(conversation_id), message_id, conversation_id))
        cur.executemany(
            f"INSERT INTO {prefix}search (rowid, body, conversation, message_id, conversation_id) "
            "VALUES (?, ?, ?, ?, ?)",
            values,
        )

    def _where(self, cur: SqlCursor, prefix: str, message_id: str, sent_at: str | None) -> tuple[str, list[Any]]:
        """The predicate of a message's row: its key's range (the rowid b-tree) and its id."""
        if sent_at is None:
            row = cur.execute(f"SELECT sent_at FROM {prefix}messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                return "0", []
            sent_at = row["sent_at"]
        low = key(sent_at, message_id)
        return "rowid >= ? AND rowid < ? AND message_id = ?", [low, low + SPAN, message_id]

    def replace(self, cur: SqlCursor, prefix: str, message_id: str, body: str, sent_at: str | None = None) -> None:
        where, params = self._where(cur, prefix, message_id, sent_at)
        cur.execute(f"UPDATE {prefix}search SET body = ? WHERE {where}", [body, *params])

    def remove(self, cur: SqlCursor, prefix: str, message_id: str, sent_at: str | None = None) -> None:
        where, params = self._where(cur, prefix, message_id, sent_at)
        cur.execute(f"DELETE FROM {prefix}search WHERE {where}", params)

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
        """The statement of a page and its parameters (None: the caller belongs to no conversation).
        CROSS JOIN keeps the search table the outer loop: its rowid order is the result's, and SQLite
        stops after `limit` visible rows."""
        scope = match_scope(cur, prefix, user_id, conversation_id)
        if scope == []:
            return None
        sql = (
            f"SELECT s.message_id, s.rowid AS k FROM {prefix}search s {visible_to(prefix, join='CROSS JOIN')} "
            f"WHERE s.{prefix}search MATCH ?"
        )
        params: list[Any] = [user_id, scoped_expression(terms, scope)]
        if before is not None:
            below = cursor_key(before)
            sql += " AND s.rowid < ?"
            params.append(below)
        return f"{sql} ORDER BY s.rowid DESC LIMIT ?", [*params, limit]

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
        """(message id, rowid) newest first; the cursor's position is the last rowid."""
        query = self.query(cur, prefix, terms, user_id, conversation_id, before, limit)
        if query is None:
            return []
        return [(r["message_id"], str(r["k"])) for r in cur.execute(*query).fetchall()]
