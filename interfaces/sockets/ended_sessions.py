"""Sockets of sessions ended elsewhere: by `parley users erase` (a process with no sockets), or by a
server process whose message over Redis was missed. Every SESSION_POLL_SECONDS each server process
asks the session store which of its live sockets' sessions have ended, and disconnects those."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

from infrastructure.auth_sessions import SessionStore
from interfaces.runner import Runner

log = logging.getLogger("parley.sockets")
SESSION_POLL_SECONDS = 2.0


async def watch_ended_sessions(
    run: Runner,
    store: SessionStore,
    live_sessions: Callable[[], list[UUID]],
    disconnect: Callable[[list[UUID]], Awaitable[None]],
) -> None:
    while True:
        await asyncio.sleep(SESSION_POLL_SECONDS)
        try:
            sessions = live_sessions()
            ended = await run.call(store.ended_among, sessions) if sessions else []
            if ended:
                await disconnect(ended)
        except Exception:
            log.exception("checking for ended sessions failed; trying again")
