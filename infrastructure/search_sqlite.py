"""Message search on SQLite: an FTS5 table (`unicode61 remove_diacritics 2`: Unicode words, case- and
accent-insensitive), kept by the projector. Its rowid derives from the message id, so an edit or a
deletion finds its row without a scan."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from projections.ports import SqlCursor
from projections.search import SearchTerms, Term, visible_to


def rowid(message_id: str) -> int:
    """63 bits of the message's (uuid5) id: collisions need ~3 billion messages to become likely."""
    return UUID(message_id).int >> 65


def _fts_term(term: Term) -> str:
    # Words are runs of \w (projections/search.py): no quote or operator can be in them.
    text = " ".join(term.words)
    return f'"{text}"*' if term.prefix else f'"{text}"'


def match_expression(terms: SearchTerms) -> str:
    return " AND ".join(_fts_term(t) for t in terms.terms)


class SqliteSearch:
    def schema(self, prefix: str) -> list[str]:
        return [
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {prefix}search USING fts5(body, message_id UNINDEXED, "
            "conversation_id UNINDEXED, sent_at UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')"
        ]

    def indexes(self, prefix: str, suffix: str) -> list[str]:
        return []

    def add(self, cur: SqlCursor, prefix: str, rows: Sequence[tuple[str, str, str, str]]) -> None:
        cur.executemany(
            f"INSERT INTO {prefix}search (rowid, body, message_id, conversation_id, sent_at) VALUES (?, ?, ?, ?, ?)",
            [(rowid(m), body, m, c, at) for m, c, at, body in rows],
        )

    def replace(self, cur: SqlCursor, prefix: str, message_id: str, body: str) -> None:
        cur.execute(f"UPDATE {prefix}search SET body = ? WHERE rowid = ?", (body, rowid(message_id)))

    def remove(self, cur: SqlCursor, prefix: str, message_id: str) -> None:
        cur.execute(f"DELETE FROM {prefix}search WHERE rowid = ?", (rowid(message_id),))

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
        sql = f"SELECT s.message_id, s.sent_at FROM {prefix}search s {visible_to(prefix)} WHERE s.body MATCH ?"
        params: list[Any] = [user_id, match_expression(terms)]
        if conversation_id is not None:
            sql += " AND s.conversation_id = ?"
            params.append(conversation_id)
        if before is not None:
            sql += " AND (s.sent_at < ? OR (s.sent_at = ? AND s.message_id < ?))"
            params += [before[0], before[0], before[1]]
        sql += " ORDER BY s.sent_at DESC, s.message_id DESC LIMIT ?"
        params.append(limit)
        return [(r["message_id"], r["sent_at"]) for r in cur.execute(sql, params).fetchall()]
