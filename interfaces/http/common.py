"""What every HTTP route shares: JSON bodies, the caller's identity, the contract's error body."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

from application.commands import Parley
from application.ports import BlobStore
from domain.errors import InvalidInput
from infrastructure.auth_sessions import SessionStore
from infrastructure.blob_sweep import BlobCollector
from infrastructure.blob_urls import BlobUrls
from infrastructure.rate_limit import Limits
from infrastructure.tokens import Claims, Tokens
from interfaces.auth import NO_SUCH_USER, SESSION_ENDED, token_claims
from interfaces.errors import Unauthorized, describe
from interfaces.runner import Runner
from projections.history import Positions
from projections.queries import Queries

M = TypeVar("M", bound=BaseModel)
MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class HttpServices:
    """What the HTTP routes call (on the Starlette app's state as `services`)."""

    run: Runner
    commands: Parley
    queries: Queries
    tokens: Tokens
    limits: Limits
    positions: Positions
    blobs: BlobStore
    urls: BlobUrls
    max_upload_bytes: int
    sessions: SessionStore
    # Disconnects the live sockets of sessions that just ended, in every server process.
    sessions_ended: Callable[[list[UUID]], Awaitable[None]]
    collector: BlobCollector | None = None  # removes bytes no longer needed (an erased account's uploads)


def services(request: Request) -> HttpServices:
    found: HttpServices = request.app.state.services
    return found


def runner(request: Request) -> Runner:
    return services(request).run


async def body(request: Request, model: type[M], empty: M | None = None) -> M:
    """The JSON body as `model`; a body over the limit is refused before it is read in full or parsed.
    `empty`: what no body at all means, when a body is optional."""
    too_large = InvalidInput(f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise too_large
    if not raw and empty is not None:
        return empty
    return model.model_validate_json(bytes(raw) or b"null")


def query(request: Request, model: type[M]) -> M:
    return model.model_validate(dict(request.query_params))


async def current_user(request: Request) -> UUID:
    """The authenticated user: a valid Bearer token of a live session of a user who exists."""
    return (await current_session(request)).user_id


async def current_session(request: Request) -> Claims:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Sign in first: send Authorization: Bearer <access_token>.")
    return await authenticate(services(request), token.strip())


async def authenticate(http: HttpServices, token: str) -> Claims:
    claims = token_claims(http.tokens, token)

    def check() -> str | None:  # one worker-thread call: two primary-key lookups
        if not http.sessions.live(claims.session_id, claims.user_id):
            return SESSION_ENDED
        return None if http.queries.user(claims.user_id) is not None else NO_SUCH_USER

    if refusal := await http.run.call(check):
        raise Unauthorized(refusal)
    return claims


def ok(payload: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(payload, status_code=status)


async def error_response(request: Request, error: Exception) -> JSONResponse:
    status, body = describe(error)
    return JSONResponse({"error": body}, status_code=status)
