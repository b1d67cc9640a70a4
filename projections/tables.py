"""The read-model tables. Portable SQL for SQLite and PostgreSQL; every name carries a prefix so a
second set can be built beside the live one."""

from infrastructure.sql import SqlCursor

LIVE_PREFIX = "rm_"

TABLES = ("users", "connections", "conversations", "members", "messages", "position")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {p}users (
    id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {p}connections (
    id TEXT PRIMARY KEY, requester_id TEXT NOT NULL, addressee_id TEXT NOT NULL,
    status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS {p}connections_requester ON {p}connections (requester_id);
CREATE INDEX IF NOT EXISTS {p}connections_addressee ON {p}connections (addressee_id);
CREATE TABLE IF NOT EXISTS {p}conversations (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT, created_at TEXT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0, last_message_id TEXT, last_message_at TEXT);
CREATE TABLE IF NOT EXISTS {p}members (
    conversation_id TEXT NOT NULL, user_id TEXT NOT NULL,
    last_delivered_seq BIGINT NOT NULL DEFAULT 0, last_read_seq BIGINT NOT NULL DEFAULT 0,
    unread_count BIGINT NOT NULL DEFAULT 0, activity_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id));
CREATE INDEX IF NOT EXISTS {p}members_by_user ON {p}members (user_id, activity_at, conversation_id);
CREATE TABLE IF NOT EXISTS {p}messages (
    id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, seq BIGINT NOT NULL, sender_id TEXT NOT NULL,
    body TEXT NOT NULL, client_message_id TEXT NOT NULL, sent_at TEXT NOT NULL,
    UNIQUE (conversation_id, seq));
CREATE TABLE IF NOT EXISTS {p}position (
    projection TEXT PRIMARY KEY, notification_id BIGINT NOT NULL);
"""


def statements(prefix: str) -> list[str]:
    return [s.strip() for s in _SCHEMA.format(p=prefix).split(";") if s.strip()]


def create_tables(cur: SqlCursor, prefix: str = LIVE_PREFIX) -> None:
    for statement in statements(prefix):
        cur.execute(statement)


def drop_tables(cur: SqlCursor, prefix: str = LIVE_PREFIX) -> None:
    for table in TABLES:
        cur.execute(f"DROP TABLE IF EXISTS {prefix}{table}")
