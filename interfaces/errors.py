"""The one place where errors become the wire contract's error codes (and HTTP statuses)."""

import logging
import uuid

from eventsourcing.persistence import PersistenceError
from pydantic import ValidationError

from application.unit_of_work import CommandTimedOut, Overloaded, ShuttingDown
from domain import errors as domain
from domain.uploads import UploadNotFound
from infrastructure import metrics
from infrastructure.rate_limit import RateLimited
from interfaces.contract import ErrorCode, ErrorDetail
from interfaces.erasure import ErasureUnfinished, ReadModelsBehind
from interfaces.runner import Interrupted, RequestTimedOut
from projections.reads import InvalidCursor

log = logging.getLogger("parley.errors")


class Unauthorized(Exception):
    """No valid access token (missing, malformed, forged, expired, or of a user who does not exist)."""


class NotFound(Exception):
    """An HTTP path or socket event that does not exist."""


class TooLarge(Exception):
    """An upload over PARLEY_MAX_UPLOAD_BYTES (found while it streams in)."""


class BlobForbidden(Exception):
    """A download path whose signature is forged or expired."""


class BlobGone(Exception):
    """A download path whose bytes were removed (message deleted, upload swept)."""


_CODES: list[tuple[type[BaseException], int, ErrorCode]] = [
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
    (domain.MessageNotFound, 404, "not_found"),
    (domain.Forbidden, 403, "forbidden"),
    (domain.NotAMember, 403, "not_a_member"),
    (domain.InvalidCredentials, 401, "invalid_credentials"),
    (Unauthorized, 401, "unauthorized"),
    (RateLimited, 429, "rate_limited"),
    (Overloaded, 429, "rate_limited"),
    (NotFound, 404, "not_found"),
    (UploadNotFound, 404, "not_found"),
    (TooLarge, 413, "too_large"),
    (BlobForbidden, 403, "forbidden"),
    (BlobGone, 404, "not_found"),
]

EXPECTED_ERRORS = tuple(kind for kind, _, _ in _CODES)


def describe(error: BaseException) -> tuple[int, ErrorDetail]:
    """(HTTP status, the contract's error object) for any exception; unknown ones become `internal`.
    Every error answered passes here, and is counted here (`parley_errors_total`)."""
    status, body = _describe(error)
    metrics.error_answered(body["code"], status)
    return status, body


def _describe(error: BaseException) -> tuple[int, ErrorDetail]:
    for kind, status, code in _CODES:
        if isinstance(error, kind):
            body: ErrorDetail = {"code": code, "message": _message(error)}
            if isinstance(error, RateLimited | Overloaded):
                body["retry_after_ms"] = error.retry_after_ms
            return status, body
    correlation_id = uuid.uuid4().hex[:16]
    extra = {"correlation_id": correlation_id}
    for kind, message in _UNAVAILABLE:
        if isinstance(error, kind):  # expected under faults: one line, no traceback
            if isinstance(error, PersistenceError) and _disk_full(error):
                message = "The server's storage is full; nothing was stored. Try again later"
            log.warning("internal error %s: %s: %s", correlation_id, type(error).__name__, error, extra=extra)
            return 503, {"code": "internal", "message": f"{message} (reference {correlation_id})."}
    log.error("internal error %s", correlation_id, exc_info=error, extra=extra)
    return 500, {"code": "internal", "message": f"Something went wrong on our side (reference {correlation_id})."}


# Faults of what Parley runs on, answered `internal` with a status of 503 (try again).
_UNAVAILABLE: list[tuple[type[BaseException], str]] = [
    (PersistenceError, "The database is unavailable; nothing was changed. Try again"),
    (CommandTimedOut, "The server was too busy to store this in time; nothing was stored. Try again"),
    (RequestTimedOut, "The server did not answer in time. Try again (a retried send is never stored twice)"),
    (ShuttingDown, "The server is restarting; nothing was changed. Try again"),
    (Interrupted, "The server is restarting; this may have been done: retry it (a retried send is never stored twice)"),
    (ReadModelsBehind, "The read models are behind the log; nothing was erased. Try again"),
    (ErasureUnfinished, "The erasure is recorded and completes as the read models catch up (GET /readyz)"),
]


def _disk_full(error: BaseException) -> bool:
    text = str(error).lower()
    return "disk is full" in text or "no space left" in text


def _message(error: BaseException) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "payload"
        return f"{where}: {first.get('msg', 'invalid')}"
    return str(error) or type(error).__name__
