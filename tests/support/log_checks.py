"""What every fault test ends with: the event log holds each acknowledged message exactly once, seqs
are gap-free, and `parley projections verify` finds the read models equal to a rebuild."""

import os
import subprocess
import sys
import uuid
from typing import Any


def stored_messages(database_url: str, conversation: str) -> list[dict[str, Any]]:
    """Every MessageSent in the event store for the conversation, read from the events themselves."""
    from infrastructure.settings import Settings
    from interfaces.bootstrap import bootstrap

    container = bootstrap(Settings(database_url=database_url, jwt_secret="t" * 40))
    try:
        events = container.app.events.get(uuid.UUID(conversation))
        return [
            {"seq": e.seq, "client_message_id": str(e.client_message_id), "id": str(e.message_id)}
            for e in events
            if type(e).__name__ == "MessageSent"
        ]
    finally:
        container.close()


def assert_acknowledged_exactly_once(database_url: str, conversation: str, acked: dict[str, int]) -> int:
    """Each acknowledged client_message_id stored once, at the seq its ack gave; seqs 1..n without
    gaps. Messages never acknowledged may be stored (a commit whose answer was lost), at most once.
    Returns how many messages are stored."""
    stored = stored_messages(database_url, conversation)
    keys = [m["client_message_id"] for m in stored]
    assert len(keys) == len(set(keys)), "a message was stored twice"
    by_key = {m["client_message_id"]: m["seq"] for m in stored}
    missing = [key for key in acked if key not in by_key]
    assert not missing, f"{len(missing)} acknowledged messages are missing from the log"
    assert all(by_key[key] == seq for key, seq in acked.items()), "an acknowledged message changed its seq"
    assert sorted(by_key.values()) == list(range(1, len(stored) + 1)), "the seqs have a gap or a repeat"
    return len(stored)


def assert_projections_verify(database_url: str) -> None:
    """`parley projections verify`, the operator's command, exits 0."""
    env = {**os.environ, "PARLEY_DATABASE_URL": database_url, "PARLEY_JWT_SECRET": "t" * 40}
    result = subprocess.run(
        [sys.executable, "-m", "interfaces.cli", "projections", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
