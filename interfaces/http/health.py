"""/healthz (the process runs) and /readyz (the store answers and the read models are caught up)."""

import os
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from interfaces.http.common import runner
from projections.projector import Projector
from projections.recorded_position import RecordedPosition

CATCH_UP_SECONDS = 2.0
MIN_FREE_BYTES = 1024 * 1024  # SQLite: below this, writes are about to fail (or already do)
FAILURE_GRACE_SECONDS = 1.0  # one failed batch (a lost race with an online rebuild's swap) is not an outage


@dataclass(frozen=True)
class Readiness:
    """What /readyz looks at (on the Starlette app's state as `readiness`)."""

    projector: Projector  # the log's head
    position: Projector | RecordedPosition  # how far the read models are (this process's projector, or recorded)
    sqlite_path: str | None  # the SQLite database's file, whose disk is watched


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    run = runner(request)
    readiness: Readiness = request.app.state.readiness
    projector, position = readiness.projector, readiness.position  # (the same when projecting here)

    def check() -> dict[str, object]:
        head = projector.head()
        caught_up = position.wait(head, CATCH_UP_SECONDS)
        return {"status": "ready" if caught_up else "catching_up", "head": head, "position": position.position}

    if position.failing_for() > FAILURE_GRACE_SECONDS:  # it cannot reach the store: no need to wait to know
        return JSONResponse({"status": "unavailable", "reason": type(position.failure).__name__}, status_code=503)
    if readiness.sqlite_path and free_bytes(readiness.sqlite_path) < MIN_FREE_BYTES:
        return JSONResponse({"status": "unavailable", "reason": "disk full"}, status_code=503)
    report: dict[str, object] = {"status": "unavailable", "reason": "the database did not answer in time"}
    try:
        with anyio.move_on_after(CATCH_UP_SECONDS + 1):
            report = await to_thread.run_sync(check, abandon_on_cancel=True, limiter=run.limiter)
    except Exception as error:  # the store does not answer
        report = {"status": "unavailable", "reason": type(error).__name__}
    return JSONResponse(report, status_code=200 if report["status"] == "ready" else 503)


routes = [Route("/healthz", healthz), Route("/readyz", readyz)]


def free_bytes(database_path: str) -> int:
    """Bytes an unprivileged writer can still use on the filesystem of the SQLite database."""
    try:
        stats = os.statvfs(Path(database_path).resolve().parent)
    except OSError:
        return MIN_FREE_BYTES  # cannot tell: let the store's own answer decide
    return stats.f_bavail * stats.f_frsize
