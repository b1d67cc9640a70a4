"""A throwaway `redis-server` of a test's own, on a port of its own, that the test can kill, start
again (empty, as a real restart leaves it: no persistence) and freeze (SIGSTOP: it holds its
connections and answers nothing, like a Redis that hangs). The shared Redis on 6379 is never touched."""

import shutil
import signal
import subprocess
import time

import redis

from tests.support.server import free_port


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> "RedisServer":
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("these tests need redis-server on PATH (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        client = redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1)
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server on port {self.port} exited with {self.process.returncode}")
                try:
                    if client.ping():
                        return self
                except redis.RedisError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server on port {self.port} did not answer in time") from None
                time.sleep(0.02)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: its connections drop and everything it held (presence, rate-limit buckets) is gone."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen one must be able to die
            self.process.kill()
            self.process.wait()

    def freeze(self) -> None:
        """SIGSTOP: connections stay open and connects still succeed (the kernel accepts them), but
        nothing is answered: every client call can only end by its own timeout."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def keys(self, pattern: str = "*") -> list[str]:
        client = redis.Redis(port=self.port, socket_connect_timeout=2, socket_timeout=2)
        try:
            return [key.decode() for key in client.scan_iter(match=pattern)]
        finally:
            client.close()
