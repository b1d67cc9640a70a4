"""The read-model tables. Portable SQL for SQLite and PostgreSQL; every name carries a prefix so a
second set can be built beside the live one."""

import secrets

from projections.ports import SqlCursor, SqlDatabase

LIVE_PREFIX = "rm_"

TABLES = (
    "users",
    "connections",
    "conversations",
    "members",
    "member_periods",
    "messages",
    "message_edits",
    "reactions",
    "blocks",
    "attachments",
    "search",  # the engine's own (FTS5 on SQLite, tsvector on PostgreSQL): projections/ports.py SearchIndex
    "position",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {p}users (
    id TEXT PRIMARY KEY, username TEXT UNIQUE, display_name TEXT NOT NULL,
    password_hash TEXT, created_at TEXT NOT NULL, deleted BIGINT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS {p}connections (
    id TEXT PRIMARY KEY, requester_id TEXT NOT NULL, addressee_id TEXT NOT NULL,
    status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {p}conversations (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT, created_at TEXT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0, last_message_id TEXT, last_message_at TEXT);
CREATE TABLE IF NOT EXISTS {p}members (
    conversation_id TEXT NOT NULL, user_id TEXT NOT NULL,
    last_delivered_seq BIGINT NOT NULL DEFAULT 0, last_read_seq BIGINT NOT NULL DEFAULT 0,
    unread_count BIGINT NOT NULL DEFAULT 0, activity_at TEXT NOT NULL,
    mention_count BIGINT NOT NULL DEFAULT 0, role TEXT NOT NULL DEFAULT 'member',
    from_seq BIGINT NOT NULL DEFAULT 1, visible_to BIGINT, muted_until TEXT, left_title TEXT, left_members TEXT,
    PRIMARY KEY (conversation_id, user_id));
CREATE TABLE IF NOT EXISTS {p}member_periods (
    conversation_id TEXT NOT NULL, user_id TEXT NOT NULL, from_seq BIGINT NOT NULL, to_seq BIGINT);
CREATE TABLE IF NOT EXISTS {p}messages (
    id TEXT NOT NULL, conversation_id TEXT NOT NULL, seq BIGINT NOT NULL, sender_id TEXT NOT NULL,
    body TEXT NOT NULL, client_message_id TEXT NOT NULL, sent_at TEXT NOT NULL,
    reply_to TEXT, mentions TEXT NOT NULL DEFAULT '', edited_at TEXT, deleted BIGINT NOT NULL DEFAULT 0,
    kind TEXT NOT NULL DEFAULT 'text', system TEXT);
CREATE TABLE IF NOT EXISTS {p}message_edits (
    message_id TEXT NOT NULL, version BIGINT NOT NULL, body TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {p}reactions (
    message_id TEXT NOT NULL, emoji TEXT NOT NULL, user_id TEXT NOT NULL,
    emoji_position BIGINT NOT NULL, position BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS {p}blocks (
    blocker_id TEXT NOT NULL, blocked_id TEXT NOT NULL, blocked_at TEXT NOT NULL, position BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id));
CREATE TABLE IF NOT EXISTS {p}attachments (
    id TEXT PRIMARY KEY, uploader_id TEXT NOT NULL, filename TEXT NOT NULL, content_type TEXT NOT NULL,
    size BIGINT NOT NULL, sha256 TEXT NOT NULL, width BIGINT, height BIGINT, thumbnail_sha256 TEXT,
    created_at TEXT NOT NULL, conversation_id TEXT, message_id TEXT, position BIGINT);
CREATE TABLE IF NOT EXISTS {p}position (
    projection TEXT PRIMARY KEY, notification_id BIGINT NOT NULL);
"""


# Indexes. A set built beside the live one (a rebuild, a verify) is loaded without them and gets
# them once it has caught up, outside any lock on the live set (Projector.catch_up): a bulk load is
# several times faster without them, and an index built once, sorted, costs a fraction of inserting
# into it row by row. Hence the uniqueness of (conversation_id, seq) and of message ids lives here, not
# in the table definitions. Names end with `suffix`: SQLite keeps an index's name when its table is
# renamed, so the indexes of a set built under `rb_` and swapped in must not take names the next
# build will want (a projector that builds a set uses a random suffix).
_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS {p}messages_by_seq{s} ON {p}messages (conversation_id, seq);
CREATE UNIQUE INDEX IF NOT EXISTS {p}messages_by_id{s} ON {p}messages (id);
CREATE INDEX IF NOT EXISTS {p}connections_requester{s} ON {p}connections (requester_id);
CREATE INDEX IF NOT EXISTS {p}connections_addressee{s} ON {p}connections (addressee_id);
CREATE INDEX IF NOT EXISTS {p}members_by_user{s} ON {p}members (user_id, activity_at, conversation_id);
CREATE INDEX IF NOT EXISTS {p}blocks_by_blocked{s} ON {p}blocks (blocked_id);
CREATE INDEX IF NOT EXISTS {p}member_periods_by_member{s} ON {p}member_periods (conversation_id, user_id);
CREATE UNIQUE INDEX IF NOT EXISTS {p}message_edits_by_message{s} ON {p}message_edits (message_id, version);
CREATE UNIQUE INDEX IF NOT EXISTS {p}reactions_by_message{s} ON {p}reactions (message_id, emoji, user_id);
CREATE INDEX IF NOT EXISTS {p}attachments_by_message{s} ON {p}attachments (message_id, position);
CREATE INDEX IF NOT EXISTS {p}attachments_by_sha256{s} ON {p}attachments (sha256);
CREATE INDEX IF NOT EXISTS {p}attachments_by_thumbnail{s} ON {p}attachments (thumbnail_sha256);
"""


def outdated(db: SqlDatabase, prefix: str) -> bool:
    """Whether the set under `prefix` lacks a table or a column of this release's schema: a set an
    earlier release built (before edits and reactions, groups, or search). Compared with this release's
    tables created empty under a probe prefix of their own (never DDL on the live set), then dropped."""
    probe = f"rs{secrets.token_hex(3)}_"
    with db.transaction(commit=True) as cur:
        create_tables(cur, probe, indexes=False)
        try:
            for table in TABLES:
                have = set(column_names(cur, db.engine, f"{prefix}{table}"))
                if not set(column_names(cur, db.engine, f"{probe}{table}")) <= have:
                    return True
            return False
        finally:
            drop_tables(cur, probe)


def column_names(cur: SqlCursor, engine: str, table: str) -> list[str]:
    """A table's columns in their order ([] when there is no such table)."""
    if engine == "postgres":
        rows = cur.execute(
            "SELECT column_name AS name FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = current_schema() ORDER BY ordinal_position",
            (table,),
        ).fetchall()
    else:
        rows = cur.execute("SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,)).fetchall()
    return [row["name"] for row in rows]


def statements(sql: str, prefix: str, suffix: str = "") -> list[str]:
    return [s.strip() for s in sql.format(p=prefix, s=suffix).split(";") if s.strip()]


def create_tables(cur: SqlCursor, prefix: str = LIVE_PREFIX, indexes: bool = True) -> None:
    for statement in statements(_SCHEMA, prefix):
        cur.execute(statement)
    for statement in cur.search.schema(prefix):
        cur.execute(statement)
    if indexes:
        create_indexes(cur, prefix)


def create_indexes(cur: SqlCursor, prefix: str, suffix: str = "") -> None:
    for statement in statements(_INDEXES, prefix, suffix):
        cur.execute(statement)
    for statement in cur.search.indexes(prefix, suffix):
        cur.execute(statement)


def drop_tables(cur: SqlCursor, prefix: str = LIVE_PREFIX) -> None:
    for table in TABLES:
        cur.execute(f"DROP TABLE IF EXISTS {prefix}{table}")


def rename_tables(cur: SqlCursor, engine: str, old: str, new: str) -> None:
    """Rename a table set (`old` prefix to `new`), with the indexes PostgreSQL named after it."""
    for table in TABLES:
        cur.execute(f"ALTER TABLE {old}{table} RENAME TO {new}{table}")
    if engine == "postgres":  # constraint indexes (pkey, unique) keep the name they were born with
        rows = cur.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE ?",
            (old.replace("_", "\\_") + "%",),
        ).fetchall()
        for row in rows:
            cur.execute(f"ALTER INDEX {row['indexname']} RENAME TO {new}{row['indexname'][len(old) :]}")
