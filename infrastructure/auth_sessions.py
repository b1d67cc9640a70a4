"""Sessions: one per sign-in (a device), each with a rotating refresh token stored only as a hash.

Security state of the server's own, not chat history: two tables beside the read models (`auth_`, no
read-model prefix, so a rebuild or its swap never touches them), in the event store's database, so
sessions survive a restart and every server process sees the same ones. Why not events: a refresh
rotates the token every access-token lifetime on every device, and the log is kept forever (see
docs/security.md, "Sessions").

A refresh token is 256 random bits; only its SHA-256 is stored (a fast hash is enough for a secret
with that much entropy: nothing to brute-force). Each refresh marks the presented token `rotated`
and issues the next one of the session; presenting a rotated token again means it leaked (or two
clients raced with it): the whole session ends, so both the thief's and the owner's newest tokens
stop working (OAuth 2.1 refresh-token rotation with reuse detection).
"""

import hashlib
import secrets
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

import psycopg
from eventsourcing.persistence import OperationalError, PersistenceError

from infrastructure.sql import SqlCursor, SqlDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS auth_sessions (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, started_at BIGINT NOT NULL,
    ended_at BIGINT, ended_reason TEXT);
CREATE INDEX IF NOT EXISTS auth_sessions_by_user ON auth_sessions (user_id);
CREATE TABLE IF NOT EXISTS auth_refresh_tokens (
    token_hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, expires_at BIGINT NOT NULL, rotated_at BIGINT);
