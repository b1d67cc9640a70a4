"""How fast the read models rebuild from the events, against how fast the store can be read at all.

Builds a store of N events directly (domain events made with the aggregates' own event classes, mapped
and inserted by the recorder in large batches: no commands, so a million events take a minute or two,
not hours), then measures on that one store, in one process:

    read        every event read page by page with the store's own API (select_notifications)
    read_mapped the same, each notification also mapped to its domain event (the rebuild's ceiling)
    rebuild     projections.rebuild.rebuild: builds the read models beside, catches up, swaps
    export      application.audit.export_events, each record json.dumps'd to a file

and, for each phase, the resident set size (VmRSS, sampled every 50 ms) at its start, peak and end.
Prints one JSON object per line: the build, one per phase, then a summary. Usage:

    python -m benchmarks.rebuild --database sqlite --events 1000000
    python -m benchmarks.rebuild --database postgres --events 1000000

The store is a SQLite file in a temp dir or a throwaway PostgreSQL database (tests/support/databases.py);
both are removed afterwards.
"""

import argparse
import contextlib
import gc
import inspect
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from application.audit import export_events
from domain.connections import Connection
from domain.conversations import DIRECT, Conversation, direct_conversation_id
from domain.messages import ClientMessageKey, message_id_for
from domain.users import User, Username
from infrastructure.settings import Settings
from interfaces.bootstrap import Container, bootstrap
from projections.rebuild import rebuild
from projections.tables import LIVE_PREFIX
from tests.support.databases import database
from tests.support.fakes import PlainPasswords

TARGET = 0.8  # the rebuild should run at >= 80% of the rate at which the store's own API reads the log (raw)
PAGE = 1000  # the projector's and the export's page size
RECEIPT_EVERY = 5  # a delivery or read receipt after every 5th message of a conversation (~9% of events)

WORDS = (
    "ok sure thanks see you tomorrow at the station lunch meeting moved to three can you send me the file "
    "when you get a chance sounds good I am running late the build is green again did you see the news "
    "call me later let us ship it on Friday"
).split()


# -- memory ------------------------------------------------------------------------------------------
def rss_kb() -> int:
    """VmRSS of this process and of its child processes (a rebuild reads the log in one)."""
    total = 0
    for pid in ["self", *child_pids()]:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as status:  # OSError: the child has just exited
            total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
    return total


def child_pids() -> list[str]:
    pids = []
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):  # the thread has just ended: it has no children to count
            pids += (task / "children").read_text().split()
    return pids


