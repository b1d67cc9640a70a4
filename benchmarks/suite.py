"""The benchmark suite of issue 7: one command, bounded in count and time, loopback only.

    python -m benchmarks.suite --database postgres|sqlite|both [--quick]

It starts what it measures (a bare python-socketio relay, `parley serve` on a throwaway database,
the rebuild benchmark in a process of its own) and drives the servers from several client worker
processes (benchmarks/loadgen.py), each running many lightweight clients (benchmarks/wire_client.py).
Workloads, each next to its ceiling measured in the same run where the issue asks for one:

    a  pairs      N pairs chatting, each sender with one message in flight: acknowledged sends/s at
                  a few concurrency levels (relay, then Parley), then p99 send -> message_new with
                  open-loop pacing at half Parley's best rate (Parley, and the relay at the same rate)
    b  fanout     one sender, 50 members of a group conversation: deliveries/s (messages x
                  recipients) and the fan-out latency, relay and Parley
    c  idle       10,000 idle authenticated sockets: the server's RSS before and after, per socket
    d  storm      1,000 followers; a sender keeps sending; all drop at once and reconnect at once,
                  each catching up with get_messages after its last seq: nothing missed, p99 catch-up
    e  rebuild    benchmarks.rebuild (its own process): the store's raw read rate and the rebuild's
    2  two-proc   workload a on two `parley serve --no-projections` processes sharing fan-out through
                  Redis, with `parley projections run` beside them, clients split across them

Every measurement is printed as one JSON line and all of them are written, with the machine, to
benchmarks/results/<UTC date>-<database>-<commit>[-quick].json.
"""

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from queue import Empty
from typing import Any

import aiohttp
import httpx
import psycopg

from benchmarks.loadgen import Sync, raise_nofile, run_job
from benchmarks.wire_client import WireClient
from tests.support.clients import Person
from tests.support.databases import POSTGRES_ADMIN_URL, database
from tests.support.server import ServerProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {
    "pairs_share_of_relay": 0.60,
    "pairs_p99_deliver_ms_at_half_rate": 50.0,
    "idle_kib_per_socket": 100.0,
    "storm_p99_catch_up_ms": 2000.0,
    "rebuild_share_of_raw_read": 0.50,
    "two_process_gain": 1.6,
}


@dataclass
class Config:
    quick: bool
    workers: int
    pair_levels: list[int]
    seconds: float
    group_members: int
    idle_sockets: int
    storm_followers: int
    storm_rate: float
    rebuild_events: int
    profile: bool = False
    skip: set[str] = field(default_factory=set)

    @classmethod
    def make(cls, args: argparse.Namespace) -> "Config":
        quick = args.quick
        return cls(
            quick=quick,
            workers=args.workers,
            pair_levels=args.pairs or ([100] if quick else [50, 100, 200]),
            seconds=args.seconds or (4.0 if quick else 8.0),
            group_members=50,
            idle_sockets=args.idle_sockets or (2_000 if quick else 10_000),
            storm_followers=args.storm_followers or (300 if quick else 1_000),
            storm_rate=200.0,
            rebuild_events=args.rebuild_events or (50_000 if quick else 1_000_000),
            profile=args.profile,
            skip=set(args.skip),
        )


# -- output ------------------------------------------------------------------------------------------------
class Recorder:
    def __init__(self, database: str, config: Config, machine: dict[str, Any]) -> None:
        self.database, self.config, self.machine = database, config, machine
        self.records: list[dict[str, Any]] = []

    def emit(self, record: dict[str, Any]) -> dict[str, Any]:
        record = {"database": self.database, **record, "loadavg": [round(x, 2) for x in os.getloadavg()],
                  "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        self.records.append(record)
        print(json.dumps(record), flush=True)
        return record

    def save(self, summary: dict[str, Any]) -> Path:
        RESULTS.mkdir(exist_ok=True)
        date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        commit = self.machine.get("commit") or "unknown"  # one file per commit: a later run keeps earlier ones
        path = RESULTS / f"{date}-{self.database}-{commit}{'-quick' if self.config.quick else ''}.json"
        body = {"machine": self.machine, "database": self.database, "config": self.config.__dict__ | {"skip": sorted(self.config.skip)},
                "summary": summary, "records": self.records}
        path.write_text(json.dumps(body, indent=1, default=str) + "\n")
        return path


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(round(p / 100 * len(ordered) + 0.4999)))
    return round(ordered[min(rank, len(ordered)) - 1], 2)


def latency(values: list[float]) -> dict[str, Any]:
    return {"p50": pct(values, 50), "p90": pct(values, 90), "p99": pct(values, 99), "max": pct(values, 100),
            "n": len(values)}


