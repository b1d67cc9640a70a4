"""HTTP middleware: every request gets an id (in the logs as context_id, and in the `X-Request-Id`
response header), and an answer within a deadline."""

import asyncio
import logging
import time
import uuid

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infrastructure.logs import context_id
from interfaces.errors import describe
from interfaces.runner import RequestTimedOut

log = logging.getLogger("parley.http")


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        context_id.set(f"req:{request_id}")
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "%s %s %s %.1fms",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
                extra={"path": scope["path"], "status": status},
            )


class Deadline:
    """Every HTTP request gets its response started within `seconds` (the runner's deadline answers
    first; this is the backstop for any other await): past it, `503 internal`. A response already
    started (a large body being streamed) is not cut."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                deadline.reschedule(None)
            await send(message)

        try:
            async with asyncio.timeout(self.seconds) as deadline:
                await self.app(scope, receive, sending)
        except TimeoutError:
            if started:
                raise
            _, body = describe(RequestTimedOut(f"No answer within {self.seconds:.0f} s."))
            await JSONResponse({"error": body}, status_code=503)(scope, receive, send)
