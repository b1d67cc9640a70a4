"""A minimal Socket.IO v5 client over an Engine.IO v4 websocket, for load generation.

python-socketio's AsyncClient costs about a millisecond of CPU per event, so one client process caps
what a benchmark can measure well below what the server can do. This client does only what the load
generator needs, on one aiohttp websocket per socket (no polling, no reconnection, no binary):

    engine.io v4   "0{...}" open, "2" ping -> "3" pong, "1" close, "4<payload>" message
    socket.io v5   (inside "4")  "0{auth}" connect -> "0{sid}" or "4{error}", "1" disconnect,
                   "2[event, data]" event, "2<id>[event, data]" event with ack, "3<id>[data]" ack

Only the default namespace "/" is used, so no namespace prefix appears on the wire.
Specs: https://github.com/socketio/engine.io-protocol (v4), https://github.com/socketio/socket.io-protocol (v5).
"""

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

# Engine.IO packet types (first character of each websocket text frame).
EIO_OPEN, EIO_CLOSE, EIO_PING, EIO_PONG, EIO_MESSAGE = "0", "1", "2", "3", "4"
# Socket.IO packet types (first character after the Engine.IO "4").
SIO_CONNECT, SIO_DISCONNECT, SIO_EVENT, SIO_ACK, SIO_CONNECT_ERROR = "0", "1", "2", "3", "4"


class ConnectError(Exception):
    """The server refused the Socket.IO connection (`connect_error`); `data` is its payload."""

    def __init__(self, data: Any) -> None:
        super().__init__(data)
        self.data = data


def encode_event(event: str, data: Any, ack_id: int | None = None) -> str:
    """The websocket frame of a Socket.IO EVENT on "/": '42' + optional ack id + JSON array."""
    args = [event] if data is None else [event, data]
    return EIO_MESSAGE + SIO_EVENT + ("" if ack_id is None else str(ack_id)) + json.dumps(args, separators=(",", ":"))


def encode_connect(auth: Any = None) -> str:
    return EIO_MESSAGE + SIO_CONNECT + ("" if auth is None else json.dumps(auth, separators=(",", ":")))


def decode(frame: str) -> tuple[str, str | None, int | None, Any]:
    """Decode one websocket text frame: (engine.io type, socket.io type or None, ack id or None, payload).

    For Engine.IO packets other than "message", the payload is the rest of the frame (a JSON object for
    "open", else a string). For Socket.IO packets it is the decoded JSON (a list for events and acks, an
    object for connect and connect_error), or None when absent.
    """
    if not frame:
        raise ValueError("empty frame")
    eio = frame[0]
    if eio != EIO_MESSAGE:
        rest = frame[1:]
        return eio, None, None, json.loads(rest) if eio == EIO_OPEN else rest
    if len(frame) < 2:
        raise ValueError(f"message frame without a socket.io type: {frame!r}")
    sio = frame[1]
    i = 2
    if i < len(frame) and frame[i] == "/":  # a namespace other than "/": "/name," (not used here)
        comma = frame.find(",", i)
        i = len(frame) if comma < 0 else comma + 1
    j = i
    while j < len(frame) and frame[j].isdigit():
        j += 1
    ack_id = int(frame[i:j]) if j > i else None
    payload = json.loads(frame[j:]) if j < len(frame) else None
    return eio, sio, ack_id, payload


