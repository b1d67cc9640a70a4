"""uvicorn's server with an orderly, bounded stop on SIGTERM (or Ctrl-C).

What uvicorn (0.54) does alone on SIGTERM, with Socket.IO's websockets open: within 0.1 s it closes
the listening socket, then every websocket at once (close code 1012), while socket events are still
being handled (their acks are lost, though their writes may be stored), then runs the lifespan's
shutdown, and finally raises SIGTERM again with the default handler restored, so the process dies of
the signal (status -15, not 0). It never waits for websockets, so it does not hang; it just drops.

Here, at the signal: the listening socket closes and the gate refuses new handshakes and events
(`internal`, nothing done) at once; then the drain (interfaces/drain.py) lets what is in flight finish
and sends what is queued, within `DRAIN_SECONDS`; then uvicorn closes the websockets (1012: clients
reconnect, to another process or to this one restarted), waits `timeout_graceful_shutdown` for HTTP
requests, and the lifespan stops the rest (bounded, asgi.py). The process exits 0. A watchdog ends it
(status 1) if all that has not finished after `HARD_EXIT_SECONDS`: nothing acknowledged is lost even
then, since an ack is only sent once its write is durable.
"""

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from types import FrameType

import uvicorn

from interfaces.drain import Drain

log = logging.getLogger("parley.shutdown")

DRAIN_SECONDS = 3.5  # in-flight events, group commit, projector, broadcasts (then 0.5 s of writes)
HTTP_SECONDS = 1  # uvicorn's timeout_graceful_shutdown: HTTP requests still running
THREADS_SECONDS = 0.5  # after the stop, for worker threads to finish their calls
HARD_EXIT_SECONDS = 9.5  # from the signal: orchestrators commonly SIGKILL at 10 s


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self.drain = drain
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn raises the signal that stopped it again once it has stopped, with the handler from
        # before `run`: the default one would kill the process now that it stopped in order.
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _stopped) if main else None
        try:
            super().run(sockets=sockets)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        if self._stopping:
            exit_past_stuck_threads(THREADS_SECONDS)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop_accepting)  # now, not at the next tick

    def _stop_accepting(self) -> None:
        """No new connection, handshake, event or HTTP request from here on; what runs goes on."""
        if self._stopping:
            return
        self._stopping = True
        log.info("stopping: no new connections")
        watchdog = threading.Timer(HARD_EXIT_SECONDS, _hard_exit)
        watchdog.daemon = True
        watchdog.start()
        for server in getattr(self, "servers", []):
            server.close()  # the listening socket only: open connections stay
        self.drain.stop_accepting()
        for connection in list(self.server_state.connections):
            if isinstance(connection, self.config.http_protocol_class):  # not websockets: not yet
                connection.shutdown()  # idle keep-alive connections close; a running request ends, then closes

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._stop_accepting()
        if not self.force_exit:
            await self.drain(DRAIN_SECONDS)
        await super().shutdown(sockets=sockets)


def exit_past_stuck_threads(seconds: float) -> None:
    """Python's exit waits for every non-daemon thread, such as a worker thread in a database call that
    never returns (a stalled network); its caller was answered long ago. Give them `seconds`, then
    exit (0: the stop itself was orderly) without them."""
    others = [t for t in threading.enumerate() if not t.daemon and t is not threading.current_thread()]
    deadline = time.monotonic() + seconds
    for thread in others:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [thread.name for thread in others if thread.is_alive()]
    if stuck:
        log.warning("exiting without %d threads stuck in calls: %s", len(stuck), ", ".join(sorted(set(stuck))))
        logging.shutdown()
        _flush_and_exit(0)


def _stopped(signum: int, frame: FrameType | None) -> None:
    """SIGTERM once uvicorn has stopped (it raises it again): the stop is done, nothing to do."""


def _hard_exit() -> None:
    log.error("shutdown did not finish within %.1f s; exiting now", HARD_EXIT_SECONDS)
    _flush_and_exit(1)


def _flush_and_exit(status: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or broken pipe: exiting all the same
            stream.flush()
    os._exit(status)
