"""What sealing personal data costs (issue 16): `python -m benchmarks.sealing --database sqlite|postgres
[--messages 200000]`.

1. The mapper: microseconds to store and to read back one `MessageSent` (a 60-character body) with the
   library's plain mapper and with the sealing one (AES-256-GCM, a new key per message), in this process.
2. Writing: events per second appending `MessageSent` events in batches of 100 (the group commit's
   order of size) through the real recorder, with and without the keys written beside them.
3. The key store's growth: `--messages` keys written through the recorder, then the size of the
   `subject_keys` table (PostgreSQL: `pg_total_relation_size`, table and index; SQLite: its pages, by
   `dbstat`), per key and extrapolated to a million messages.
One JSON line per figure."""

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Mapper

from domain.conversations import Conversation
from infrastructure.event_store import persistence_env
from infrastructure.sealing import SealingMapper
from infrastructure.settings import Settings
from tests.support.databases import database

BODY = "see you at the standup tomorrow, I will bring the numbers ok"  # 60 characters


def message(conversation_id: uuid.UUID, version: int) -> Any:
    return Conversation.MessageSent(
        originator_id=conversation_id,
        originator_version=version,
        timestamp=datetime.now(UTC),
        message_id=uuid.uuid4(),
        seq=version,
        sender_id=uuid.uuid4(),
        body=BODY,
        client_message_id=uuid.uuid4(),
        reply_to=None,
        mentions=[],
    )


def per_event_us(function: Any, items: list[Any]) -> float:
    started = time.perf_counter()
    for item in items:
        function(item)
    return (time.perf_counter() - started) / len(items) * 1e6


def emit(**figure: Any) -> None:
    print(json.dumps(figure), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--messages", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, database(args.database, Path(tmp)) as url:
        from application.commands import Parley

        app = Parley(env=persistence_env(Settings(database_url=url, jwt_secret="x" * 32)))
        sealing = app.mapper
        assert isinstance(sealing, SealingMapper)
        plain: Mapper[Any] = Mapper(transcoder=sealing.transcoder)
        conversation = uuid.uuid4()
        events = [message(conversation, v) for v in range(1, 20_001)]
        for name, mapper in (("plain", plain), ("sealed", sealing)):
            store_us = per_event_us(mapper.to_stored_event, events)
            stored = [mapper.to_stored_event(e) for e in events]
            if name == "sealed":
                app.recorder.insert_events(stored)  # their keys, so they can be read back
                with sealing.preloaded(s.state for s in stored):
                    read_us = per_event_us(sealing.to_domain_event, stored)
            else:
                read_us = per_event_us(mapper.to_domain_event, stored)
            emit(
                figure="mapper",
                database=args.database,
                mapper=name,
                store_us=round(store_us, 2),
                read_us=round(read_us, 2),
            )

        for name, mapper in (("plain", plain), ("sealed", sealing)):
            total, started = 0, time.perf_counter()
            while total < 20_000:
                stream = uuid.uuid4()
                batch = [message(stream, v) for v in range(1, 101)]
                if isinstance(mapper, SealingMapper):
                    app.recorder.insert_events(mapper.to_stored_events(batch))
                else:
                    app.recorder.insert_events([mapper.to_stored_event(e) for e in batch])
                total += len(batch)
            rate = total / (time.perf_counter() - started)
            emit(figure="append", database=args.database, mapper=name, events_per_second=round(rate))

        written = 20_000 + 20_000  # keys so far: the sealed mapper's events above
        while written < args.messages:
            stream = uuid.uuid4()
            app.recorder.insert_events(sealing.to_stored_events([message(stream, v) for v in range(1, 1001)]))
            written += 1000
        keys = sealing.keys.count()  # type: ignore[attr-defined]
        size = key_store_bytes(app, args.database)
        emit(
            figure="key_store",
            database=args.database,
            keys=keys,
            bytes=size,
            bytes_per_key=round(size / keys, 1),
            mib_per_million_messages=round(size / keys * 1e6 / 2**20, 1),
        )
        app.close()
    return 0


def key_store_bytes(app: Any, engine: str) -> int:
    datastore = app.factory.datastore
    if engine == "postgres":
        with datastore.get_connection() as connection:
            row = connection.execute("SELECT pg_total_relation_size('subject_keys') AS size").fetchone()
            return int(row["size"])
    with datastore.get_connection(commit=False) as connection:
        row = connection._sqlite_conn.execute(
            "SELECT SUM(pgsize) FROM dbstat WHERE name = 'subject_keys' OR name LIKE 'sqlite_autoindex_subject_keys%'"
        ).fetchone()
        return int(row[0])


if __name__ == "__main__":
    sys.exit(main())
