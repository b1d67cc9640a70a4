"""Search latency over a large read model: `python -m benchmarks.search --database sqlite|postgres
[--messages 1000000] [--queries 200]`.

The messages are written straight into the read models in bulk (rm_messages, the search table through
the engine's own `SearchIndex.add`, rm_members, rm_member_periods, rm_conversations), not sent through
the event store: a million sends would take the better part of an hour here and measure the write path,
not search. On PostgreSQL the messages and search tables are loaded without their indexes, built once
after (as a rebuild does).
Then `Queries.search` (the path `search_messages` and `GET /api/search` take, minus the socket: the
engine's query, the visibility join, the page's messages with status, quotes, reactions and
attachments, highlights) runs for three searchers: one who belongs to 50 of the 5,000 conversations (1% of
the messages), one who belongs to 500 (10%), and one who belongs to one of them and to 1,000
conversations without a message (0.02%; too many to scope the match to), with queries of each kind, and
reports p50 / p99 / max of the first page in milliseconds (and p99 of the next page, from its cursor), one JSON line per kind
and searcher, plus the time the bulk load and index build took."""

import argparse
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap
from projections.event_rows import MessageRow
from projections.tables import LIVE_PREFIX, create_indexes
from tests.support.databases import database
from tests.support.fakes import PlainPasswords

CONVERSATIONS = 5000
MEMBER_OF = 50
BUSY_MEMBER_OF = 500  # a second searcher: 10% of the messages
QUIET_CONVERSATIONS = 1000  # a third: one conversation of the 5,000 and this many without a message
BATCH = 10_000
COMMON = ["the", "and", "meeting", "today", "lunch", "project", "deploy", "café", "review", "report"]


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyzéü"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(size - len(COMMON))] + COMMON


Searcher = tuple[str, str, int]  # (user id, the conversation of the "one conversation" query, conversations)


def load(url: str, messages: int, seed: int = 7) -> tuple[object, list[Searcher], list[str], float]:
    container = bootstrap(
        Settings(database_url=url, jwt_secret="b" * 40, blob_dir=tempfile.mkdtemp()), passwords=PlainPasswords()
    )
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = [1.0 / (rank + 1) for rank in range(len(words))]  # Zipf-like: a few words are everywhere
    rng.shuffle(weights)
    for common in range(len(COMMON)):
        weights[-1 - common] = 0.02
    cumulative = list(itertools.accumulate(weights))
    seen: list[str] = []  # words that occur, for the "rare word" queries
    conversations = [str(uuid.uuid4()) for _ in range(CONVERSATIONS)]
    user, busy, lurker = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    quiet = [str(uuid.uuid4()) for _ in range(QUIET_CONVERSATIONS)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    with container.db.transaction(commit=True) as cur:
        if cur.engine == "postgres":  # loaded bare and indexed once, as a rebuild does (tables.py)
            for row in cur.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(?)",
                (["rm_messages", "rm_search"],),
            ).fetchall():
                cur.execute(f"DROP INDEX {row['indexname']}")
        cur.insert_many(
            "rm_conversations",
            ("id", "kind", "title", "created_at"),
            [(c, "group", "t", start.isoformat()) for c in conversations + quiet],
        )
        members = [
            (c, user if i < MEMBER_OF else str(uuid.uuid4()), start.isoformat()) for i, c in enumerate(conversations)
        ]
        members += [(c, str(uuid.uuid4()), start.isoformat()) for c in conversations]
        members += [(c, busy, start.isoformat()) for c in conversations[MEMBER_OF : MEMBER_OF + BUSY_MEMBER_OF]]
        members += [(c, lurker, start.isoformat()) for c in [conversations[-1], *quiet]]
        cur.insert_many("rm_members", ("conversation_id", "user_id", "activity_at"), members)
        # Their membership periods, from the first message on: what search's visibility join reads.
        cur.insert_many(
            "rm_member_periods",
            ("conversation_id", "user_id", "from_seq", "to_seq"),
            [(c, u, 1, None) for c, u, _ in members],
        )
    seqs = dict.fromkeys(conversations, 0)
    for offset in range(0, messages, BATCH):
        rows = []
        for n in range(offset, min(offset + BATCH, messages)):
            conversation = conversations[rng.randrange(CONVERSATIONS)]
            seqs[conversation] += 1
            body = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(4, 24)))
            if n % 997 == 0:
                seen.append(body.split(" ")[0])
            at = (start + timedelta(seconds=n * 2)).isoformat(timespec="microseconds")
            rows.append(
                MessageRow(
                    str(uuid.uuid4()),
                    conversation,
                    seqs[conversation],
                    str(uuid.uuid4()),
                    body,
                    str(uuid.uuid4()),
                    at,
                    None,
                    "",
                )
            )
        with container.db.transaction(commit=True) as cur:
            if cur.engine == "postgres":  # a busy machine can stall a bulk COPY past the library's 5 s bound
                cur.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
            cur.insert_many("rm_messages", MessageRow._fields, rows)
            cur.search.add(cur, "rm_", [(r.id, r.conversation_id, r.sent_at, r.body) for r in rows])
        print(f"  loaded {offset + len(rows):,} messages", file=sys.stderr, flush=True)
    with container.db.transaction(commit=True) as cur:  # what the projector does after a bare load
        if cur.engine == "postgres":
            cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
            create_indexes(cur, "rm_")
            cur.execute("ANALYZE")
        else:
            cur.execute("INSERT INTO rm_search (rm_search) VALUES ('optimize')")
    loaded = time.perf_counter() - began
    searchers = [
        (user, conversations[0], MEMBER_OF),
        (busy, conversations[MEMBER_OF], BUSY_MEMBER_OF),
        (lurker, conversations[-1], 1 + QUIET_CONVERSATIONS),
    ]
    return container, searchers, [w for w in seen if w not in COMMON], loaded


