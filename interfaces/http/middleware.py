"""Give every HTTP request an id: in the logs (context_id) and in the `X-Request-Id` response header."""

import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infrastructure.logs import context_id

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
                "%s %s %s %.1fms", scope["method"], scope["path"], status, (time.perf_counter() - started) * 1000,
                extra={"path": scope["path"], "status": status},
            )
