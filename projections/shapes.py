"""Read-model rows -> the contract's shapes (section 3 of the wire contract)."""

from datetime import datetime, timezone
from typing import Any

Row = dict[str, Any]


def iso(moment: datetime) -> str:
    """Fixed-width ISO 8601 in UTC: sorts as text the same as in time."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def user(row: Row, prefix: str = "") -> Row:
    return {
        "id": row[f"{prefix}id"],
        "username": row[f"{prefix}username"],
        "display_name": row[f"{prefix}display_name"],
        "created_at": row[f"{prefix}created_at"],
    }


def connection(row: Row) -> Row:
    return {
        "id": row["id"],
        "requester": user(row, "requester_"),
        "addressee": user(row, "addressee_"),
        "status": row["status"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def message(row: Row, status: str) -> Row:
    return {
        "id": row["id"],
        "conversation_id": row["conversation_id"],
        "seq": row["seq"],
        "sender_id": row["sender_id"],
        "body": row["body"],
        "client_message_id": row["client_message_id"],
        "sent_at": row["sent_at"],
        "status": status,
    }


def message_status(sender_id: str, seq: int, members: list[Row]) -> str:
    """For the sender's eyes: read once every other member read it, delivered once every other got it."""
    others = [m for m in members if m["user_id"] != sender_id]
    if all(m["last_read_seq"] >= seq for m in others):
        return "read"
    if all(m["last_delivered_seq"] >= seq for m in others):
        return "delivered"
    return "sent"


def member(row: Row, online: bool) -> Row:
    return {
        "user": user(row, "user_"),
        "last_delivered_seq": row["last_delivered_seq"],
        "last_read_seq": row["last_read_seq"],
        "online": online,
    }