def percentiles(timings: list[float]) -> tuple[float, float, float]:
    timings = sorted(timings) or [0.0]
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    return round(statistics.median(timings), 2), round(p99, 2), round(timings[-1], 2)


def run(url: str, engine: str, messages: int, queries: int) -> list[dict[str, object]]:
    container, searchers, rare, loaded = load(url, messages)
    rng = random.Random(11)
    kinds = {
        "common word": lambda: rng.choice(COMMON[2:]),
        "a word of some message": lambda: rng.choice(rare),
        "prefix (3 letters of such a word)": lambda: rng.choice(rare)[:3],
        "two words": lambda: f"{rng.choice(COMMON[2:])} {rng.choice(COMMON[2:])}",
        "phrase": lambda: f'"{rng.choice(COMMON[2:])} {rng.choice(COMMON[2:])}"',
        "accented, one conversation": lambda: "cafe",
    }
    results: list[dict[str, object]] = [
        {"engine": engine, "messages": messages, "phase": "bulk load + index", "seconds": round(loaded, 1)}
    ]
    queries_api = container.queries  # type: ignore[attr-defined]
    for searcher, one, member_of in searchers:
        conversation = uuid.UUID(one)
        for kind, make in kinds.items():
            timings, next_timings, found = [], [], 0
            for _ in range(queries):
                query = make()
                scope = conversation if kind.endswith("one conversation") else None
                started = time.perf_counter()
                page, cursor = queries_api.search(uuid.UUID(searcher), query, scope, 20, None)
                timings.append((time.perf_counter() - started) * 1000)
                found += len(page)
                if cursor is not None:  # the next page, from the cursor
                    started = time.perf_counter()
                    queries_api.search(uuid.UUID(searcher), query, scope, 20, cursor)
                    next_timings.append((time.perf_counter() - started) * 1000)
            p50, p99, most = percentiles(timings)
            results.append(
                {
                    "engine": engine,
                    "messages": messages,
                    "searcher_conversations": member_of,
                    "kind": kind,
                    "queries": queries,
                    "p50_ms": p50,
                    "p99_ms": p99,
                    "max_ms": most,
                    "mean_results": round(found / queries, 1),
                    "next_pages": len(next_timings),
                    "next_page_p99_ms": percentiles(next_timings)[1],
                }
            )
            print(json.dumps(results[-1]), flush=True)
    results.append(erasure_cost(container, engine, messages))
    print(json.dumps(results[-1]), flush=True)
    container.close()  # type: ignore[attr-defined]
    return results


def erasure_cost(container: Any, engine: str, messages: int) -> dict[str, object]:
    """What a deletion's last step costs at this size (docs/security.md, Erasure): one message's search
    row removed, then `SqlDatabase.erase_traces` (SQLite: the search index merged, the WAL truncated)."""
    with container.db.transaction(commit=True) as cur:
        row = cur.execute(f"SELECT id, sent_at FROM {LIVE_PREFIX}messages LIMIT 1").fetchone()
        cur.search.remove(cur, LIVE_PREFIX, row["id"], row["sent_at"])
    started = time.perf_counter()
    finished = container.db.erase_traces(LIVE_PREFIX, True)
    return {
        "engine": engine,
        "messages": messages,
        "phase": "a deletion's erase_traces (search index merge + WAL truncation)",
        "seconds": round(time.perf_counter() - started, 2),
        "finished": finished,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory, database(args.database, Path(directory)) as url:
        results = run(url, args.database, args.messages, args.queries)
    print(json.dumps(results[0]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
