"""/api/openapi.json and /api/asyncapi.json: the contract's published documents."""

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from interfaces.api_documents import asyncapi, openapi


async def openapi_document(request: Request) -> JSONResponse:
    return JSONResponse(openapi())


async def asyncapi_document(request: Request) -> JSONResponse:
    return JSONResponse(asyncapi())


routes = [
    Route("/api/openapi.json", openapi_document, methods=["GET"]),
    Route("/api/asyncapi.json", asyncapi_document, methods=["GET"]),
]
