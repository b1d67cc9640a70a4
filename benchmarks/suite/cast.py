"""The people and conversations every workload of one database shares."""

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import aiohttp

from benchmarks.wire_client import WireClient
from tests.support.clients import Person


@dataclass
class Cast:
    """Users and conversations made once per database and shared by the workloads."""

    pairs: list[tuple[Person, Person, str]]  # (a, b, direct conversation id)
    hub: Person
    members: list[Person]
    group: str

    @property
    def everyone(self) -> list[Person]:
        return [p for a, b, _ in self.pairs for p in (a, b)] + [self.hub, *self.members]


def make_cast(url: str, pairs: int, members: int) -> tuple[Cast, dict[str, Any]]:
    """Register 2 x pairs + members + 1 users over HTTP (argon2: the slow part), connect each pair,
    connect every member with the hub (each member asks: the hub would hit its request limit), then
    start the conversations over Socket.IO."""
    began = time.monotonic()
    run = uuid.uuid4().hex[:6]
    people = [Person(url, f"p{run}{i:05d}") for i in range(pairs * 2)]
    hub = Person(url, f"h{run}")
    group = [Person(url, f"m{run}{i:03d}") for i in range(members)]
    with ThreadPoolExecutor(max_workers=8) as threads:
        list(threads.map(Person.register, [*people, hub, *group]))
        registered = time.monotonic() - began
        list(threads.map(lambda i: people[2 * i].connect_with(people[2 * i + 1]), range(pairs)))
        list(threads.map(lambda m: m.connect_with(hub), group))

    async def conversations() -> tuple[list[str], str]:
        async with aiohttp.ClientSession() as http:

            async def direct(i: int) -> str:
                a, b = people[2 * i], people[2 * i + 1]
                client = await WireClient(http, url).connect({"token": a.token})
                try:
                    ack = await client.call("start_conversation", {"user_ids": [b.id]})
                    assert ack.get("ok"), ack
                    return ack["conversation"]["id"]
                finally:
                    await client.disconnect()

            semaphore = asyncio.Semaphore(50)

            async def limited(i: int) -> str:
                async with semaphore:
                    return await direct(i)

            ids = await asyncio.gather(*(limited(i) for i in range(pairs)))
            client = await WireClient(http, url).connect({"token": hub.token})
            ack = await client.call("start_conversation", {"user_ids": [m.id for m in group], "title": "fan-out"})
            assert ack.get("ok"), ack
            await client.disconnect()
            return list(ids), ack["conversation"]["id"]

    ids, group_id = asyncio.run(conversations())
    cast = Cast([(people[2 * i], people[2 * i + 1], ids[i]) for i in range(pairs)], hub, group, group_id)
    return cast, {
        "users": len(cast.everyone),
        "register_seconds": round(registered, 1),
        "setup_seconds": round(time.monotonic() - began, 1),
    }
