"""Reading `multipart/form-data` with one file (field `file`) as it streams in: the bytes go to the blob
store in worker threads a megabyte at a time, and the size limit is enforced on the bytes received, so
an upload over the limit is refused as soon as it crosses it, never read in full."""

from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from application.ports import BlobStore, BlobWriter
from domain.errors import InvalidInput
from interfaces.errors import TooLarge

FLUSH_BYTES = 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file
MAX_OTHER_FIELD_BYTES = 64 * 1024


@dataclass
class _Part:
    name: str | None = None
    filename: str | None = None
    size: int = 0


@dataclass
class ReceivedFile:
    filename: str
    writer: BlobWriter


@dataclass
class _State:
    headers: dict[str, bytes] = field(default_factory=dict)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    part: _Part = field(default_factory=_Part)
    files: int = 0
    filename: str | None = None
    pending: bytearray = field(default_factory=bytearray)
    received: int = 0
    ended: bool = False


async def receive_file(request: Request, blobs: BlobStore, max_bytes: int) -> ReceivedFile:
    """The one file of the request, written aside in the blob store (not committed); errors:
    `too_large` past `max_bytes`, `validation_error` for anything but one non-empty file in `file`
    or a body cut short."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidInput("Send the file as multipart/form-data, in the field `file`.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD:
        raise TooLarge(f"A file is at most {max_bytes} bytes.")
    state = _State()
    writer = await to_thread.run_sync(blobs.writer)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.header_value += data[start:end]

    def on_header_end() -> None:
        state.headers[bytes(state.header_field).decode("latin-1").lower()] = bytes(state.header_value)
        state.header_field.clear()
        state.header_value.clear()

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(state.headers.get("content-disposition", b""))
        name, filename = disposition.get(b"name"), disposition.get(b"filename")
        state.part = _Part(
            name.decode("utf-8", "replace") if name is not None else None,
            filename.decode("utf-8", "replace") if filename is not None else None,
        )
        state.headers = {}
        if state.part.name == "file":
            state.files += 1
            if state.files > 1:
                raise InvalidInput("Send one file at a time.")
            state.filename = state.part.filename or ""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        size = end - start
        state.part.size += size
        if state.part.name == "file":
            state.received += size
            if state.received > max_bytes:
                raise TooLarge(f"A file is at most {max_bytes} bytes.")
            state.pending += data[start:end]
        elif state.part.size > MAX_OTHER_FIELD_BYTES:
            raise InvalidInput("Only the field `file` is read; other fields must be small.")

    def on_end() -> None:
        state.ended = True

    callbacks: Any = {
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_end": on_end,
    }
    parser = MultipartParser(boundary, callbacks)
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if len(state.pending) >= FLUSH_BYTES:
                await _flush(writer, state)
        parser.finalize()
        if not state.ended:
            raise InvalidInput("The multipart body is incomplete (cut short?).")
        if state.files == 0:
            raise InvalidInput("Send the file in the field `file`.")
        if state.received == 0:
            raise InvalidInput("The file is empty.")
        await _flush(writer, state)
    except MultipartParseError as error:
        await to_thread.run_sync(writer.abort)
        raise InvalidInput(f"The multipart body is malformed: {error}.") from None
    except ClientDisconnect:
        await to_thread.run_sync(writer.abort)
        raise InvalidInput("The multipart body is incomplete (the client went away).") from None
    except BaseException:
        await to_thread.run_sync(writer.abort)
        raise
    return ReceivedFile(state.filename or "", writer)


async def _flush(writer: BlobWriter, state: _State) -> None:
    if state.pending:
        data, state.pending = bytes(state.pending), bytearray()
        await to_thread.run_sync(writer.write, data)
