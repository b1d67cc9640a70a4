"""The load generator's pool: client worker processes (benchmarks/loadgen.py), one job each, started
together on a plan."""

import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from queue import Empty
from typing import Any

from benchmarks.loadgen import Sync, raise_nofile, run_job


class Pool:
    """Client worker processes (spawned), and a Manager for the ready/plan handshake."""

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.manager = context.Manager()
        self.executor = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        self.size = workers
        list(self.executor.map(_warm, range(workers * 2)))  # start every worker now, not mid-measurement

    def run(
        self,
        jobs: list[dict[str, Any]],
        plan: Callable[[list[dict[str, Any]]], dict[str, Any]],
        ready_timeout: float = 180,
        timeout: float = 300,
        on_plan: Callable[[dict[str, Any]], Any] | None = None,
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