class WireClient:
    """One Socket.IO connection. `on(event, handler)` registers a plain function called with the
    event's data (in the reader task; keep it cheap). `call` emits with an ack and awaits it."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.url = base_url.replace("http://", "ws://", 1).rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.sid: str | None = None
        self.handlers: dict[str, Callable[[Any], None]] = {}
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self._reader: asyncio.Task[None] | None = None
        self._connected: asyncio.Future[Any] | None = None
        self.closed = asyncio.Event()
        self.upgraded_ms: float | None = None  # how long the last connect's websocket upgrade took

    def on(self, event: str, handler: Callable[[Any], None]) -> None:
        self.handlers[event] = handler

    async def connect(self, auth: Any = None, timeout: float = 20) -> "WireClient":
        async with asyncio.timeout(timeout):
            # autoping: aiohttp answers the websocket-level pings (uvicorn sends one every 20 s) by itself
            began = time.monotonic()
            self.ws = await self.session.ws_connect(self.url, autoping=True, max_msg_size=0, compress=0)
            self.upgraded_ms = (time.monotonic() - began) * 1000  # TCP connect + HTTP upgrade (101)
            opened = await self.ws.receive()
            while opened.type in (aiohttp.WSMsgType.PING, aiohttp.WSMsgType.PONG):
                opened = await self.ws.receive()
            if opened.type != aiohttp.WSMsgType.TEXT or not opened.data.startswith(EIO_OPEN):
                raise ConnectError(f"no engine.io open packet: {opened!r}")
            self._connected = asyncio.get_running_loop().create_future()
            self.closed.clear()
            self._reader = asyncio.create_task(self._read())
            await self.ws.send_str(encode_connect(auth))
            self.sid = (await self._connected)["sid"]
        return self

    async def _read(self) -> None:
        ws = self.ws
        assert ws is not None
        try:
            async for msg in ws:  # ends on a close frame, a closed connection or an error
                if msg.type == aiohttp.WSMsgType.ERROR:
                    break
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue  # binary frames: not used by Parley
                frame = msg.data
                kind = frame[0]
                if kind == EIO_PING:
                    await ws.send_str(EIO_PONG)
                    continue
                if kind == EIO_CLOSE:
                    break
                if kind != EIO_MESSAGE:
                    continue
                if frame.startswith('42["'):  # an event without ack: skip decoding it if nobody listens
                    end = frame.find('"', 4)
                    if frame[4:end] not in self.handlers:
                        continue
                _, sio, ack_id, payload = decode(frame)
                if sio == SIO_EVENT:
                    handler = self.handlers.get(payload[0])
                    if handler is not None:
                        handler(payload[1] if len(payload) > 1 else None)
                elif sio == SIO_ACK:
                    future = self._acks.pop(ack_id, None)  # type: ignore[arg-type]
                    if future is not None and not future.done():
                        future.set_result(payload[0] if payload else None)
                elif sio == SIO_CONNECT and self._connected and not self._connected.done():
                    self._connected.set_result(payload or {})
                elif sio == SIO_CONNECT_ERROR and self._connected and not self._connected.done():
                    self._connected.set_exception(ConnectError(payload))
                elif sio == SIO_DISCONNECT:
                    break
        finally:
            error = ConnectionError("socket closed")
            if self._connected and not self._connected.done():
                self._connected.set_exception(error)
            for future in self._acks.values():
                if not future.done():
                    future.set_exception(error)
            self._acks.clear()
            self.closed.set()

    async def emit(self, event: str, data: Any = None) -> None:
        assert self.ws is not None
        await self.ws.send_str(encode_event(event, data))

    def call_nowait(self, event: str, data: Any = None) -> "asyncio.Future[Any]":
        """Send an event with an ack id now; return the future of its ack (the first ack argument)."""
        assert self.ws is not None
        self._next_id += 1
        ack_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        frame = encode_event(event, data, ack_id)
        # send_str on aiohttp writes to the transport synchronously for small text frames; awaiting it
        # only matters under back-pressure, so it runs as a task to keep call_nowait synchronous.
        sent = asyncio.ensure_future(self.ws.send_str(frame))
        sent.add_done_callback(lambda task: self._send_failed(ack_id, task))
        return future

    def _send_failed(self, ack_id: int, task: "asyncio.Future[None]") -> None:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            future = self._acks.pop(ack_id, None)
            if future is not None and not future.done():
                future.set_exception(ConnectionError(f"send failed: {error}"))

    async def call(self, event: str, data: Any = None, timeout: float = 20) -> Any:
        future = self.call_nowait(event, data)
        try:
            async with asyncio.timeout(timeout):
                return await future
        finally:
            future.cancel()

    async def disconnect(self) -> None:
        """A clean Socket.IO disconnect, then the websocket close."""
        if self.ws is not None and not self.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):  # the server already closed it
                await self.ws.send_str(EIO_MESSAGE + SIO_DISCONNECT)
            await self.ws.close()
        if self._reader is not None:
            await asyncio.wait([self._reader], timeout=5)

    async def drop(self) -> None:
        """The network goes away: the TCP connection is aborted, with no goodbye at either layer."""
        if self.ws is not None:
            connection = getattr(self.ws, "_conn", None)  # aiohttp keeps the upgraded connection here
            transport = connection.transport if connection is not None else None
            if transport is not None:
                transport.abort()
            else:
                await self.ws.close()
        if self._reader is not None:
            await asyncio.wait([self._reader], timeout=5)
            self._reader.cancel()
