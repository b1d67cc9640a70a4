"""The ASGI application: Socket.IO at /socket.io/, the HTTP API, and the web client at /."""

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import socketio
from anyio import to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from infrastructure.bootstrap import Container
from interfaces.errors import EXPECTED_ERRORS, NotFound
from interfaces.http import accounts, connections, conversations, health
from interfaces.http.common import error_response
from interfaces.http.middleware import RequestIds
from interfaces.runner import Runner
from interfaces.sockets.emitter import LoopEmitter
from interfaces.sockets.server import SocketApi, create_socket_server, listen_to_redis

WEB_DIST = Path(__file__).parent / "web" / "dist"


def create_app(container: Container, sio: socketio.AsyncServer, emitter: LoopEmitter) -> socketio.ASGIApp:
    run = Runner(container)
    sockets = SocketApi(sio, run)
    sockets.register()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await listen_to_redis(sio)
        emitter.start()
        await to_thread.run_sync(container.start)
        sockets.start()
        try:
            yield
        finally:
            await sockets.stop()
            await emitter.stop()
            await to_thread.run_sync(container.close)
            if container.redis:
                await container.redis.aclose()

    routes = [*accounts.routes, *connections.routes, *conversations.routes, *health.routes]
    routes.append(Route("/api/{rest:path}", api_not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]))
    routes += web_client_routes()
    http = Starlette(
        routes=routes,
        middleware=[Middleware(RequestIds)],
        lifespan=lifespan,
        exception_handlers={
            HTTPException: http_error,
            **{kind: error_response for kind in EXPECTED_ERRORS},
            Exception: error_response,  # anything else: `internal` with a correlation id
        },
    )
    http.state.runner = run
    return socketio.ASGIApp(sio, other_asgi_app=http)


def build(container: Container) -> socketio.ASGIApp:
    """Wire a Socket.IO server and its emitter to the container (the emitter feeds the broadcaster)."""
    sio = create_socket_server(container.settings)
    emitter = LoopEmitter(sio)
    if container.projecting:  # else broadcasts come from the projecting process, through Redis
        container.attach_emitter(emitter)
    return create_app(container, sio, emitter)


async def api_not_found(request: Request) -> Response:
    return await error_response(request, NotFound(f"No endpoint {request.method} {request.url.path}."))


async def http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        return await error_response(request, NotFound(f"No endpoint {request.method} {request.url.path}."))
    return await error_response(request, error)


def web_client_routes() -> list[Route | Mount]:
    if not (WEB_DIST / "index.html").exists():
        return [Route("/", web_client_missing)]

    async def index(request: Request) -> Response:
        return FileResponse(WEB_DIST / "index.html")

    return [
        Mount("/assets", StaticFiles(directory=WEB_DIST / "assets", check_dir=False), name="assets"),
        Route("/{path:path}", index),
    ]


async def web_client_missing(request: Request) -> Response:
    return HTMLResponse(
        "<!doctype html><title>Parley</title><p>The web client is not built. "
        "Run <code>npm ci && npm run build</code> in <code>interfaces/web</code>, or start with the README's command.",
        status_code=503,
    )
