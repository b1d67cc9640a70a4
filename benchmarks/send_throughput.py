"""Acknowledged sends per second: N pairs chatting, each sender with one message in flight.

Starts a real `parley serve` on loopback (SQLite in a temp dir, or a throwaway PostgreSQL database),
runs for a bounded time, prints one JSON line. Usage:
    python -m benchmarks.send_throughput --database sqlite --pairs 20 --seconds 10
"""

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from tests.support.clients import Person, Socket
from tests.support.databases import database
from tests.support.server import ServerProcess


async def run(url: str, pairs: int, seconds: float) -> dict[str, float]:
    people = [Person(url, f"bench{i:04d}").register() for i in range(pairs * 2)]
    conversations = []
    sockets = []
    for i in range(pairs):
        a, b = people[2 * i], people[2 * i + 1]
        a.connect_with(b)
        sa, sb = await Socket(a).connect(), await Socket(b).connect()
        conversation = (await sa.call("start_conversation", {"user_ids": [b.id]}))["conversation"]["id"]
        await sb.call("join_conversation", {"conversation_id": conversation})
        conversations.append(conversation)
        sockets.append((sa, sb))
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def sender(sa: Socket, conversation: str) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            ack = await sa.send(conversation, "benchmark message")
            assert ack["ok"], ack
            latencies.append(time.perf_counter() - started)

    began = time.monotonic()
    await asyncio.gather(*(sender(sa, c) for (sa, _), c in zip(sockets, conversations)))
    elapsed = time.monotonic() - began
    for sa, sb in sockets:
        await sa.disconnect()
        await sb.disconnect()
    latencies.sort()
    return {
        "acked_sends_per_second": round(len(latencies) / elapsed, 1),
        "p50_ack_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ack_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "sends": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, database(args.database, Path(tmp)) as database_url:
        server = ServerProcess(database_url).start()
        try:
            result = asyncio.run(run(server.url, args.pairs, args.seconds))
        finally:
            server.stop()
    print(json.dumps({"workload": "pairs", "database": args.database, "pairs": args.pairs, **result}))


if __name__ == "__main__":
    main()
