"""The HTTP backstop deadline: a request whose handler hangs is answered `503 internal`; a response
that has started streaming is left to finish."""

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from interfaces.http.middleware import Deadline


async def hangs(request: Request) -> JSONResponse:
    await asyncio.Event().wait()  # a store that never answers
    raise AssertionError("unreachable")


async def streams(request: Request) -> StreamingResponse:
    async def chunks():  # type: ignore[no-untyped-def]
        for n in range(3):
            await asyncio.sleep(0.15)
            yield f"{n}".encode()

    return StreamingResponse(chunks())


def app(seconds: float) -> Deadline:
    return Deadline(Starlette(routes=[Route("/hangs", hangs), Route("/streams", streams)]), seconds)


async def test_a_hanging_request_is_answered_internal_at_the_deadline() -> None:
    transport = httpx.ASGITransport(app=app(0.2))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        started = asyncio.get_running_loop().time()
        response = await client.get("/hangs")
        elapsed = asyncio.get_running_loop().time() - started
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "internal"
    assert "reference" in response.json()["error"]["message"]
    assert elapsed < 2


async def test_a_response_already_streaming_is_not_cut() -> None:
    transport = httpx.ASGITransport(app=app(0.2))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/streams")  # 0.45 s in all, past the deadline
    assert response.status_code == 200 and response.text == "012"
