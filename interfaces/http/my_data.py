"""`GET /api/users/me/export`: everything Parley holds about the caller, as one JSON document built from
the events (application/my_data.py), streamed as it is built.

The builder works in the pool's threads, one bounded piece per call and each call under the request
deadline (`Runner.call`), so the event loop only passes the pieces on. The first piece is made before
the response starts: a failure then is an ordinary error answer; a failure later cuts the body short
(the client sees an incomplete document), and is logged."""

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from application.my_data import MyDataExport
from interfaces.http.common import current_user, services
from interfaces.runner import Runner
from projections.my_data_streams import MyDataStreams

log = logging.getLogger("parley.http")
HEADERS = {
    "Content-Disposition": 'attachment; filename="parley-export.json"',
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


async def export(request: Request) -> Response:
    user_id = await current_user(request)
    http = services(request)
    streams = MyDataStreams(http.queries.db, http.queries.reads.p)
    found = await http.run.query(user_id, streams.of, user_id)  # after the caller's acknowledged writes
    document = MyDataExport(http.commands, user_id, found)
    try:
        first = await http.run.call(document.next_chunk)
    except BaseException:
        await _close(http.run, document)
        raise
    return StreamingResponse(_rest(http.run, document, first), media_type="application/json", headers=HEADERS)


async def _rest(run: Runner, document: MyDataExport, first: bytes | None) -> AsyncIterator[bytes]:
    chunk = first
    try:
        while chunk is not None:
            if chunk:
                yield chunk
            chunk = await run.call(document.next_chunk)
    except Exception:
        log.exception("the export of a user's data stopped part way; the client got an incomplete document")
        raise
    finally:
        await _close(run, document)


async def _close(run: Runner, document: MyDataExport) -> None:
    """Release the builder (its open reads); a piece still running in an abandoned thread ends by itself."""
    with contextlib.suppress(Exception):
        await run.call(document.close)


routes = [Route("/api/users/me/export", export, methods=["GET"])]
