"""Real clients for end-to-end tests: HTTP through httpx, Socket.IO through python-socketio."""

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import socketio

SERVER_EVENTS = (
    "message_new",
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
        return self

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
