"""/api/connections: request, accept, decline, remove, list."""

from collections.abc import Awaitable, Callable
from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from domain.errors import ConnectionNotFound
from interfaces.http.common import body, current_user, ok, services
from interfaces.schemas import RequestConnection


async def request_connection(request: Request) -> JSONResponse:
    user_id = await current_user(request)
    data = await body(request, RequestConnection)
    http = services(request)
    await http.limits.connection_requests.spend(str(user_id))
    recorded = await http.run.command(http.commands.request_connection, user_id, data.username)
    return ok({"connection": await http.run.call(http.queries.connection, recorded.id)}, 201)


def _answer(command: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    """An endpoint that runs `command` (accept, decline, remove) on the connection in the path."""

    async def endpoint(request: Request) -> JSONResponse:
        user_id = await current_user(request)
        connection_id = _uuid(request.path_params["id"])
        http = services(request)
        recorded = await http.run.command(getattr(http.commands, command), connection_id, user_id)
        return ok({"connection": await http.run.call(http.queries.connection, recorded.id)})

    return endpoint


async def list_connections(request: Request) -> JSONResponse:
    user_id = await current_user(request)
    http = services(request)
    return ok({"connections": await http.run.call(http.queries.connections, user_id)})


def _uuid(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise ConnectionNotFound("No such connection.") from None


routes = [
    Route("/api/connections", request_connection, methods=["POST"]),
    Route("/api/connections", list_connections, methods=["GET"]),
    Route("/api/connections/{id}/accept", _answer("accept_connection"), methods=["POST"]),
    Route("/api/connections/{id}/decline", _answer("decline_connection"), methods=["POST"]),
    Route("/api/connections/{id}", _answer("remove_connection"), methods=["DELETE"]),
]
