"""Acknowledged sends per second: N pairs chatting, each sender with one message in flight.

Starts a real `parley serve` on loopback (SQLite in a temp dir, or a throwaway PostgreSQL database),
runs for a bounded time, and first measures the ceiling in the same run: a bare python-socketio relay
(benchmarks/bare_relay.py) with the same handler shape and no storage. Prints one JSON line each. Usage:
    python -m benchmarks.send_throughput --database sqlite --pairs 20 --seconds 10
"""

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests.support.clients import Person, Socket
from tests.support.databases import database
from tests.support.server import ServerProcess, free_port


async def setup_parley(url: str, pairs: int) -> tuple[list[str], list[tuple[Socket, Socket]]]:
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
    return conversations, sockets


async def setup_relay(url: str, pairs: int) -> tuple[list[str], list[tuple[Socket, Socket]]]:
    conversations, sockets = [], []
    for i in range(pairs):
        sa, sb = Socket(Person(url, f"a{i}")), Socket(Person(url, f"b{i}"))
        for s in (sa, sb):
            await s.client.connect(url, transports=["websocket"])
        conversation = str(uuid.uuid4())
        await sb.call("join_conversation", {"conversation_id": conversation})
        conversations.append(conversation)
        sockets.append((sa, sb))
    return conversations, sockets


async def run(url: str, pairs: int, seconds: float, relay: bool = False) -> dict[str, float]:
    conversations, sockets = await (setup_relay if relay else setup_parley)(url, pairs)
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
    port = free_port()
    relay = subprocess.Popen([sys.executable, "-m", "benchmarks.bare_relay", "--port", str(port)])
    try:
        time.sleep(1.5)
        ceiling = asyncio.run(run(f"http://127.0.0.1:{port}", args.pairs, args.seconds, relay=True))
    finally:
        relay.terminate()
        relay.wait()
    print(json.dumps({"workload": "pairs", "server": "bare relay (ceiling)", "pairs": args.pairs, **ceiling}))
    with tempfile.TemporaryDirectory() as tmp, database(args.database, Path(tmp)) as database_url:
        server = ServerProcess(database_url).start()
        try:
            result = asyncio.run(run(server.url, args.pairs, args.seconds))
        finally:
            server.stop()
    share = result["acked_sends_per_second"] / ceiling["acked_sends_per_second"]
    print(json.dumps({"workload": "pairs", "server": f"parley ({args.database})", "pairs": args.pairs, **result,
                      "share_of_ceiling": round(share, 3)}))


if __name__ == "__main__":
    main()