# -- the machine ------------------------------------------------------------------------------------------
def git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.rstrip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().split("\n")
    total_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    cpu_model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "unknown")
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=5) as conn:
            postgres = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    except psycopg.Error as error:
        postgres = f"unreachable: {error}".splitlines()[0]
    import sqlite3
    from importlib.metadata import version

    dirty = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines() if line.strip()]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model,
        "ram_gib": round(total_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "postgresql": postgres,
        "sqlite": sqlite3.sqlite_version,
        **{name.replace("-", "_"): version(name) for name in ("python-socketio", "python-engineio", "uvicorn", "aiohttp",
                                                              "eventsourcing", "psycopg")},
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty_files": dirty,
        "ulimit_nofile": raise_nofile(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def cpu_ticks(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def machine_busy() -> tuple[int, int]:
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:9]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


class CpuWindow:
    """CPU used by given processes and by the whole machine over a window, in cores."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def __enter__(self) -> "CpuWindow":
        self.began = time.monotonic()
        self.ticks = {name: cpu_ticks(pid) for name, pid in self.pids.items()}
        self.busy = machine_busy()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.seconds = time.monotonic() - self.began
        self.used = {name: cpu_ticks(pid) - self.ticks[name] for name, pid in self.pids.items()}
        busy = machine_busy()
        total = busy[1] - self.busy[1]
        self.machine_cores = (busy[0] - self.busy[0]) / total * (os.cpu_count() or 1) if total else None

    def report(self, client_cpu_seconds: float | None = None, window: float | None = None) -> dict[str, Any]:
        seconds = window or self.seconds
        out = {f"{name}_cores": round(used / self.seconds, 2) for name, used in self.used.items()}
        if client_cpu_seconds is not None:
            out["load_generator_cores"] = round(client_cpu_seconds / seconds, 2)
        out["machine_busy_cores"] = round(self.machine_cores, 2) if self.machine_cores is not None else None
        return out


# -- profiles ------------------------------------------------------------------------------------------------
PY_SPY = Path(sys.executable).parent / "py-spy"
AREAS = (  # (area, substrings of a frame's file), first match wins, checked from the leaf up
    ("PostgreSQL driver (psycopg)", ("psycopg",)),
    ("SQLite (sqlite3)", ("sqlite3",)),
    ("event store (eventsourcing)", ("eventsourcing",)),
    ("JSON", ("json/",)),
    ("validation (pydantic)", ("pydantic",)),
    ("Socket.IO / Engine.IO", ("socketio", "engineio")),
    ("websockets / HTTP (uvicorn, websockets, starlette)", ("uvicorn", "websockets", "wsproto", "starlette", "h11", "httptools")),
    ("threads (anyio, concurrent.futures, threading)", ("anyio", "concurrent/futures", "threading.py")),
    ("asyncio event loop", ("asyncio",)),
    ("Parley code", ("application/", "domain/", "infrastructure/", "projections/", "interfaces/")),
)


class Profiler:
    """py-spy record of a server process over a measured window (raw collapsed stacks), summarised."""

    def __init__(self, name: str | None, enabled: bool) -> None:
        self.name = name if enabled else None
        self.process: subprocess.Popen[bytes] | None = None
        self.summary: dict[str, Any] | None = None

    def start(self, pid: int, seconds: float) -> None:
        if not self.name:
            return
        if not PY_SPY.exists():
            self.summary = {"skipped": "py-spy is not installed in this environment (pip install py-spy)"}
            return
        self.raw = Path(tempfile.mkstemp(prefix=f"py-spy-{self.name}-", suffix=".txt")[1])
        self.seconds = max(1, int(seconds))
        self.process = subprocess.Popen(
            [str(PY_SPY), "record", "--pid", str(pid), "--duration", str(self.seconds), "--rate", "100",
             "--format", "raw", "--output", str(self.raw), "--nonblocking", "--gil"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def finish(self) -> dict[str, Any] | None:
        if self.process is not None:
            try:
                _, err = self.process.communicate(timeout=self.seconds + 60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                _, err = self.process.communicate()
            self.summary = summarize_profile(self.raw, self.seconds) if self.raw.stat().st_size else {
                "error": err.decode(errors="replace")[-500:]}
            self.raw.unlink(missing_ok=True)
        return self.summary


def summarize_profile(raw: Path, seconds: float, rate: int = 100, top: int = 12) -> dict[str, Any]:
    """Where the server's Python time goes. Sampled with --gil (only the thread holding the GIL), so
    samples / (rate x seconds) is the share of the window the GIL was busy: near 1.0, the process is
    bound by one core of Python. By area (the innermost frame that falls into one), the hottest leaf
    functions, and the project's own functions inclusively."""
    total = 0
    areas: dict[str, int] = {}
    leaves: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        leaf = frames[-1]
        leaves[leaf] = leaves.get(leaf, 0) + count
        area = "other"
        for frame in reversed(frames):
            found = next((name for name, keys in AREAS if any(k in frame for k in keys)), None)
            if found:
                area = found
                break
        areas[area] = areas.get(area, 0) + count
        for frame in set(frames):
            if any(k in frame for k in AREAS[-1][1]) and "site-packages" not in frame:
                inclusive[frame] = inclusive.get(frame, 0) + count

    def share(table: dict[str, int]) -> list[tuple[str, float]]:
        return [(k, round(100 * v / total, 1)) for k, v in sorted(table.items(), key=lambda kv: -kv[1])[:top]]

    return {
        "samples": total,
        "gil_busy_share": round(total / (rate * seconds), 2),
        "by_area_pct": share(areas),
        "top_leaf_pct": share(leaves),
        "parley_inclusive_pct": share(inclusive),
    }


# -- the load generator's pool ---------------------------------------------------------------------------
class Pool:
    """Client worker processes (spawned), and a Manager for the ready/plan handshake."""

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.manager = context.Manager()
        self.executor = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        self.size = workers
        list(self.executor.map(_warm, range(workers * 2)))  # start every worker now, not mid-measurement

    def run(
        self, jobs: list[dict[str, Any]], plan: Callable[[list[dict[str, Any]]], dict[str, Any]],
        ready_timeout: float = 180, timeout: float = 300, on_plan: Callable[[dict[str, Any]], Any] | None = None,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Any]:
        """Run one job per worker: wait until all are ready, publish the plan, collect the results.
        Returns (results, ready infos, what on_plan returned)."""
        assert len(jobs) <= self.size, "one job per worker at most"
        queue, shared = self.manager.Queue(), self.manager.dict()
        sync = Sync(queue, shared)
        futures: list[Future[dict[str, Any]]] = []
        for i, job in enumerate(jobs):
            futures.append(self.executor.submit(run_job, {**job, "worker": i}, sync))
        infos: list[dict[str, Any]] = []
        deadline = time.monotonic() + ready_timeout
        while len(infos) < len(jobs):
            for f in futures:
                if f.done() and f.exception() is not None:
                    raise RuntimeError(f"a load generator worker failed: {f.exception()!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(infos)} of {len(jobs)} workers got ready in {ready_timeout}s")
            with contextlib.suppress(Empty):  # nobody ready in the last 0.2 s: check the workers again
                infos.append(queue.get(timeout=0.2)[1])
        the_plan = plan(infos)
        shared["plan"] = the_plan
        extra = on_plan(the_plan) if on_plan else None
        results = [f.result(timeout=timeout) for f in futures]
        return results, infos, extra

    def close(self, failed: bool = False) -> None:
        if failed:  # workers may be waiting for a plan that will never come
            for process in list(getattr(self.executor, "_processes", {}).values()):
                process.terminate()
        self.executor.shutdown(wait=not failed, cancel_futures=True)
        self.manager.shutdown()


def _warm(_: int) -> int:
    raise_nofile()
    time.sleep(0.05)
    return os.getpid()


def split(items: list[Any], n: int) -> list[list[Any]]:
    return [items[i::n] for i in range(n)]


# -- servers ----------------------------------------------------------------------------------------------
class Relay:
    """benchmarks/bare_relay.py in a process of its own."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, "-m", "benchmarks.bare_relay", "--port", str(self.port)],
                                        cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/socket.io/?EIO=4&transport=polling", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the bare relay did not start")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def relay() -> Iterator[Relay]:
    r = Relay()
    try:
        yield r
    finally:
        r.stop()


@contextmanager
def parley(database_url: str, env: dict[str, str] | None = None, args: list[str] | None = None) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url, env=env, args=tuple(args or ())).start(timeout=60)
    try:
        yield server
    finally:
        server.stop()


# -- people and conversations ----------------------------------------------------------------------------
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
    return cast, {"users": len(cast.everyone), "register_seconds": round(registered, 1),
                  "setup_seconds": round(time.monotonic() - began, 1)}


# -- (a) pairs ------------------------------------------------------------------------------------------
def pairs_run(pool: Pool, url: str, pids: dict[str, int], pairs: list[tuple[str, str, str]], mode: str,
              seconds: float, rate_per_pair: float | None = None, profiler: Profiler | None = None) -> dict[str, Any]:
    workers = min(pool.size, len(pairs))
    jobs = [{"kind": "pairs", "url": url, "pairs": chunk, "mode": mode, "rate_per_pair": rate_per_pair}
            for chunk in split(pairs, workers)]
    window: dict[str, Any] = {}

    def plan(infos: list[dict[str, Any]]) -> dict[str, Any]:
        start = time.time() + 0.5
        return {"start": start, "end": start + seconds}

    def measure(the_plan: dict[str, Any]) -> CpuWindow:
        time.sleep(max(0.0, the_plan["start"] - time.time()))
        if profiler:
            profiler.start(pids["server"], seconds)
        with CpuWindow(pids) as cpu:
            time.sleep(max(0.0, the_plan["end"] - time.time()))
        window["cpu"] = cpu
        return cpu

    results, _, cpu = pool.run(jobs, plan, on_plan=measure, timeout=seconds + 120)
    profile = profiler.finish() if profiler else None
    ack = [x for r in results for x in r["ack_ms"]]
    deliver = [x for r in results for x in r["deliver_ms"]]
    errors: dict[str, int] = {}
    for r in results:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    client_cpu = sum(r["cpu_seconds"] for r in results)
    out = {
        "pairs": len(pairs),
        "seconds": seconds,
        "acked_sends_per_second": round(sum(r["acked_in_window"] for r in results) / seconds, 1),
        "delivered_per_second": round(len(deliver) / seconds, 1),
        "send_to_ack_ms": latency(ack),
        "send_to_message_new_ms": latency(deliver),
        "errors": errors,
        **cpu.report(client_cpu),
    }
    if rate_per_pair:
        out["offered_per_second"] = round(rate_per_pair * len(pairs), 1)
    if profile:
        out["server_profile"] = profile
    return out


def workload_pairs(rec: Recorder, pool: Pool, cfg: Config, cast: Cast | None, url: str, pids: dict[str, int],
                   server: str) -> dict[str, Any]:
    """Closed loop at each concurrency level; returns the best."""
    best: dict[str, Any] = {}
    for level in cfg.pair_levels:
        if cast is None:  # the relay: no users, any conversation id
            pairs = [("relay", "relay", str(uuid.uuid4())) for _ in range(level)]
        else:
            pairs = [(a.token, b.token, c) for a, b, c in cast.pairs[:level]]
        result = pairs_run(pool, url, pids, pairs, "closed", cfg.seconds,
                           profiler=Profiler(f"a-{level}", cfg.profile and cast is not None))
        rec.emit({"workload": "a_pairs", "server": server, "mode": "closed (one message in flight per sender)",
                  **result})
        if result["acked_sends_per_second"] > best.get("acked_sends_per_second", 0):
            best = result
    return best


def workload_pairs_open(rec: Recorder, pool: Pool, cfg: Config, cast: Cast | None, url: str, pids: dict[str, int],
                        server: str, rate: float, pairs_count: int) -> dict[str, Any]:
    if cast is None:
        pairs = [("relay", "relay", str(uuid.uuid4())) for _ in range(pairs_count)]
    else:
        pairs = [(a.token, b.token, c) for a, b, c in cast.pairs[:pairs_count]]
    result = pairs_run(pool, url, pids, pairs, "open", cfg.seconds, rate_per_pair=rate / len(pairs),
                       profiler=Profiler("a-open", cfg.profile and cast is not None))
    rec.emit({"workload": "a_pairs_open_loop", "server": server, "mode": "open loop (paced, Poisson-free uniform schedule)",
              **result})
    return result


# -- (b) fan-out --------------------------------------------------------------------------------------------
def workload_fanout(rec: Recorder, pool: Pool, cfg: Config, url: str, pids: dict[str, int], server: str,
                    sender_token: str, member_tokens: list[str], conversation: str) -> dict[str, Any]:
    workers = pool.size
    chunks = split(member_tokens, workers)
    jobs = [{"kind": "fanout", "url": url, "conversation_id": conversation, "member_tokens": chunk,
             "sender_token": sender_token if i == 0 else None, "window": 1} for i, chunk in enumerate(chunks)]

    def plan(infos: list[dict[str, Any]]) -> dict[str, Any]:
        start = time.time() + 0.5
        return {"start": start, "end": start + cfg.seconds}

    profiler = Profiler("b", cfg.profile and sender_token != "relay")

    def measure(the_plan: dict[str, Any]) -> CpuWindow:
        time.sleep(max(0.0, the_plan["start"] - time.time()))
        profiler.start(pids["server"], cfg.seconds)
        with CpuWindow(pids) as cpu:
            time.sleep(max(0.0, the_plan["end"] - time.time()))
        return cpu

    results, _, cpu = pool.run(jobs, plan, on_plan=measure, timeout=cfg.seconds + 120)
    profile = profiler.finish()
    deliver = [x for r in results for x in r["deliver_ms"]]
    last: dict[float, float] = {}
    for r in results:
        for sent, ms in r["last_by_message"].items():
            last[sent] = max(last.get(sent, 0.0), ms)
    sends = sum(r["sends"] for r in results)
    recipients = len(member_tokens)
    complete = sum(1 for _ in last)  # messages seen by at least one member
    result = {
        "members": recipients,
        "seconds": cfg.seconds,
        "sender_window": 1,
        "acked_messages_per_second": round(sum(r["acked_in_window"] for r in results) / cfg.seconds, 1),
        # deliveries over the time from the first send to the last delivery (a backlog drains after the window)
        "deliveries_per_second": round(len(deliver) / max(cfg.seconds, *(r["last_delivery_s"] for r in results)), 1),
        "last_delivery_after_start_s": round(max(r["last_delivery_s"] for r in results), 2),
        "deliveries_expected": sends * recipients,
        "deliveries_received": len(deliver),
        "per_delivery_ms": latency(deliver),
        "to_last_member_ms": latency(list(last.values())),
        "messages_delivered": complete,
        "errors": {k: v for r in results for k, v in r["errors"].items()},
        **cpu.report(sum(r["cpu_seconds"] for r in results)),
        **({"server_profile": profile} if profile else {}),
    }
    rec.emit({"workload": "b_fanout", "server": server, **result})
    return result


# -- (c) idle sockets ----------------------------------------------------------------------------------------
def workload_idle(rec: Recorder, pool: Pool, cfg: Config, url: str, pid: int, server: str, tokens: list[str],
                  users: int) -> dict[str, Any]:
    time.sleep(1.0)
    before = rss_kib(pid)
    sockets = [tokens[i % len(tokens)] for i in range(cfg.idle_sockets)]
    jobs = [{"kind": "idle", "url": url, "tokens": chunk, "plan_timeout": 300} for chunk in split(sockets, pool.size)]
    measured: dict[str, Any] = {}

    def plan(infos: list[dict[str, Any]]) -> dict[str, Any]:
        time.sleep(3.0)  # settle: handshakes done, presence sent
        measured["rss_after_kib"] = rss_kib(pid)
        measured["connected"] = sum(i["connected"] for i in infos)
        measured["failed"] = sum(i["failed"] for i in infos)
        measured["connect_seconds"] = max(i["connect_seconds"] for i in infos)
        time.sleep(2.0)
        measured["rss_after_5s_kib"] = rss_kib(pid)
        return {"release": time.time() + 0.2}

    results, _, _ = pool.run(jobs, plan, ready_timeout=300, timeout=120)
    time.sleep(3.0)
    after = measured["rss_after_kib"]
    connected = measured["connected"]
    result = {
        "sockets": connected,
        "users": users,
        "failed": measured["failed"],
        "connect_seconds": measured["connect_seconds"],
        "rss_before_mib": round(before / 1024, 1),
        "rss_after_mib": round(after / 1024, 1),
        "rss_after_5s_mib": round(measured["rss_after_5s_kib"] / 1024, 1),
        "rss_after_release_mib": round(rss_kib(pid) / 1024, 1),
        "kib_per_socket": round((max(after, measured["rss_after_5s_kib"]) - before) / max(1, connected), 1),
        "still_open_at_release": sum(r["still_open"] for r in results),
        "failures": [f for r in results for f in r["failures"]][:3],
    }
    rec.emit({"workload": "c_idle", "server": server, **result})
    return result


# -- (d) reconnect storm -------------------------------------------------------------------------------------
def workload_storm(rec: Recorder, pool: Pool, cfg: Config, cast: Cast, url: str, pids: dict[str, int]) -> dict[str, Any]:
    conversations = cast.pairs[: max(1, cfg.storm_followers // 5)]
    followers = [(b.token, c) for k in range(5) for _, b, c in conversations][: cfg.storm_followers]
    senders = [(a.token, c) for a, _, c in conversations]
    workers = pool.size - 1
    jobs = [{"kind": "storm", "url": url, "followers": chunk} for chunk in split(followers, workers)]
    jobs.append({"kind": "storm_sender", "url": url, "senders": senders, "rate": cfg.storm_rate})

    def plan(infos: list[dict[str, Any]]) -> dict[str, Any]:
        start = time.time() + 0.5
        return {"start": start, "drop": start + 2.0, "reconnect": start + 3.0, "stop": start + 6.0,
                "end": start + 9.0}

    profiler = Profiler("d", cfg.profile)

    def measure(the_plan: dict[str, Any]) -> CpuWindow:
        time.sleep(max(0.0, the_plan["reconnect"] - time.time()))
        profiler.start(pids["server"], 3)
        with CpuWindow(pids) as cpu:
            time.sleep(max(0.0, the_plan["stop"] - time.time()))
        return cpu

    results, _, cpu = pool.run(jobs, plan, on_plan=measure, timeout=180)
    profile = profiler.finish()
    heads = results[-1]["heads"]
    reports = [r for res in results[:-1] for r in res["reports"]]
    catch_up = [r["catch_up_ms"] for r in reports if r["catch_up_ms"] is not None]
    behind = [r for r in reports if r["top"] < heads.get(r["conversation"], r["baseline"])]
    result = {
        "followers": len(reports),
        "conversations": len(conversations),
        "sender_rate_per_second": cfg.storm_rate,
        "sent": results[-1]["sent"],
        "send_errors": results[-1]["errors"],
        "reconnect_errors": sum(r["error_count"] for r in results[:-1]),
        "reconnect_error_samples": [e for r in results[:-1] for e in r["errors"]][:3],
        "caught_up": len(catch_up),
        "missing_messages": sum(r["missing"] for r in reports),
        "followers_behind_head": len(behind),
        "seen_both_live_and_fetched": sum(r["duplicates"] for r in reports),
        "catch_up_ms": latency(catch_up),
        "catch_up_phases_p99_ms": {k: pct([r[k] for r in reports if k in r], 99) for k in ("connect_ms", "join_ms", "fetch_ms")},
        "catch_up_phases_p50_ms": {k: pct([r[k] for r in reports if k in r], 50) for k in ("connect_ms", "join_ms", "fetch_ms")},
        "pages_max": max((r["pages"] for r in reports), default=0),
        "missed_while_away_mean": round(sum(r["top"] - r["baseline"] for r in reports) / max(1, len(reports)), 1),
        "nothing_missed": not behind and sum(r["missing"] for r in reports) == 0 and len(catch_up) == len(reports),
        # late, not lost, if the followers short of the head at the end got there within the grace period
        "all_at_head_after_stop_ms": round(max(r["all_at_head_after_stop_ms"] or 0 for r in results[:-1]), 1)
        if all(r["all_at_head_after_stop_ms"] is not None for r in results[:-1]) else None,
        "behind_after_grace": sum(r["behind_after_grace"] for r in results[:-1]),
        **cpu.report(),
        **({"server_profile_during_reconnect": profile} if profile else {}),
    }
    rec.emit({"workload": "d_storm", "server": "parley", **result})
    return result


# -- (e) rebuild --------------------------------------------------------------------------------------------
def workload_rebuild(rec: Recorder, cfg: Config, db: str) -> dict[str, Any]:
    """benchmarks.rebuild in its own process (its memory is its own), phases read (the ceiling) and rebuild."""
    command = [sys.executable, "-m", "benchmarks.rebuild", "--database", db, "--events", str(cfg.rebuild_events),
               "--phases", "read,rebuild"]
    began = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        result = {"error": f"benchmarks.rebuild exited {done.returncode}", "stderr": done.stderr[-2000:]}
        rec.emit({"workload": "e_rebuild", **result})
        return result
    phases = {line["phase"]: line for line in lines}
    summary = phases.get("summary", {})
    rates = summary.get("rates", {})
    rebuild = phases.get("rebuild", {})
    result = {
        "command": " ".join(command[1:]),
        "events": summary.get("events"),
        "raw_read_per_second": rates.get("read"),
        "read_mapped_per_second": rates.get("read_mapped"),
        "rebuild_per_second": rates.get("rebuild"),
        "rebuild_share_of_raw_read": round(rates["rebuild"] / rates["read"], 3) if rates.get("read") and rates.get("rebuild") else None,
        "rebuild_share_of_read_mapped": summary.get("rebuild_vs_read_mapped"),
        "rebuild_rss_mib": {k: rebuild.get(f"rss_{k}_mb") for k in ("start", "peak", "end", "peak_first_half", "peak_second_half")},
        "rebuild_commit": summary.get("commit"),
        "seconds": round(time.monotonic() - began, 1),
    }
    rec.emit({"workload": "e_rebuild", **result})
    return result


# -- 2 processes ----------------------------------------------------------------------------------------------
def serve_supports(flag: str) -> bool:
    out = subprocess.run([sys.executable, "-m", "interfaces.cli", "serve", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60).stdout
    return flag in out


def workload_two_processes(rec: Recorder, pool: Pool, cfg: Config, cast: Cast, database_url: str,
                           one_process_best: dict[str, Any]) -> dict[str, Any]:
    """Workload a (closed loop, the best level of the 1-process run) on two `parley serve --no-projections`
    processes and one `parley projections run`, fan-out through Redis under a key prefix of this run's
    own; client workers alternate between the two servers. The 1-process baseline is measured again
    just before, at the same level, so the gain is not skewed by load that came or went."""
    if not serve_supports("--no-projections"):
        result = {"skipped": "this commit has no `parley serve --no-projections` and Redis fan-out "
                             "(PARLEY_REDIS_URL) yet; the workload runs once they land"}
        rec.emit({"workload": "two_processes", **result})
        return result
    from tests.support.redis import REDIS_URL, redis_prefix
    from tests.support.server import ProjectorProcess

    level = one_process_best.get("pairs") or cfg.pair_levels[-1]
    pairs = [(a.token, b.token, c) for a, b, c in cast.pairs[:level]]
    with parley(database_url) as single:
        baseline = pairs_run(pool, single.url, {"server": single.process.pid}, pairs, "closed", cfg.seconds)  # type: ignore[union-attr]
    rec.emit({"workload": "two_processes_baseline", "server": "1 x parley serve", **baseline})
    with redis_prefix() as prefix:
        env = {"PARLEY_REDIS_URL": REDIS_URL, "PARLEY_REDIS_PREFIX": prefix}
        projector = ProjectorProcess(database_url, env).start(timeout=60)  # after the baseline: one projector at a time
        try:
            with parley(database_url, env=env, args=["--no-projections"]) as one, \
                    parley(database_url, env=env, args=["--no-projections"]) as two:
                pids = {"server1": one.process.pid, "server2": two.process.pid,  # type: ignore[union-attr]
                        "projector": projector.process.pid}  # type: ignore[union-attr]
                urls = [one.url if i % 2 == 0 else two.url for i in range(pool.size)]
                jobs = [{"kind": "pairs", "url": urls[i], "pairs": chunk, "mode": "closed", "rate_per_pair": None}
                        for i, chunk in enumerate(split(pairs, pool.size))]

                def plan(infos: list[dict[str, Any]]) -> dict[str, Any]:
                    start = time.time() + 0.5
                    return {"start": start, "end": start + cfg.seconds}

                profilers = {name: Profiler(f"2-{name}", cfg.profile) for name in ("server1", "projector")}

                def measure(the_plan: dict[str, Any]) -> CpuWindow:
                    time.sleep(max(0.0, the_plan["start"] - time.time()))
                    for name, profiler in profilers.items():
                        profiler.start(pids[name], cfg.seconds)
                    with CpuWindow(pids) as cpu:
                        time.sleep(max(0.0, the_plan["end"] - time.time()))
                    return cpu

                results, _, cpu = pool.run(jobs, plan, on_plan=measure, timeout=cfg.seconds + 120)
                profiles = {name: profiler.finish() for name, profiler in profilers.items()}
        finally:
            projector.stop()
    ack = [x for r in results for x in r["ack_ms"]]
    deliver = [x for r in results for x in r["deliver_ms"]]
    rate = sum(r["acked_in_window"] for r in results) / cfg.seconds
    gain = rate / baseline["acked_sends_per_second"] if baseline["acked_sends_per_second"] else None
    result = {
        "pairs": len(pairs),
        "servers": 2,
        "acked_sends_per_second": round(rate, 1),
        "send_to_ack_ms": latency(ack),
        "send_to_message_new_ms": latency(deliver),
        "delivered_per_second": round(len(deliver) / cfg.seconds, 1),
        "one_process_acked_sends_per_second": baseline["acked_sends_per_second"],
        "gain_over_one_process": round(gain, 2) if gain else None,
        "errors": {k: v for r in results for k, v in r["errors"].items()},
        **cpu.report(sum(r["cpu_seconds"] for r in results)),
        **{f"{name}_profile": profile for name, profile in profiles.items() if profile},
    }
    rec.emit({"workload": "two_processes", "server": "2 x parley serve --no-projections + projections run + Redis",
              **result})
    return result


# -- one database ------------------------------------------------------------------------------------------------
def run_database(db: str, cfg: Config, info: dict[str, Any]) -> dict[str, Any]:
    rec = Recorder(db, cfg, info)
    summary: dict[str, Any] = {"targets": TARGETS}
    pool = Pool(cfg.workers + 1)
    failed = True
    try:
        with tempfile.TemporaryDirectory(prefix="parley-suite-") as tmp, database(db, Path(tmp)) as database_url:
            relay_best: dict[str, Any] = {}
            relay_fanout: dict[str, Any] = {}
            parley_best: dict[str, Any] = {}
            with parley(database_url) as server:
                cast, setup = make_cast(server.url, max(cfg.pair_levels), cfg.group_members)
            rec.emit({"workload": "setup", **setup})
            if "a" not in cfg.skip or "b" not in cfg.skip:
                with relay() as r:
                    pids = {"server": r.pid}
                    if "a" not in cfg.skip:
                        relay_best = workload_pairs(rec, pool, cfg, None, r.url, pids, "bare relay (ceiling)")
                    if "b" not in cfg.skip:
                        tokens = ["relay"] * cfg.group_members
                        relay_fanout = workload_fanout(rec, pool, cfg, r.url, pids, "bare relay (ceiling)", "relay",
                                                       tokens, str(uuid.uuid4()))
            with parley(database_url) as server:
                pids = {"server": server.process.pid}  # type: ignore[union-attr]
                if "a" not in cfg.skip:
                    parley_best = workload_pairs(rec, pool, cfg, cast, server.url, pids, f"parley ({db})")
                    half = parley_best["acked_sends_per_second"] / 2
                    open_pairs = parley_best["pairs"]
                    parley_open = workload_pairs_open(rec, pool, cfg, cast, server.url, pids, f"parley ({db})", half,
                                                      open_pairs)
                    summary["a_pairs"] = {
                        "relay_acked_sends_per_second": relay_best.get("acked_sends_per_second"),
                        "relay_pairs": relay_best.get("pairs"),
                        "parley_acked_sends_per_second": parley_best["acked_sends_per_second"],
                        "parley_pairs": parley_best["pairs"],
                        "parley_p99_ack_ms_at_max": parley_best["send_to_ack_ms"]["p99"],
                        "share_of_relay": round(parley_best["acked_sends_per_second"] / relay_best["acked_sends_per_second"], 3)
                        if relay_best else None,
                        "half_rate_offered": round(half, 1),
                        "parley_p99_send_to_message_new_ms_at_half_rate": parley_open["send_to_message_new_ms"]["p99"],
                        "parley_p50_send_to_message_new_ms_at_half_rate": parley_open["send_to_message_new_ms"]["p50"],
                        "parley_errors": {**parley_best["errors"], **parley_open["errors"]},
                    }
                if "b" not in cfg.skip:
                    fan = workload_fanout(rec, pool, cfg, server.url, pids, f"parley ({db})", cast.hub.token,
                                          [m.token for m in cast.members], cast.group)
                    summary["b_fanout"] = {
                        "relay_deliveries_per_second": relay_fanout.get("deliveries_per_second"),
                        "parley_deliveries_per_second": fan["deliveries_per_second"],
                        "share_of_relay": round(fan["deliveries_per_second"] / relay_fanout["deliveries_per_second"], 3)
                        if relay_fanout else None,
                        "relay_p99_to_last_member_ms": relay_fanout.get("to_last_member_ms", {}).get("p99"),
                        "parley_p99_to_last_member_ms": fan["to_last_member_ms"]["p99"],
                        "parley_p99_per_delivery_ms": fan["per_delivery_ms"]["p99"],
                        "complete": fan["deliveries_received"] == fan["deliveries_expected"],
                    }
                if "d" not in cfg.skip:
                    storm = workload_storm(rec, pool, cfg, cast, server.url, pids)
                    summary["d_storm"] = {k: storm[k] for k in ("followers", "nothing_missed", "missing_messages",
                                                                "followers_behind_head", "behind_after_grace",
                                                                "all_at_head_after_stop_ms", "reconnect_errors")}
                    summary["d_storm"]["p99_catch_up_ms"] = storm["catch_up_ms"]["p99"]
            if "c" not in cfg.skip:
                tokens = [p.token for p in cast.everyone]
                with relay() as r:
                    relay_idle = workload_idle(rec, pool, cfg, r.url, r.pid, "bare relay (reference)", ["relay"], 0)
                with parley(database_url) as server:  # a fresh process: its RSS before is its start-up RSS
                    idle = workload_idle(rec, pool, cfg, server.url, server.process.pid, f"parley ({db})", tokens,  # type: ignore[union-attr]
                                         len(tokens))
                summary["c_idle"] = {"sockets": idle["sockets"], "users": idle["users"],
                                     "kib_per_socket": idle["kib_per_socket"],
                                     "relay_kib_per_socket": relay_idle["kib_per_socket"]}
            if "2" not in cfg.skip:
                two = workload_two_processes(rec, pool, cfg, cast, database_url, parley_best)
                summary["two_processes"] = {k: two.get(k) for k in ("skipped", "pairs", "one_process_acked_sends_per_second",
                                                                    "acked_sends_per_second", "gain_over_one_process")}
        if "e" not in cfg.skip:
            rebuild = workload_rebuild(rec, cfg, db)
            summary["e_rebuild"] = {k: rebuild.get(k) for k in ("events", "raw_read_per_second", "rebuild_per_second",
                                                                "rebuild_share_of_raw_read", "rebuild_rss_mib", "error")}
        failed = False
    finally:
        pool.close(failed)
    summary["verdicts"] = verdicts(summary)
    summary["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path = rec.save(summary)
    print(json.dumps({"database": db, "summary": summary, "results_file": str(path.relative_to(ROOT))}), flush=True)
    return summary


def verdicts(s: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def judge(name: str, value: float | None, target: float, higher_is_better: bool) -> None:
        if value is None:
            return
        met = value >= target if higher_is_better else value <= target
        out[name] = {"value": value, "target": target, "met": met,
                     "by": round(value / target, 3) if target else None}

    a = s.get("a_pairs")
    if a:
        judge("a_share_of_relay", a.get("share_of_relay"), TARGETS["pairs_share_of_relay"], True)
        judge("a_p99_send_to_message_new_ms_at_half_rate", a.get("parley_p99_send_to_message_new_ms_at_half_rate"),
              TARGETS["pairs_p99_deliver_ms_at_half_rate"], False)
    c = s.get("c_idle")
    if c:
        judge("c_kib_per_socket", c.get("kib_per_socket"), TARGETS["idle_kib_per_socket"], False)
    d = s.get("d_storm")
    if d:
        judge("d_p99_catch_up_ms", d.get("p99_catch_up_ms"), TARGETS["storm_p99_catch_up_ms"], False)
        out["d_nothing_missed"] = {"met": bool(d.get("nothing_missed"))}
    e = s.get("e_rebuild")
    if e:
        judge("e_rebuild_share_of_raw_read", e.get("rebuild_share_of_raw_read"), TARGETS["rebuild_share_of_raw_read"], True)
    two = s.get("two_processes")
    if two and not two.get("skipped"):
        judge("two_process_gain", two.get("gain_over_one_process"), TARGETS["two_process_gain"], True)
    return out


def table(paths: list[Path]) -> str:
    """A markdown table of saved results, one column per file (as in benchmarks/README.md)."""
    runs = [json.loads(path.read_text()) for path in paths]

    def get(run: dict[str, Any], *keys: str) -> Any:
        value: Any = run["summary"]
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def num(value: Any, unit: str = "") -> str:
        if value is None:
            return "-"
        return (f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}".rstrip("0").rstrip(".")) + unit

    def share(value: Any) -> str:
        return "-" if value is None else f"{value:.0%}"

    def verdict(run: dict[str, Any], name: str) -> str:
        v = get(run, "verdicts", name)
        return "" if not v else (" (met)" if v["met"] else " (**missed**)")

    rows = [
        ("(a) acknowledged sends/s, bare relay (ceiling)", lambda r: f"{num(get(r, 'a_pairs', 'relay_acked_sends_per_second'))} ({get(r, 'a_pairs', 'relay_pairs')} pairs)"),
        ("(a) acknowledged sends/s, Parley", lambda r: f"{num(get(r, 'a_pairs', 'parley_acked_sends_per_second'))} ({get(r, 'a_pairs', 'parley_pairs')} pairs)"),
        ("(a) Parley / relay (target >= 60%)", lambda r: share(get(r, "a_pairs", "share_of_relay")) + verdict(r, "a_share_of_relay")),
        ("(a) p99 send -> ack at the best rate", lambda r: num(get(r, "a_pairs", "parley_p99_ack_ms_at_max"), " ms")),
        ("(a) p50 / p99 send -> message_new at half that rate (target p99 < 50 ms)",
         lambda r: f"{num(get(r, 'a_pairs', 'parley_p50_send_to_message_new_ms_at_half_rate'))} / "
                   f"{num(get(r, 'a_pairs', 'parley_p99_send_to_message_new_ms_at_half_rate'), ' ms')} at "
                   f"{num(get(r, 'a_pairs', 'half_rate_offered'))}/s" + verdict(r, "a_p99_send_to_message_new_ms_at_half_rate")),
        ("(b) deliveries/s, bare relay (ceiling)", lambda r: num(get(r, "b_fanout", "relay_deliveries_per_second"))),
        ("(b) deliveries/s, Parley", lambda r: num(get(r, "b_fanout", "parley_deliveries_per_second"))),
        ("(b) Parley / relay", lambda r: share(get(r, "b_fanout", "share_of_relay"))),
        ("(b) p99 send -> last member's message_new, relay / Parley",
         lambda r: f"{num(get(r, 'b_fanout', 'relay_p99_to_last_member_ms'))} / {num(get(r, 'b_fanout', 'parley_p99_to_last_member_ms'), ' ms')}"),
        ("(c) KiB per idle socket, Parley (target < 100)", lambda r: f"{num(get(r, 'c_idle', 'kib_per_socket'))} ({num(get(r, 'c_idle', 'sockets'))} sockets, {get(r, 'c_idle', 'users')} users)" + verdict(r, "c_kib_per_socket")),
        ("(c) KiB per idle socket, bare relay (reference)", lambda r: num(get(r, "c_idle", "relay_kib_per_socket"))),
        ("(d) reconnect storm: followers, nothing missed", lambda r: f"{num(get(r, 'd_storm', 'followers'))}, {'yes' if get(r, 'd_storm', 'nothing_missed') else '**no**'} ({get(r, 'd_storm', 'missing_messages')} missing)"),
        ("(d) p99 catch-up (target < 2 s)", lambda r: num(get(r, "d_storm", "p99_catch_up_ms"), " ms") + verdict(r, "d_p99_catch_up_ms")),
        ("(e) raw read, events/s (ceiling)", lambda r: num(get(r, "e_rebuild", "raw_read_per_second"))),
        ("(e) rebuild, events/s", lambda r: f"{num(get(r, 'e_rebuild', 'rebuild_per_second'))} ({num(get(r, 'e_rebuild', 'events'))} events)"),
        ("(e) rebuild / raw read (target >= 50%)", lambda r: share(get(r, "e_rebuild", "rebuild_share_of_raw_read")) + verdict(r, "e_rebuild_share_of_raw_read")),
        ("(e) rebuild RSS start -> peak; peak of 1st / 2nd half (MiB)",
         lambda r: f"{get(r, 'e_rebuild', 'rebuild_rss_mib', 'start')} -> {get(r, 'e_rebuild', 'rebuild_rss_mib', 'peak')}; "
                   f"{get(r, 'e_rebuild', 'rebuild_rss_mib', 'peak_first_half')} / {get(r, 'e_rebuild', 'rebuild_rss_mib', 'peak_second_half')}"),
        ("2 processes: sends/s, 1 -> 2 processes (target gain >= 1.6x)",
         lambda r: get(r, "two_processes", "skipped") and "skipped" or
         f"{num(get(r, 'two_processes', 'one_process_acked_sends_per_second'))} -> {num(get(r, 'two_processes', 'acked_sends_per_second'))} "
         f"({get(r, 'two_processes', 'gain_over_one_process')}x)" + verdict(r, "two_process_gain")),
        ("1-minute load average over the run (min - max)",
         lambda r: f"{min(x['loadavg'][0] for x in r['records'])} - {max(x['loadavg'][0] for x in r['records'])}"),
    ]
    head = "| figure | " + " | ".join(f"{run['database']} ({run['machine']['commit']})" for run in runs) + " |"
    lines = [head, "| --- |" + " --- |" * len(runs)]
    for label, cell in rows:
        cells = []
        for run in runs:
            try:
                cells.append(cell(run))
            except (KeyError, TypeError, IndexError):
                cells.append("-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="smaller counts and shorter windows (about 3 minutes a database)")
    parser.add_argument("--workers", type=int, default=3, help="client worker processes (one more runs the storm's sender)")
    parser.add_argument("--pairs", type=lambda s: [int(x) for x in s.split(",")], default=None,
                        help="concurrency levels of workload a, comma-separated (default 50,100,200; quick 100)")
    parser.add_argument("--seconds", type=float, default=None, help="measured window of each run (default 8; quick 4)")
    parser.add_argument("--idle-sockets", type=int, default=None)
    parser.add_argument("--storm-followers", type=int, default=None)
    parser.add_argument("--rebuild-events", type=int, default=None)
    parser.add_argument("--profile", action="store_true",
                        help="py-spy record the Parley server during workloads a, b and d, summarised in the results")
    parser.add_argument("--skip", type=lambda s: [x for x in s.split(",") if x], default=[],
                        help="workloads to leave out, comma-separated from a,b,c,d,e,2")
    parser.add_argument("--table", nargs="+", type=Path, metavar="RESULTS_JSON",
                        help="print a markdown table of saved results and exit (runs nothing)")
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    cfg = Config.make(args)
    raise_nofile()
    info = machine()
    print(json.dumps({"machine": info}), flush=True)
    for db in (["postgres", "sqlite"] if args.database == "both" else [args.database]):
        run_database(db, cfg, info)


if __name__ == "__main__":
    main()
