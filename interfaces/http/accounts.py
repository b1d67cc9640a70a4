"""/api/auth and /api/users."""

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from domain.errors import InvalidCredentials, UserNotFound
from infrastructure.auth_sessions import Issued, RefreshRefused, Reused
from infrastructure.rate_limit import RateLimited
from interfaces.erasure import erase_account
from interfaces.errors import Unauthorized
from interfaces.http.common import HttpServices, body, current_session, current_user, ok, query, services
from interfaces.schemas import ChangePassword, DeleteAccount, Login, Logout, Refresh, Register, UserSearch
from projections.shapes import User


async def register(request: Request) -> JSONResponse:
    data = await body(request, Register)
    http = services(request)
    recorded = await http.run.command(http.commands.register_user, data.username, data.password, data.display_name)
    return ok({"user": await http.run.call(http.queries.user, recorded.id)}, 201)


async def login(request: Request) -> JSONResponse:
    data = await body(request, Login)
    http = services(request)
    failures, key = http.limits.login_failures, data.username.strip().lower()
    if wait := await failures.wait_ms(key):  # repeated failures: refuse before checking the password
        raise RateLimited(wait, "Too many failed sign-ins for this username; try again later.")
    try:
        user = await http.run.call(http.queries.authenticate, data.username, data.password)
    except InvalidCredentials:
        await failures.take(key)
        raise
    issued = await http.run.call(http.sessions.start, user["id"])
    return signed_in(http, issued, user)


def signed_in(http: HttpServices, issued: Issued, user: User) -> JSONResponse:
    """Login's body (also refresh's and password change's): an access token of the session, its refresh token."""
    tokens = http.tokens
    return ok(
        {
            "access_token": tokens.issue(issued.user_id, issued.session_id),
            "token_type": "bearer",
            "expires_in": tokens.ttl_seconds,
            "refresh_token": issued.refresh_token,
            "refresh_expires_in": http.sessions.refresh_ttl_seconds,
            "user": user,
        }
    )


async def refresh(request: Request) -> JSONResponse:
    """Rotate a refresh token. A token already rotated away ends its whole session (it leaked)."""
    data = await body(request, Refresh)
    http = services(request)
    try:
        rotated = await http.run.call(http.sessions.rotate, data.refresh_token)
    except RefreshRefused as error:
        raise Unauthorized(str(error)) from None
    if isinstance(rotated, Reused):
        await http.sessions_ended([rotated.session_id])
        raise Unauthorized("This refresh token was already used: its session has ended; sign in again.")
    user = await http.run.call(http.queries.user, rotated.user_id)
    if user is None:
        raise Unauthorized("No such user: sign in again.")
    return signed_in(http, rotated, user)


async def logout(request: Request) -> JSONResponse:
    """End the caller's session, or with `everywhere` every session of theirs; their sockets are disconnected."""
    claims = await current_session(request)
    data = await body(request, Logout, empty=Logout())
    http = services(request)
    if data.everywhere:
        ended = await http.run.call(http.sessions.end_all, claims.user_id, "logout everywhere")
    else:
        ended = await http.run.call(http.sessions.end, claims.session_id, "logout")
    await http.sessions_ended(ended)
    return ok({})


async def change_password(request: Request) -> JSONResponse:
    """Check the current password, set the new one, end every other session; fresh tokens for this one."""
    claims = await current_session(request)
    data = await body(request, ChangePassword)
    http = services(request)
    await http.run.command(http.commands.change_password, claims.user_id, data.current_password, data.new_password)
    ended = await http.run.call(http.sessions.end_all, claims.user_id, "password changed", claims.session_id)
    await http.sessions_ended(ended)
    try:
        issued = await http.run.call(http.sessions.renew, claims.session_id)
    except RefreshRefused as error:  # this session ended meanwhile (a sign-out elsewhere, everywhere)
        raise Unauthorized(str(error)) from None
    user = await http.run.call(http.queries.user, claims.user_id)
    if user is None:
        raise Unauthorized("No such user: sign in again.")
    return signed_in(http, issued, user)


async def me(request: Request) -> JSONResponse:
    user_id = await current_user(request)
    http = services(request)
    user = await http.run.call(http.queries.user, user_id)
    if user is None:
        raise UserNotFound("No such user.")
    return ok({"user": user})


async def delete_me(request: Request) -> JSONResponse:
    """Erase the caller's account (contract section 11), once they give their password: every session
    ends first (sockets disconnected), then the erasure; answered once the text is unrecoverable."""
    claims = await current_session(request)
    data = await body(request, DeleteAccount)
    http = services(request)
    user = await http.run.call(http.queries.user, claims.user_id)
    if user is None or user["username"] is None:
        raise Unauthorized("No such user: sign in again.")
    try:
        await http.run.call(http.queries.authenticate, user["username"], data.password)
    except InvalidCredentials:
        raise InvalidCredentials("The password is wrong: nothing was erased.") from None
    ended = await http.run.call(http.sessions.end_all, claims.user_id, "account erased")
    await http.sessions_ended(ended)
    await http.run.call(erase_account, http.commands, http.queries, http.collector, claims.user_id)
    return ok({})


async def search(request: Request) -> JSONResponse:
    user_id = await current_user(request)
    data = query(request, UserSearch)
    http = services(request)
    return ok({"users": await http.run.call(http.queries.search_users, data.query, user_id)})


routes = [
    Route("/api/auth/register", register, methods=["POST"]),
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/auth/refresh", refresh, methods=["POST"]),
    Route("/api/auth/logout", logout, methods=["POST"]),
    Route("/api/auth/password", change_password, methods=["POST"]),
    Route("/api/users/me", me, methods=["GET"]),
    Route("/api/users/me", delete_me, methods=["DELETE"]),
    Route("/api/users", search, methods=["GET"]),
]
