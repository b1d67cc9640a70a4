"""What every HTTP route shares: JSON bodies, the caller's identity, the contract's error body."""

from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

from application.commands import Parley
from application.ports import BlobStore
from domain.errors import InvalidInput
from infrastructure.blob_urls import BlobUrls
from infrastructure.rate_limit import Limits
from infrastructure.tokens import Tokens
from interfaces.auth import NO_SUCH_USER, token_user
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


def services(request: Request) -> HttpServices:
    found: HttpServices = request.app.state.services
    return found


def runner(request: Request) -> Runner:
    return services(request).run


async def body(request: Request, model: type[M]) -> M:
    """The JSON body as `model`; a body over the limit is refused before it is read in full or parsed."""
    too_large = InvalidInput(f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise too_large
    return model.model_validate_json(bytes(raw) or b"null")


def query(request: Request, model: type[M]) -> M:
    return model.model_validate(dict(request.query_params))


async def current_user(request: Request) -> UUID:
    """The authenticated user: a valid Bearer token of a user who exists."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Sign in first: send Authorization: Bearer <access_token>.")
    return await authenticate(services(request), token.strip())


async def authenticate(http: HttpServices, token: str) -> UUID:
    user_id = token_user(http.tokens, token)
    if await http.run.call(http.queries.user, user_id) is None:
        raise Unauthorized(NO_SUCH_USER)
    return user_id


def ok(payload: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(payload, status_code=status)


async def error_response(request: Request, error: Exception) -> JSONResponse:
    status, body = describe(error)
    return JSONResponse({"error": body}, status_code=status)
