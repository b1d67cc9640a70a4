"""The ASGI application: Socket.IO at /socket.io/, the HTTP API, and the web client at /."""

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import socketio
from anyio import to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from infrastructure.blob_sweep import SWEEP_EVERY_SECONDS
from interfaces.bootstrap import Container
from interfaces.drain import Drain
from interfaces.errors import EXPECTED_ERRORS, NotFound
from interfaces.http import accounts, blocks, connections, conversations, documents, files, health, my_data
from interfaces.http.common import HttpServices, error_response
from interfaces.http.health import Readiness
from interfaces.http.middleware import Deadline, RequestIds
from interfaces.runner import Runner
from interfaces.sockets.emitter import LoopEmitter
from interfaces.sockets.gate import EventGate
from interfaces.sockets.server import SocketApi, create_socket_server, listen_to_redis

WEB_DIST = Path(__file__).parent / "web" / "dist"
SOCKETS_STOP_SECONDS = 1.0  # the last sockets' users marked offline (else their presence expires)
CLOSE_SECONDS = 1.5  # the container: writer, projector, broadcaster, store
log = logging.getLogger("parley.shutdown")


@dataclass
class Served:
    """The ASGI application, and what its server runs before closing the sockets on a stop."""

    asgi: socketio.ASGIApp
    drain: Drain


def create_app(container: Container, sio: socketio.AsyncServer, emitter: LoopEmitter) -> Served:
    run = Runner(
        container.settings,
        container.queries,
        container.projector if container.projecting else None,
        submits=container.app.submits_without_blocking,
    )
    sockets = SocketApi(
        sio,
        run,
        container.app,
        container.queries,
        container.tokens,
        container.presence,
        container.limits,
        container.sessions,
        container.collector,
    )
    sockets.register()
    gate = EventGate()
    gate.guard(sio)  # in front of every handler: a stopping server refuses new ones, lets the others end

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await listen_to_redis(sio)
        emitter.start()
        await to_thread.run_sync(container.start)
        sockets.start()
        sweeping = asyncio.create_task(sweep_blobs(run, container.collector.sweep))
        watching = asyncio.create_task(run.loop_lag.watch())
        try:
            yield
        finally:
            sweeping.cancel()
            watching.cancel()
            # By now the drain ran and the sockets are closed (graceful_server.py): what is left is
            # stopped within a bound, each step whatever the one before did.
            try:
                async with asyncio.timeout(SOCKETS_STOP_SECONDS):
                    await sockets.stop()
            except TimeoutError:
                log.warning("shutting down: presence not cleared in time (it expires by itself)")
            await emitter.stop()
            if not await in_daemon_thread(container.close, CLOSE_SECONDS):
                log.warning("shutting down: the store was not closed within %.1f s", CLOSE_SECONDS)
            if container.redis:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(1):
                        await container.redis.aclose()

    routes: list[BaseRoute] = [
        *accounts.routes,
        *my_data.routes,
        *connections.routes,
        *blocks.routes,
        *conversations.routes,
        *files.routes,
        *health.routes,
        *documents.routes,
    ]
    routes.append(Route("/api/{rest:path}", api_not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]))
    routes += web_client_routes()
    http = Starlette(
        routes=routes,
        middleware=[Middleware(RequestIds), Middleware(Deadline, seconds=container.settings.request_timeout_seconds)],
        lifespan=lifespan,
        exception_handlers={
            HTTPException: http_error,
            **{kind: error_response for kind in EXPECTED_ERRORS},
            Exception: error_response,  # anything else: `internal` with a correlation id
        },
    )
    http.state.services = HttpServices(
        run,
        container.app,
        container.queries,
        container.tokens,
        container.limits,
        container.positions,
        container.blobs,
        container.urls,
        container.settings.max_upload_bytes,
        container.sessions,
        sockets.end_sessions,
        container.collector,
    )
    http.state.readiness = Readiness(
        container.projector,
        container.position,
        container.settings.sqlite_path if container.settings.is_sqlite else None,
    )
    return Served(socketio.ASGIApp(sio, other_asgi_app=http), Drain(container, sio, gate, emitter))


def settle(done: "asyncio.Future[None]") -> None:
    if not done.done():
        done.set_result(None)


async def in_daemon_thread(function: Callable[[], None], timeout: float) -> bool:
    """Run `function` in a daemon thread of its own and wait for it at most `timeout`: a call stuck on
    a dead database neither holds the loop nor, being a daemon, the process's exit. True if it ended."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def target() -> None:
        try:
            function()
        except Exception:
            log.exception("shutting down: %s failed", getattr(function, "__qualname__", function))
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
                loop.call_soon_threadsafe(settle, done)

    threading.Thread(target=target, name="closing", daemon=True).start()
    try:
        await asyncio.wait_for(done, timeout)
    except TimeoutError:
        return False
    return True


def build(container: Container) -> Served:
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


async def sweep_blobs(run: Runner, sweep: Callable[[], int]) -> None:
    """Every SWEEP_EVERY_SECONDS, in a worker thread: remove the bytes of uploads left unattached for a
    day (and any a deletion missed). Each process sweeps; the sweep is idempotent."""
    while True:
        await asyncio.sleep(SWEEP_EVERY_SECONDS)
        try:
            await run.call(sweep)
        except Exception:
            log.exception("the blob sweep failed; it runs again later")


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