class RssSampler:
    """Samples the RSS of this process and its children every `interval` seconds in a background thread."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            sample = (time.perf_counter(), rss_kb())
            with self._lock:
                self.samples.append(sample)
            self._stop.wait(self.interval)

    def window(self, began: float, ended: float) -> list[int]:
        with self._lock:
            return [kb for t, kb in self.samples if began <= t <= ended]


def memory_report(sampler: RssSampler, began: float, ended: float, start_kb: int, end_kb: int) -> dict[str, float]:
    """Start, peak and end RSS of a phase, and the peak of each half: equal halves mean flat memory."""
    middle = (began + ended) / 2
    first, second = sampler.window(began, middle), sampler.window(middle, ended)
    peak = max([start_kb, end_kb, *first, *second])
    return {
        "rss_start_mb": mb(start_kb),
        "rss_peak_mb": mb(peak),
        "rss_end_mb": mb(end_kb),
        "rss_peak_first_half_mb": mb(max(first, default=start_kb)),
        "rss_peak_second_half_mb": mb(max(second, default=end_kb)),
        "rss_samples": len(first) + len(second),
    }


def mb(kb: int) -> float:
    return round(kb / 1024, 1)


def machine_busy_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:9]]  # user .. steal (guest is inside user)
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_report(process_seconds: float, busy: tuple[int, int], busy_end: tuple[int, int], wall: float) -> dict[str, Any]:
    """CPU of this process and of the whole machine during a phase: other work on the machine (a test
    run, say) shows as machine_busy_cores well above this process's share (PostgreSQL's own backend is
    part of the work on that engine)."""
    cores = os.cpu_count() or 1
    total = busy_end[1] - busy[1]
    return {
        "process_cpu_seconds": round(process_seconds, 1),
        "process_cpu_share": round(process_seconds / wall, 2) if wall else None,
        "machine_busy_cores": round((busy_end[0] - busy[0]) / total * cores, 2) if total else None,
        "loadavg_1m_end": round(os.getloadavg()[0], 2),
    }


def measure(sampler: RssSampler, work: Callable[[], dict[str, Any]]) -> tuple[float, dict[str, Any]]:
    """Run one phase; return its wall time and its result merged with its memory and CPU reports."""
    gc.collect()
    start_kb = rss_kb()
    busy, cpu = machine_busy_jiffies(), time.process_time()
    began = time.perf_counter()
    result = work()
    ended = time.perf_counter()
    cpu, busy_end = time.process_time() - cpu, machine_busy_jiffies()
    end_kb = rss_kb()
    return ended - began, {
        **result,
        **memory_report(sampler, began, ended, start_kb, end_kb),
        **cpu_report(cpu, busy, busy_end, ended - began),
    }


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


# -- the store -----------------------------------------------------------------------------------------
class Clock:
    """Strictly increasing timestamps, 5 ms apart (a million events span about 1.4 hours)."""

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
        self.step = timedelta(milliseconds=5)

    def tick(self) -> datetime:
        self.now += self.step
        return self.now


def generate(
    target: int, users: int, connections: int, conversations: int, receipts_interleaved: bool = True, seed: int = 7
) -> Iterator[Any]:
    """Yield domain events as the commands would have recorded them, at least `target` of them.

    `users` registrations (UserRegistered + UsernameClaimed), `connections` accepted connections
    (ConnectionRequested + ConnectionAccepted), `conversations` direct conversations between connected
    pairs (ConversationStarted), then messages round-robin across the conversations, each a MessageSent
    on the conversation plus its ClientMessageKeyClaimed (as Parley.send_message saves them), and after
    every 5th message of a conversation a receipt by the other member, alternately MessagesDelivered and
    MessagesRead (`receipts_interleaved`: each conversation at its own phase, so receipts are spread
    through the log; otherwise all in the same rounds). Versions are per aggregate and seq per
    conversation, as the domain makes them.
    """
    assert connections * 2 <= users and conversations <= connections
    rng = random.Random(seed)
    clock = Clock()
    new_id = lambda: UUID(int=rng.getrandbits(128), version=4)  # noqa: E731
    bodies = [" ".join(rng.choices(WORDS, k=rng.randint(2, 24))) for _ in range(997)]
    topics = {cls: get_topic(cls) for cls in (User, Username, Connection, Conversation, ClientMessageKey)}
    count = 0

    user_ids = []
    for i in range(users):
        user_id, username, at = new_id(), f"user{i:05d}", clock.tick()
        user_ids.append(user_id)
        password_hash = f"$argon2id$v=19$m=65536,t=3,p=4${rng.getrandbits(128):032x}${rng.getrandbits(256):064x}"
        yield User.UserRegistered(
            originator_id=user_id,
            originator_version=1,
            timestamp=at,
            originator_topic=topics[User],
            username=username,
            display_name=f"User {i}",
            password_hash=password_hash,
        )
        yield Username.UsernameClaimed(
            originator_id=Username.create_id(username),
            originator_version=1,
            timestamp=at,
            originator_topic=topics[Username],
            username=username,
            user_id=user_id,
        )
        count += 2

    pairs = [(user_ids[2 * k], user_ids[2 * k + 1]) for k in range(connections)]
    for requester_id, addressee_id in pairs:
        connection_id = Connection.create_id(requester_id, addressee_id)
        yield Connection.ConnectionRequested(
            originator_id=connection_id,
            originator_version=1,
            timestamp=clock.tick(),
            originator_topic=topics[Connection],
            requester_id=requester_id,
            addressee_id=addressee_id,
        )
        yield Connection.ConnectionAccepted(originator_id=connection_id, originator_version=2, timestamp=clock.tick())
        count += 2

    # Per conversation: [id, member ids, version, last seq, receipts so far, receipt phase]. Interleaved,
    # each conversation has its own phase, so receipts are spread evenly through the log as in real
    # traffic; synchronized, every conversation's receipt falls in the same round (the log then holds long
    # runs of messages only, the easiest case for a projector that batches messages between receipts).
    threads: list[list[Any]] = []
    for k, (a, b) in enumerate(pairs[:conversations]):
        conversation_id = direct_conversation_id(a, b)
        yield Conversation.ConversationStarted(
            originator_id=conversation_id,
            originator_version=1,
            timestamp=clock.tick(),
            originator_topic=topics[Conversation],
            kind=DIRECT,
            title=None,
            member_ids=[a, b],
            started_by=a,
        )
        threads.append([conversation_id, (a, b), 1, 0, 0, k % RECEIPT_EVERY if receipts_interleaved else 0])
        count += 1

    while count < target:
        for thread in threads:
            conversation_id, members, version, seq, receipts, phase = thread
            seq += 1
            version += 1
            sender_id = members[rng.getrandbits(1)]
            client_message_id = new_id()
            message_id = message_id_for(sender_id, client_message_id)
            at = clock.tick()
            yield Conversation.MessageSent(
                originator_id=conversation_id,
                originator_version=version,
                timestamp=at,
                message_id=message_id,
                seq=seq,
                sender_id=sender_id,
                body=bodies[rng.randrange(len(bodies))],
                client_message_id=client_message_id,
                reply_to=None,
                mentions=[],
            )
            yield ClientMessageKey.ClientMessageKeyClaimed(
                originator_id=message_id,
                originator_version=1,
                timestamp=at + timedelta(microseconds=1),
                originator_topic=topics[ClientMessageKey],
                sender_id=sender_id,
                client_message_id=client_message_id,
                conversation_id=conversation_id,
                seq=seq,
            )
            count += 2
            if (seq + phase) % RECEIPT_EVERY == 0:  # the other member catches up: markers only move forward
                reader_id = members[1] if sender_id == members[0] else members[0]
                version += 1
                receipt = Conversation.MessagesRead if receipts % 2 else Conversation.MessagesDelivered
                yield receipt(
                    originator_id=conversation_id,
                    originator_version=version,
                    timestamp=clock.tick(),
                    user_id=reader_id,
                    up_to_seq=seq,
                )
                receipts += 1
                count += 1
            thread[2:5] = [version, seq, receipts]


def build_store(container: Container, target: int, batch: int, args: argparse.Namespace) -> dict[str, Any]:
    app = container.app
    mapper, recorder = app.mapper, app.recorder
    pending = []
    count = 0
    by_type: dict[str, int] = {}
    for event in generate(target, args.users, args.connections, args.conversations, args.receipts == "interleaved"):
        name = type(event).__name__
        by_type[name] = by_type.get(name, 0) + 1
        pending.append(event)
        if len(pending) >= batch:
            # mapped together, as one save: a user's key made for its UserRegistered seals its
            # UsernameClaimed too (infrastructure/sealing.py); each message gets a key of its own
            recorder.insert_events(mapper.to_stored_events(pending))
            count += len(pending)
            pending = []
    if pending:
        recorder.insert_events(mapper.to_stored_events(pending))
        count += len(pending)
    return {"events": count, "by_type": by_type, "head": recorder.max_notification_id()}


# -- the phases --------------------------------------------------------------------------------------
def read_all(container: Container, mapped: bool) -> dict[str, Any]:
    recorder, mapper = container.app.recorder, container.app.mapper
    position = count = 0
    while page := recorder.select_notifications(start=position, limit=PAGE, inclusive_of_start=False):
        if mapped:
            for notification in page:
                mapper.to_domain_event(notification)
        count += len(page)
        position = page[-1].id
    return {"events": count}


def rebuild_all(container: Container, batch_size: int | None) -> dict[str, Any]:
    """The online rebuild; the time of its last progress report splits the catch-up from the swap.
    Without `batch_size`, rebuild's own default (what `parley projections rebuild` uses)."""
    if batch_size is None:
        batch_size = inspect.signature(rebuild).parameters["batch_size"].default
    applied = 0
    last_progress = time.perf_counter()

    def progress(n: int) -> None:
        nonlocal applied, last_progress
        applied += n
        last_progress = time.perf_counter()

    began = time.perf_counter()
    live = rebuild(container.app, container.db, progress, batch_size=batch_size)
    ended = time.perf_counter()
    with container.db.transaction(commit=False) as cur:  # a sanity check, outside the timed work
        rows = {
            table: cur.execute(f"SELECT COUNT(*) AS n FROM {LIVE_PREFIX}{table}").fetchone()["n"]  # type: ignore[index]
            for table in ("users", "connections", "conversations", "members", "messages")
        }
    return {
        "events": applied,
        "batch_size": batch_size,
        "position": live.position,
        "catch_up_seconds": round(last_progress - began, 2),
        "swap_seconds": round(ended - last_progress, 2),
        "rows": rows,
    }


