"""The one place where errors become the wire contract's error codes (and HTTP statuses)."""

import logging
import uuid
from typing import Any

from eventsourcing.persistence import PersistenceError
from pydantic import ValidationError

from domain import errors as domain
from infrastructure.rate_limit import RateLimited
from projections.reads import InvalidCursor

log = logging.getLogger("parley.errors")


class Unauthorized(Exception):
    """No valid access token (missing, malformed, forged, expired, or of a user who does not exist)."""


class NotFound(Exception):
    """An HTTP path or socket event that does not exist."""


_CODES: list[tuple[type[BaseException], int, str]] = [
    (domain.InvalidInput, 422, "validation_error"),
    (ValidationError, 422, "validation_error"),
    (InvalidCursor, 422, "validation_error"),
    (domain.UsernameTaken, 409, "username_taken"),
    (domain.UserNotFound, 404, "user_not_found"),
    (domain.ConnectionNotFound, 404, "not_found"),
    (domain.ConnectionExists, 409, "connection_exists"),
    (domain.NotAParty, 403, "forbidden"),
    (domain.InvalidState, 409, "invalid_state"),
    (domain.NotConnected, 403, "not_connected"),
    (domain.ConversationNotFound, 404, "not_found"),
    (domain.NotAMember, 403, "not_a_member"),
    (domain.InvalidCredentials, 401, "invalid_credentials"),
    (Unauthorized, 401, "unauthorized"),
    (RateLimited, 429, "rate_limited"),
    (NotFound, 404, "not_found"),
]

EXPECTED_ERRORS = tuple(kind for kind, _, _ in _CODES)


def describe(error: BaseException) -> tuple[int, dict[str, Any]]:
    """(HTTP status, the contract's error object) for any exception; unknown ones become `internal`."""
    for kind, status, code in _CODES:
        if isinstance(error, kind):
            body: dict[str, Any] = {"code": code, "message": _message(error)}
            if isinstance(error, RateLimited):
                body["retry_after_ms"] = error.retry_after_ms
            return status, body
    correlation_id = uuid.uuid4().hex[:16]
    log.error("internal error %s", correlation_id, exc_info=error, extra={"correlation_id": correlation_id})
    if isinstance(error, PersistenceError):
        message = "The database is unavailable; nothing was changed. Try again"
        return 503, {"code": "internal", "message": f"{message} (reference {correlation_id})."}
    return 500, {"code": "internal", "message": f"Something went wrong on our side (reference {correlation_id})."}


def _message(error: BaseException) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "payload"
        return f"{where}: {first.get('msg', 'invalid')}"
    return str(error) or type(error).__name__
