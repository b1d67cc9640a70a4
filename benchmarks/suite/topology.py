"""The servers a workload runs against: the two ceilings (the bare relay, and the contract relay that
does a send's socket work as the contract demands it) and `parley serve` processes."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from benchmarks.contract_relay import TEST_SECRET as SECRET  # what tests/support/server.py signs tokens with
from benchmarks.suite.config import ROOT
from tests.support.server import ServerProcess, free_port


class Relay:
    """benchmarks/bare_relay.py (or another relay module: benchmarks/contract_relay.py) in a process of its own."""

    def __init__(self, module: str = "benchmarks.bare_relay") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, "--port", str(self.port)],
            cwd=ROOT,
            env={**os.environ, "PARLEY_JWT_SECRET": SECRET},  # the contract relay reads the cast's tokens
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/socket.io/?EIO=4&transport=polling", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{module} did not start")

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
def contract_relay() -> Iterator[Relay]:
    r = Relay("benchmarks.contract_relay")
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
