"""A progress bar for the terminal (stderr); silent when stderr is not a terminal."""

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream
        self.started = time.monotonic()
        self.live = stream.isatty()

    def advance(self, count: int) -> None:
        self.done += count
        if self.live:
            fraction = min(self.done / self.total, 1.0)
            bar = "#" * int(fraction * 30)
            rate = self.done / max(time.monotonic() - self.started, 1e-9)
            self.stream.write(f"\r{self.label} [{bar:<30}] {self.done}/{self.total} events, {rate:,.0f}/s")
            self.stream.flush()

    def finish(self) -> float:
        elapsed = time.monotonic() - self.started
        if self.live:
            self.stream.write("\n")
        return elapsed
