"""/api/auth and /api/users."""

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from domain.errors import InvalidCredentials, UserNotFound
from infrastructure.rate_limit import RateLimited
from interfaces.http.common import body, current_user, ok, query, services
from interfaces.schemas import Login, Register, UserSearch


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
    tokens = http.tokens
    return ok(
        {
            "access_token": tokens.issue(user["id"]),
            "token_type": "bearer",
            "expires_in": tokens.ttl_seconds,
            "user": user,
        }
    )


async def me(request: Request) -> JSONResponse:
    user_id = await current_user(request)
    http = services(request)
    user = await http.run.call(http.queries.user, user_id)
    if user is None:
        raise UserNotFound("No such user.")
    return ok({"user": user})


async def search(request: Request) -> JSONResponse:
    user_id = await current_user(request)
    data = query(request, UserSearch)
    http = services(request)
    return ok({"users": await http.run.call(http.queries.search_users, data.query, user_id)})


routes = [
    Route("/api/auth/register", register, methods=["POST"]),
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/users/me", me, methods=["GET"]),
    Route("/api/users", search, methods=["GET"]),
]
