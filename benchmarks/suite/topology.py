"""The servers a workload runs against: the bare relay (the ceiling) and `parley serve` processes."""

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from benchmarks.suite.config import ROOT
from tests.support.server import ServerProcess, free_port


class Relay:
    """benchmarks/bare_relay.py in a process of its own."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bare_relay", "--port", str(self.port)], cwd=ROOT
        )
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
def parley(
    database_url: str, env: dict[str, str] | None = None, args: list[str] | None = None
) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url, env=env, args=tuple(args or ())).start(timeout=60)
    try:
        yield server
    finally:
        server.stop()


def serve_supports(flag: str) -> bool:
    out = subprocess.run(
        [sys.executable, "-m", "interfaces.cli", "serve", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return flag in out
