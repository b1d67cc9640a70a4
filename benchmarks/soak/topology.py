"""What the soak runs against, all on loopback: a PostgreSQL of its own, a redis-server of its own,
two `parley serve --no-projections` processes and one `parley projections run` sharing them.

PostgreSQL: a throwaway cluster (initdb, pg_ctl as the postgres user), so a "PostgreSQL restart" is a
real one: `pg_ctl stop -m fast` (every backend terminated, a checkpoint), down for a few seconds, then
`pg_ctl start`. Where that is not possible (not root, no initdb) a throwaway database on the local
server behind tests/support/tcp_proxy.py stands in: the restart then cuts every connection and
refuses new ones for the same few seconds.
"""

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol

import psycopg
import redis

from tests.support.server import ProjectorProcess, ServerProcess, free_port

JWT_SECRET = "soak-secret-" + "x" * 32


class Postgres(Protocol):
    url: str
    kind: str

    def restart(self, down_seconds: float) -> None: ...


def postgres_bin() -> Path | None:
    """The directory of initdb and pg_ctl (Debian keeps them out of PATH)."""
    if found := shutil.which("pg_ctl"):
        return Path(found).parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    return Path(dirs[-1]) if dirs and Path(dirs[-1], "initdb").exists() else None


def can_run_cluster() -> bool:
    return os.geteuid() == 0 and postgres_bin() is not None and shutil.which("runuser") is not None


class PostgresCluster:
    """A cluster of its own in a temporary directory, owned by the postgres user, fsync on."""

    kind = "cluster (initdb + pg_ctl, restarted for real)"

    def __init__(self, workdir: Path) -> None:
        bindir = postgres_bin()
        assert bindir is not None
        self.bin = bindir
        self.root = workdir / "postgres"
        self.data = self.root / "data"
        self.logfile = self.root / "postgres.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/parley_soak"

    def _as_postgres(self, *args: str, timeout: float = 60) -> None:
        command = ["runuser", "-u", "postgres", "--", *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr or done.stdout}")

    def create(self) -> "PostgresCluster":
        self.root.mkdir(parents=True)
        shutil.chown(self.root, "postgres", "postgres")
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nmax_connections = 100\n"
            )
        self.start()
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute("CREATE DATABASE parley_soak")
        return self

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, down_seconds: float) -> None:
        self.stop("fast")
        time.sleep(down_seconds)  # down on purpose: requests arrive while nothing listens
        self.start()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def proxied_postgres() -> Iterator[Postgres]:
    """The fallback: a throwaway database on 127.0.0.1:5432 behind a TCP proxy this process controls."""
    from tests.support.databases import postgres_database
    from tests.support.tcp_proxy import TcpProxy

    with postgres_database() as url:
        proxy = TcpProxy("127.0.0.1", 5432)

        class Proxied:
            kind = "database on 127.0.0.1:5432 behind a TCP proxy (restart = cut, refuse, restore)"

            def __init__(self) -> None:
                self.url = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")

            def restart(self, down_seconds: float) -> None:
                proxy.cut()
                time.sleep(down_seconds)
                proxy.restore()

        yield Proxied()
        proxy.cut()


@contextlib.contextmanager
def postgres(choice: str, workdir: Path) -> Iterator[Postgres]:
    """`cluster`, `proxy`, or `auto` (a cluster where this process may run one)."""
    if choice == "cluster" or (choice == "auto" and can_run_cluster()):
        cluster = PostgresCluster(workdir)
        try:
            yield cluster.create()
        finally:
            cluster.close()
    else:
        with proxied_postgres() as proxied:
            yield proxied


class RedisServer:
    """redis-server on a free port, no persistence: a restart (kill -9, start) forgets every key,
    as a real one without persistence would."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.logfile = workdir / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20) -> "RedisServer":
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("the soak needs redis-server (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
                "--logfile",
                str(self.logfile),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                client.close()
                return self
            except redis.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: see {self.logfile}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def restart(self, down_seconds: float) -> None:
        self.kill()
        time.sleep(down_seconds)
        self.start()


class Topology:
    """Two servers (`a` is the one the faults kill, `b` is never killed: its RSS is the one judged)
    and the projector, sharing one database and one Redis under a key prefix of this run."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        self.env = {
            "PARLEY_JWT_SECRET": JWT_SECRET,
            "PARLEY_REDIS_URL": redis_url,
            "PARLEY_REDIS_PREFIX": f"soak-{uuid.uuid4().hex[:8]}",
            "PARLEY_SEND_RATE_PER_SECOND": "0",
        }
        self.database_url = database_url
        self.a = ServerProcess(database_url, self.env, args=("--no-projections",))
        self.b = ServerProcess(database_url, self.env, args=("--no-projections",))
        self.projector = ProjectorProcess(database_url, self.env)
        self.projector_logs = [self.projector.log_path]

    def start(self) -> "Topology":
        self.a.start(timeout=60)  # creates the tables
        self.projector.start(timeout=60)
        self.b.start(timeout=60)
        return self

    @contextlib.contextmanager
    def setup_server(self) -> Iterator[ServerProcess]:
        """A third server, stopped before the load, for registering users and starting conversations:
        the two measured servers then start the load alike (argon2 leaves a process ~150 MB larger,
        and a process that created the aggregates it caches served sends far slower; see the README)."""
        server = ServerProcess(self.database_url, self.env, args=("--no-projections",)).start(timeout=60)
        try:
            yield server
        finally:
            server.stop()

    def restart_projector(self) -> None:
        """ProjectorProcess.start waits for its start line in the log: a new log for each start."""
        self.projector.log_path = Path(tempfile.mkstemp(prefix="parley-projector-", suffix=".log")[1])
        self.projector_logs.append(self.projector.log_path)
        self.projector.start(timeout=60)

    def pids(self) -> dict[str, int | None]:
        return {
            name: (p.process.pid if p.process and p.process.poll() is None else None)
            for name, p in (("server_a", self.a), ("server_b", self.b), ("projector", self.projector))
        }

    def cli_env(self) -> dict[str, str]:
        return {**os.environ, **self.env, "PARLEY_DATABASE_URL": self.database_url}

    def cli(self, *args: str, timeout: float = 120) -> "subprocess.CompletedProcess[str]":
        """`parley <args>` against this topology's database."""
        return subprocess.run(
            [sys.executable, "-m", "interfaces.cli", *args],
            env=self.cli_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def stop(self) -> None:
        for process in (self.a, self.b, self.projector):
            with contextlib.suppress(Exception):
                process.stop()


@contextlib.contextmanager
def topology(postgres_choice: str) -> Iterator[tuple[Postgres, RedisServer, Topology]]:
    """Everything started, and stopped and removed afterwards whatever happens."""
    workdir = Path(tempfile.mkdtemp(prefix="parley-soak-"))
    workdir.chmod(0o755)  # the postgres user must reach its cluster inside
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, True)
        db = stack.enter_context(postgres(postgres_choice, workdir))
        redis_server = RedisServer(workdir).start()
        stack.callback(redis_server.kill)
        servers = Topology(db.url, redis_server.url)
        stack.callback(servers.stop)
        servers.start()
        yield db, redis_server, servers