CREATE INDEX IF NOT EXISTS auth_refresh_tokens_by_session ON auth_refresh_tokens (session_id);
CREATE INDEX IF NOT EXISTS auth_refresh_tokens_by_expiry ON auth_refresh_tokens (expires_at);
"""


T = TypeVar("T")


class RefreshRefused(Exception):
    """The refresh token is unknown, expired, already used, or its session ended."""


@dataclass(frozen=True)
class Issued:
    user_id: UUID
    session_id: UUID
    refresh_token: str


@dataclass(frozen=True)
class Reused:
    """A rotated refresh token came back: its session has just ended."""

    session_id: UUID


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """Every method does blocking database work: call it from a worker thread (`Runner.call`)."""

    def __init__(self, db: SqlDatabase, refresh_ttl_seconds: int) -> None:
        self.db = db
        self.refresh_ttl_seconds = refresh_ttl_seconds

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[SqlCursor]:
        """The database's errors as the event store's (PersistenceError): answered `internal` 503, with
        the reason when the disk is full, like every other write (interfaces/errors.py)."""
        try:
            with self.db.transaction(commit=commit) as cur:
                yield cur
        except PersistenceError:
            raise
        except (sqlite3.Error, psycopg.Error) as error:
            raise OperationalError(str(error)) from error

    def setup(self) -> None:
        with self._transaction(commit=True) as cur:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    cur.execute(statement)

    def start(self, user_id: UUID) -> Issued:
        """A new session (a sign-in), with its first refresh token."""
        session_id, now = uuid.uuid4(), int(time.time())
        with self._transaction(commit=True) as cur:
            self._forget_expired(cur, now)
            cur.execute(
                "INSERT INTO auth_sessions (id, user_id, started_at) VALUES (?, ?, ?)",
                (str(session_id), str(user_id), now),
            )
            token = self._issue(cur, session_id, now)
        return Issued(user_id, session_id, token)

    def rotate(self, refresh_token: str) -> Issued | Reused:
        """The session's next refresh token for `refresh_token`, which stops working; `Reused` (and the
        session ended) when it had already been rotated. Raises RefreshRefused otherwise."""
        now = int(time.time())
        with self._transaction(commit=True) as cur:
            row = cur.execute(
                "SELECT t.session_id, t.expires_at, t.rotated_at, s.user_id, s.ended_at FROM auth_refresh_tokens t"
                " JOIN auth_sessions s ON s.id = t.session_id WHERE t.token_hash = ?",
                (token_hash(refresh_token),),
            ).fetchone()
            if row is None or row["ended_at"] is not None:
                raise RefreshRefused("This refresh token is not valid (unknown, or its session ended): sign in again.")
            session_id = UUID(row["session_id"])
            if row["rotated_at"] is None and row["expires_at"] <= now:
                raise RefreshRefused("This refresh token has expired: sign in again.")
            used = cur.execute(
                "UPDATE auth_refresh_tokens SET rotated_at = ? WHERE token_hash = ? AND rotated_at IS NULL",
                (now, token_hash(refresh_token)),
            ).rowcount
            if row["rotated_at"] is not None or used != 1:  # (used != 1: another refresh with it won a race)
                self._end(cur, [session_id], "reuse", now)
                return Reused(session_id)
            return Issued(UUID(row["user_id"]), session_id, self._issue(cur, session_id, now))

    def renew(self, session_id: UUID) -> Issued:
        """A fresh refresh token for a live session; its earlier ones count as rotated (after a password change)."""
        now = int(time.time())
        with self._transaction(commit=True) as cur:
            row = cur.execute(
                "SELECT user_id FROM auth_sessions WHERE id = ? AND ended_at IS NULL", (str(session_id),)
            ).fetchone()
            if row is None:
                raise RefreshRefused("This session has ended: sign in again.")
            cur.execute(
                "UPDATE auth_refresh_tokens SET rotated_at = ? WHERE session_id = ? AND rotated_at IS NULL",
                (now, str(session_id)),
            )
            return Issued(UUID(row["user_id"]), session_id, self._issue(cur, session_id, now))

    def end(self, session_id: UUID, reason: str) -> list[UUID]:
        """End one session (sign-out on this device): the ids of the sessions that ended now."""
        with self._transaction(commit=True) as cur:
            return self._end(cur, [session_id], reason, int(time.time()))

    def end_all(self, user_id: UUID, reason: str, keep: UUID | None = None) -> list[UUID]:
        """End every live session of the user, but `keep`: the ids of those that ended now."""
        with self._transaction(commit=True) as cur:
            rows = cur.execute(
                "SELECT id FROM auth_sessions WHERE user_id = ? AND ended_at IS NULL", (str(user_id),)
            ).fetchall()
            live = [UUID(r["id"]) for r in rows if keep is None or r["id"] != str(keep)]
            return self._end(cur, live, reason, int(time.time()))

    def ended_among(self, session_ids: list[UUID]) -> list[UUID]:
        """Which of these sessions have ended (by primary key, in chunks)."""
        ended: list[UUID] = []
        with self._transaction(commit=False) as cur:
            for i in range(0, len(session_ids), 500):
                part = [str(s) for s in session_ids[i : i + 500]]
                marks = ", ".join(["?"] * len(part))
                rows = cur.execute(
                    f"SELECT id FROM auth_sessions WHERE id IN ({marks}) AND ended_at IS NOT NULL", part
                ).fetchall()
                ended += [UUID(r["id"]) for r in rows]
        return ended

    def read(self, query: Callable[[SqlCursor], T]) -> T:
        """`query` in a read transaction (of the database the read models are in too)."""
        with self._transaction(commit=False) as cur:
            return query(cur)

    def live(self, session_id: UUID, user_id: UUID) -> bool:
        """Whether the session is the user's and has not ended (one primary-key lookup)."""
        with self._transaction(commit=False) as cur:
            return self.live_in(cur, session_id, user_id)

    @staticmethod
    def live_in(cur: SqlCursor, session_id: UUID, user_id: UUID) -> bool:
        row = cur.execute(
            "SELECT user_id FROM auth_sessions WHERE id = ? AND ended_at IS NULL", (str(session_id),)
        ).fetchone()
        return row is not None and row["user_id"] == str(user_id)

    @staticmethod
    def live_among(cur: SqlCursor, pairs: list[tuple[UUID, UUID]]) -> set[tuple[UUID, UUID]]:
        """Those of these (session, user) pairs whose session is the user's and has not ended: `live_in`
        of many at once (one statement per 512 sessions, for a batch of handshakes)."""
        ids = list(dict.fromkeys(str(s) for s, _ in pairs))
        owner: dict[str, str] = {}
        for i in range(0, len(ids), 512):
            part = ids[i : i + 512]
            part += [part[-1]] * ((1 << (len(part) - 1).bit_length()) - len(part))  # few distinct statements
            marks = ", ".join(["?"] * len(part))
            rows = cur.execute(
                f"SELECT id, user_id FROM auth_sessions WHERE id IN ({marks}) AND ended_at IS NULL", part
            ).fetchall()
            owner.update((r["id"], r["user_id"]) for r in rows)
        return {(s, u) for s, u in pairs if owner.get(str(s)) == str(u)}

    def _issue(self, cur: SqlCursor, session_id: UUID, now: int) -> str:
        token = secrets.token_urlsafe(32)
        cur.execute(
            "INSERT INTO auth_refresh_tokens (token_hash, session_id, expires_at) VALUES (?, ?, ?)",
            (token_hash(token), str(session_id), now + self.refresh_ttl_seconds),
        )
        return token

    @staticmethod
    def _end(cur: SqlCursor, session_ids: list[UUID], reason: str, now: int) -> list[UUID]:
        ended = []
        for session_id in session_ids:
            changed = cur.execute(
                "UPDATE auth_sessions SET ended_at = ?, ended_reason = ? WHERE id = ? AND ended_at IS NULL",
                (now, reason, str(session_id)),
            ).rowcount
            if changed:
                cur.execute("DELETE FROM auth_refresh_tokens WHERE session_id = ?", (str(session_id),))
                ended.append(session_id)
        return ended

    def _forget_expired(self, cur: SqlCursor, now: int) -> None:
        """Refresh tokens past their expiry are refused whether or not they are kept: drop them (and
        sessions ended longer ago than a refresh token lives)."""
        cur.execute("DELETE FROM auth_refresh_tokens WHERE expires_at <= ?", (now,))
        cur.execute(
            "DELETE FROM auth_sessions WHERE ended_at IS NOT NULL AND ended_at <= ?", (now - self.refresh_ttl_seconds,)
        )
