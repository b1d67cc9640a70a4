"""Attachments and search over HTTP: `POST /api/uploads` (contract section 9), the signed download
paths of attachments, and `GET /api/search` (section 10)."""

from collections.abc import AsyncIterator
from urllib.parse import quote
from uuid import UUID

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from application.ports import BlobReader
from infrastructure.file_types import INLINE_IMAGES, inspect_image, sniff
from interfaces.errors import BlobForbidden, BlobGone
from interfaces.http.common import current_user, ok, query, services
from interfaces.http.multipart_upload import receive_file
from interfaces.runner import RequestTimedOut
from interfaces.schemas import MessageSearch


async def upload(request: Request) -> JSONResponse:
    user_id = await current_user(request)
    http = services(request)
    received = await receive_file(request, http.blobs, http.max_upload_bytes)
    writer = received.writer
    content_type = sniff(writer.head())
    size = writer.size
    sha256 = await http.run.call(writer.commit)
    width = height = None
    thumbnail_sha256 = None
    if content_type in INLINE_IMAGES:
        data = await http.run.call(http.blobs.read, sha256)
        if data is None:
            raise BlobGone("The upload's bytes went missing; upload it again.")
        info = await http.run.call(inspect_image, data, content_type)
        width, height = info.width, info.height
        thumbnail_sha256 = await http.run.call(http.blobs.put, info.thumbnail)
    stored = await http.run.command(
        http.commands.store_upload,
        user_id,
        received.filename,
        content_type,
        size,
        sha256,
        width,
        height,
        thumbnail_sha256,
    )
    attachment = await http.run.call(http.queries.attachment, stored.id)
    if attachment is None:  # stored, not yet projected past the read-your-writes bound
        raise RequestTimedOut("The upload is stored but not readable yet.")
    return ok({"upload": attachment}, 201)


async def download(request: Request) -> Response:
    return await _serve(request, thumbnail=False)


async def download_thumbnail(request: Request) -> Response:
    return await _serve(request, thumbnail=True)


async def _serve(request: Request, thumbnail: bool) -> Response:
    http = services(request)
    raw_id = request.path_params["id"]
    expires = request.query_params.get("expires", "")
    signature = request.query_params.get("signature", "")
    if not http.urls.check(raw_id, thumbnail, expires, signature):
        raise BlobForbidden("This link is forged or has expired; fetch the message again for a fresh one.")
    try:
        upload_id = UUID(raw_id)
    except ValueError:
        raise BlobGone("No such file.") from None
    row = await http.run.call(http.queries.upload, upload_id)
    digest = (row["thumbnail_sha256"] if thumbnail else row["sha256"]) if row else None
    if digest is None:
        raise BlobGone("This file was removed.")
    reader = await http.run.call(http.blobs.chunks, digest)
    if reader is None:
        raise BlobGone("This file was removed.")
    assert row is not None
    content_type = "image/png" if thumbnail else row["content_type"]
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Length": str(reader.size),
        "Cache-Control": "private, max-age=3600",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if content_type not in INLINE_IMAGES:
        headers["Content-Disposition"] = _attachment_disposition(row["filename"])
    return StreamingResponse(_stream(reader), media_type=content_type, headers=headers)


def _attachment_disposition(filename: str) -> str:
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename) or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _stream(reader: BlobReader) -> AsyncIterator[bytes]:
    try:
        while chunk := await to_thread.run_sync(reader.read_chunk):
            yield chunk
    finally:
        await to_thread.run_sync(reader.close)


async def search(request: Request) -> JSONResponse:
    user_id = await current_user(request)
    asked = query(request, MessageSearch)
    http = services(request)
    results, next_cursor = await http.run.query(
        user_id, http.queries.search, user_id, asked.q, asked.conversation_id, asked.limit, asked.before
    )
    return ok({"results": results, "next_cursor": next_cursor})


routes = [
    Route("/api/uploads", upload, methods=["POST"]),
    Route("/api/files/{id}", download, methods=["GET"]),
    Route("/api/files/{id}/thumbnail", download_thumbnail, methods=["GET"]),
    Route("/api/search", search, methods=["GET"]),
]
