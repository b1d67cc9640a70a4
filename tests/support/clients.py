"""Real clients for end-to-end tests: HTTP through httpx, Socket.IO through python-socketio."""

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import socketio

SERVER_EVENTS = (
    "message_new",
    "message_updated",
    "reactions_updated",
    "conversation_updated",
    "connection_updated",
    "messages_delivered",
    "messages_read",
    "typing",
    "presence",
)


@dataclass
class Person:
    base_url: str
    username: str
    password: str = "correct horse battery"
    display_name: str | None = None
    token: str = ""
    user: dict[str, Any] = field(default_factory=dict)
    refresh_token: str = ""

    @property
    def id(self) -> str:
        return self.user["id"]

    def http(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)

    def register(self) -> "Person":
        with self.http() as http:
            body = {"username": self.username, "password": self.password}
            if self.display_name:
                body["display_name"] = self.display_name
            response = http.post("/api/auth/register", json=body)
            assert response.status_code == 201, response.text
            response = http.post("/api/auth/login", json={"username": self.username, "password": self.password})
            assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        self.user = response.json()["user"]
        self.refresh_token = response.json()["refresh_token"]
        return self

    def sign_in(self) -> "Person":
        """The same user signed in again: another session (another device), with tokens of its own."""
        with httpx.Client(base_url=self.base_url, timeout=10) as http:
            response = http.post("/api/auth/login", json={"username": self.username, "password": self.password})
            assert response.status_code == 200, response.text
        signed_in = response.json()
        return replace(self, token=signed_in["access_token"], refresh_token=signed_in["refresh_token"])

    def connect_with(self, other: "Person") -> None:
        """Request and accept a connection: afterwards the two are `connected`."""
        with self.http() as http:
            response = http.post("/api/connections", json={"username": other.username})
            assert response.status_code == 201, response.text
            connection_id = response.json()["connection"]["id"]
        with other.http() as http:
            response = http.post(f"/api/connections/{connection_id}/accept")
            assert response.status_code == 200, response.text


class Socket:
    """A python-socketio AsyncClient that records every server event it receives."""

    def __init__(self, person: Person) -> None:
        self.person = person
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: dict[str, asyncio.Queue[Any]] = {name: asyncio.Queue() for name in SERVER_EVENTS}
        for name in SERVER_EVENTS:
            self.client.on(name, self._recorder(name))

    def _recorder(self, name: str):  # type: ignore[no-untyped-def]
        async def record(data: Any) -> None:
            await self.events[name].put(data)

        return record

    async def connect(self) -> "Socket":
        await self.client.connect(
            self.person.base_url, auth={"token": self.person.token}, transports=["websocket"], wait_timeout=10
        )
        return self

    async def call(self, event: str, payload: Any = None, timeout: float = 10) -> dict[str, Any]:
        if payload is None:
            return await self.client.call(event, timeout=timeout)
        return await self.client.call(event, payload, timeout=timeout)

    async def next(self, event: str, timeout: float = 5) -> Any:
        return await asyncio.wait_for(self.events[event].get(), timeout)

    async def next_matching(self, event: str, predicate: Any, timeout: float = 5) -> Any:
        async def find() -> Any:
            while True:
                item = await self.events[event].get()
                if predicate(item):
                    return item

        return await asyncio.wait_for(find(), timeout)

    async def arrived_before(self, event: str, sentinel: Callable[[Any], bool], timeout: float = 10) -> list[Any]:
        """Every `event` received before the first one `sentinel` matches (that one is consumed too).

        How a test shows that something did NOT happen without sleeping for "long enough": after the
        action that must cause nothing, it causes a sentinel that this socket receives on the same
        ordered path, waits for it, and asserts that nothing came before it. Once the sentinel is here,
        anything the action could have caused is here too, because the server sends in order:

        - broadcasts (message_new, receipts, conversation_updated, connection_updated, the presence of
          newly connected people) leave one thread in log order, through one task per process
          (interfaces/sockets/emitter.py) or one Redis channel, and python-socketio queues each packet
          on the socket's websocket before it starts the next emit. A command acknowledged before the
          sentinel's command is sent is earlier in the log, so its broadcasts are sent first. Within
          one published set of batches, messages and receipts go out before summaries, and summaries
          before connections (projections/broadcasts.py): so a sentinel `message_new` settles earlier
          messages and receipts; a `conversation_updated` of ANOTHER conversation (one summary per
          conversation per set) also settles earlier summaries.
        - events a handler emits itself (typing, presence on connect and disconnect) are queued before
          that handler returns; a sentinel emitted by a later handler on the same process comes after.
          A disconnect has no acknowledgement, so a sentinel after one is ordered by the state it
          changed (the user's last socket is counted only after the earlier ones left).

        Other events on the same ordered path can be checked with `pending` once this returns.
        """
        before: list[Any] = []

        async def find() -> None:
            while not sentinel(item := await self.events[event].get()):
                before.append(item)

        try:
            await asyncio.wait_for(find(), timeout)
        except TimeoutError:
            raise AssertionError(f"no sentinel {event} within {timeout}s; received before it: {before}") from None
        return before

    def pending(self, event: str) -> list[Any]:
        items = []
        while not self.events[event].empty():
            items.append(self.events[event].get_nowait())
        return items

    async def send(self, conversation_id: str, body: str, client_message_id: str | None = None) -> dict[str, Any]:
        return await self.call(
            "send_message",
            {
                "conversation_id": conversation_id,
                "client_message_id": client_message_id or str(uuid.uuid4()),
                "body": body,
            },
        )

    async def disconnect(self) -> None:
        await self.client.disconnect()