def export_all(container: Container, directory: Path) -> dict[str, Any]:
    path = directory / "export.jsonl"
    count = 0
    with path.open("w") as out:
        for item in export_events(container.app):
            out.write(json.dumps(item))
            out.write("\n")
            count += 1
    return {"events": count, "bytes": path.stat().st_size}


def store_size(container: Container) -> int | None:
    """Bytes on disk of the whole database (events and read models)."""
    try:
        with container.db.transaction(commit=False) as cur:
            if container.db.engine == "postgres":
                return int(cur.execute("SELECT pg_database_size(current_database()) AS n").fetchone()["n"])  # type: ignore[index]
            page = cur.execute("PRAGMA page_count").fetchone()
            size = cur.execute("PRAGMA page_size").fetchone()
            return int(next(iter(page.values())) * next(iter(size.values())))  # type: ignore[union-attr]
    except Exception:
        return None


def code_version() -> str:
    """The commit measured, with "+dirty" when the work tree differs from it (figures are per commit)."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = [line[3:] for line in dirty.splitlines() if line.strip()]
    return head + (f"+dirty({', '.join(changed[:3])}{', ...' if len(changed) > 3 else ''})" if changed else "")


# -- main ------------------------------------------------------------------------------------------------
PHASES = ("read", "read_mapped", "rebuild", "export")
DEFAULT_PHASES = ("read", "read_mapped", "rebuild", "read", "export")  # raw read before and after


def run(args: argparse.Namespace, url: str, directory: Path) -> dict[str, Any]:
    container = bootstrap(Settings(database_url=url, jwt_secret="x" * 40), passwords=PlainPasswords())
    common = {
        "database": args.database,
        "target_events": args.events,
        "receipts": args.receipts,
        "commit": code_version(),
    }
    rates: dict[str, float] = {}
    memory: dict[str, dict[str, float]] = {}
    cpu: dict[str, dict[str, float]] = {}
    try:
        with RssSampler() as sampler:
            seconds, built = measure(sampler, lambda: build_store(container, args.events, args.batch, args))
            rates["build"] = built["events"] / seconds
            emit(
                {
                    **common,
                    "phase": "build",
                    "seconds": round(seconds, 2),
                    "events_per_second": round(rates["build"]),
                    "store_bytes": store_size(container),
                    **built,
                }
            )
            memory["build"] = {k: v for k, v in built.items() if k.startswith("rss_") and k != "rss_samples"}
            for phase in args.phases:
                if phase == "read":
                    work = lambda: read_all(container, mapped=False)  # noqa: E731
                elif phase == "read_mapped":
                    work = lambda: read_all(container, mapped=True)  # noqa: E731
                elif phase == "rebuild":
                    work = lambda: rebuild_all(container, args.rebuild_batch)  # noqa: E731
                else:
                    work = lambda: export_all(container, directory)  # noqa: E731
                seconds, result = measure(sampler, work)
                # A phase run twice (the default reads raw before and after the rebuild) keeps its best
                # rate: the raw read swings by a third from run to run on this virtual machine, and the
                # ratio is taken against the faster read.
                rates[phase] = max(rates.get(phase, 0.0), result["events"] / seconds)
                memory[phase] = {k: v for k, v in result.items() if k.startswith("rss_") and k != "rss_samples"}
                cpu[phase] = {k: result[k] for k in ("process_cpu_share", "machine_busy_cores")}
                emit(
                    {
                        **common,
                        "phase": phase,
                        "seconds": round(seconds, 2),
                        "events_per_second": round(result["events"] / seconds),
                        **result,
                    }
                )
    finally:
        container.close()
    summary: dict[str, Any] = {
        **common,
        "phase": "summary",
        "events": built["events"],
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "build_seconds": round(built["events"] / rates["build"], 1),
        "rates": {k: round(v) for k, v in rates.items()},
        "memory_mb": memory,
        "cpu": cpu,
    }
    if {"rebuild", "read"} <= rates.keys():
        vs_raw = rates["rebuild"] / rates["read"]
        summary.update(
            {
                "rebuild_vs_read_raw": round(vs_raw, 3),
                "target": f"rebuild >= {TARGET:.0%} of the (faster) raw read rate",
                "target_met": vs_raw >= TARGET,
            }
        )
    if {"rebuild", "read_mapped"} <= rates.keys():
        summary["rebuild_vs_read_mapped"] = round(rates["rebuild"] / rates["read_mapped"], 3)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--events", type=int, default=1_000_000, help="at least this many events in the store")
    parser.add_argument("--batch", type=int, default=5000, help="events per insert while building the store")
    parser.add_argument(
        "--rebuild-batch",
        type=int,
        default=None,
        help="events per transaction in the rebuild (default: rebuild's own, as `parley projections "
        "rebuild --batch-size`)",
    )
    parser.add_argument(
        "--receipts",
        choices=["interleaved", "synchronized"],
        default="interleaved",
        help="receipts spread through the log (each conversation at its own phase), or every conversation's "
        "receipt in the same round (long runs of messages only between them; the figures before this option)",
    )
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument(
        "--phases",
        default=",".join(DEFAULT_PHASES),
        type=lambda s: [p for p in s.split(",") if p],
        help=f"comma-separated, in order, from {','.join(PHASES)}; a phase named twice runs twice and keeps "
        f"its best rate (default: {','.join(DEFAULT_PHASES)})",
    )
    args = parser.parse_args()
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp, database(args.database, Path(tmp)) as url:
        emit(run(args, url, Path(tmp)))


if __name__ == "__main__":
    main()
