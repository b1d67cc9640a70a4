"""/api/users/{id}/block and /api/blocks: block, unblock, list (contract section 8)."""

from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from domain.errors import UserNotFound
from interfaces.http.common import current_user, ok, services


async def block(request: Request) -> JSONResponse:
    user_id = await current_user(request)
    http = services(request)
    await http.run.command(http.commands.block_user, user_id, _user_id(request))
    return ok({"blocked": await http.run.call(http.queries.blocked_users, user_id)})


async def unblock(request: Request) -> JSONResponse:
    user_id = await current_user(request)
    http = services(request)
    await http.run.command(http.commands.unblock_user, user_id, _user_id(request))
    return ok({"blocked": await http.run.call(http.queries.blocked_users, user_id)})


async def list_blocked(request: Request) -> JSONResponse:
    user_id = await current_user(request)
    http = services(request)
    return ok({"blocked": await http.run.call(http.queries.blocked_users, user_id)})


def _user_id(request: Request) -> UUID:
    try:
        return UUID(request.path_params["id"])
    except ValueError:
        raise UserNotFound("No such user.") from None


routes = [
    Route("/api/users/{id}/block", block, methods=["POST"]),
    Route("/api/users/{id}/block", unblock, methods=["DELETE"]),
    Route("/api/blocks", list_blocked, methods=["GET"]),
]
