"""Real `parley serve` and `parley projections run` processes for end-to-end tests."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ParleyProcess:
    """A `parley` command running as a child process, its output in a log file (a pipe nobody reads
    would fill up and block it)."""

    process: "subprocess.Popen[bytes] | None"
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class ServerProcess(ParleyProcess):
    def __init__(
        self, database_url: str, env: dict[str, str] | None = None, port: int | None = None, args: tuple[str, ...] = ()
    ) -> None:
        self.args = args  # more arguments of `parley serve`, such as --no-projections
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PARLEY_DATABASE_URL": database_url,
            "PARLEY_JWT_SECRET": "test-secret-" + "x" * 32,
            "PARLEY_SEND_RATE_PER_SECOND": "0",
            "PARLEY_BLOB_DIR": tempfile.mkdtemp(prefix="parley-blobs-"),  # one per server, kept across restarts
            **(env or {}),
        }
        self.blob_dir = Path(self.env["PARLEY_BLOB_DIR"])
        self.process: subprocess.Popen[bytes] | None = None
        # The server's log goes to a file: a pipe nobody reads would fill up and block the server.
        self.log_path = Path(tempfile.mkstemp(prefix=f"parley-{self.port}-", suffix=".log")[1])

    def start(self, timeout: float = 30.0) -> "ServerProcess":
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "interfaces.cli", "serve", "--port", str(self.port), *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"parley serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("parley serve did not become ready in time")

    def restart(self) -> "ServerProcess":
        self.stop()
        return self.start()


class ProjectorProcess(ParleyProcess):
    """`parley projections run`: the read models and the broadcasts, in a process of their own."""

    def __init__(self, database_url: str, env: dict[str, str] | None = None) -> None:
        self.env = {
            **os.environ,
            "PARLEY_DATABASE_URL": database_url,
            "PARLEY_JWT_SECRET": "test-secret-" + "x" * 32,
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="parley-projector-", suffix=".log")[1])

    def start(self, timeout: float = 30.0) -> "ProjectorProcess":
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "interfaces.cli", "projections", "run"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while "Projecting from position" not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None:
                raise RuntimeError(f"parley projections run exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("parley projections run did not start in time")
            time.sleep(0.05)
        return self
