"""What the soak judges at the end, each check a plain verdict with the figures behind it.

The store is read through the application (every MessageSent event of every conversation of the run,
as tests/e2e/test_faults.py does), not through the read models, so a projection bug cannot hide a lost
message; the read models are judged separately by `parley projections verify`.
"""

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from benchmarks.soak.load import Load
from benchmarks.soak.topology import JWT_SECRET, Topology


@dataclass
class Stored:
    """conversation -> [(seq, client_message_id, message_id)] in the order of the log."""

    messages: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)

    def head(self, conversation: str) -> int:
        return max((seq for seq, _, _ in self.messages.get(conversation, [])), default=0)


def read_store(database_url: str, conversations: list[str]) -> Stored:
    try:
        from interfaces.bootstrap import bootstrap
    except ImportError:  # before bootstrap moved to interfaces/
        from infrastructure.bootstrap import bootstrap  # type: ignore[no-redef]
    from infrastructure.settings import Settings

    container = bootstrap(Settings(database_url=database_url, jwt_secret=JWT_SECRET), projecting=False)
    try:
        stored = Stored()
        for conversation in conversations:
            events = container.app.events.get(uuid.UUID(conversation))
            stored.messages[conversation] = [
                (e.seq, str(e.client_message_id), str(e.message_id))
                for e in events
                if type(e).__name__ == "MessageSent"
            ]
        return stored
    finally:
        container.close()


def check_store(load: Load, stored: Stored) -> dict[str, dict[str, Any]]:
    """Every acknowledged message stored exactly once at the seq and id its ack gave; no
    client_message_id stored twice; each conversation's seqs 1..n without a gap or a repeat."""
    by_key: dict[str, list[tuple[str, int, str]]] = {}
    for conversation, rows in stored.messages.items():
        for seq, key, message_id in rows:
            by_key.setdefault(key, []).append((conversation, seq, message_id))
    acked = {key: a for c in load.clients for key, a in c.acked.items()}
    lost = [key for key in acked if key not in by_key]
    doubled = [key for key, rows in by_key.items() if len(rows) > 1]
    moved = [
        key
        for key, a in acked.items()
        if key in by_key and len(by_key[key]) == 1 and by_key[key][0] != (a.conversation, a.seq, a.message_id)
    ]
    gaps = {}
    for conversation, rows in stored.messages.items():
        seqs = [seq for seq, _, _ in rows]
        if sorted(seqs) != list(range(1, len(seqs) + 1)):
            repeated = [s for s, n in Counter(seqs).items() if n > 1]
            gaps[conversation] = {"count": len(seqs), "max": max(seqs, default=0), "repeated": repeated[:5]}
    stored_total = sum(len(rows) for rows in stored.messages.values())
    return {
        "acked_stored_once": {
            "ok": not lost and not doubled and not moved,
            "acked": len(acked),
            "stored": stored_total,
            "lost": len(lost),
            "doubled": len(doubled),
            "at_another_seq_or_id": len(moved),
            "examples": (lost + doubled + moved)[:3],
        },
        "seqs_gap_free": {"ok": not gaps, "conversations": len(stored.messages), "with_gaps": gaps},
    }


def check_clients(load: Load, stored: Stored, unreachable: list[str]) -> dict[str, Any]:
    """After the final catch-up every client holds every seq of its conversation, 1 to the stored head."""
    behind = []
    for c in load.clients:
        head = stored.head(c.conversation)
        missing = set(range(1, head + 1)) - c.seen
        if missing:
            behind.append({"client": c.name, "missing": len(missing), "first": min(missing)})
    return {
        "ok": not behind and not unreachable,
        "clients": len(load.clients),
        "behind": behind[:5],
        "behind_count": len(behind),
        "could_not_catch_up": unreachable[:5],
    }


def wait_projected(servers: Topology, timeout: float = 90) -> dict[str, Any]:
    """Until `parley projections status` shows no lag (nothing writes any more)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        done = servers.cli("projections", "status", timeout=60)
        last = done.stdout.strip() or done.stderr.strip()
        rows = [line.split() for line in done.stdout.splitlines() if line.startswith("read_models")]
        if done.returncode == 0 and rows and rows[0][-1] == "0":
            return {"ok": True, "status": last}
        time.sleep(1)
    return {"ok": False, "status": last}


def check_verify(servers: Topology) -> dict[str, Any]:
    projected = wait_projected(servers)
    done = servers.cli("projections", "verify", timeout=300)
    output = (done.stdout + done.stderr).strip().splitlines()
    return {
        "ok": projected["ok"] and done.returncode == 0,
        "exit": done.returncode,
        "caught_up": projected,
        "output": output[:8],
    }
