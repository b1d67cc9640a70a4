"""Read-side handler: after a batch is projected, tell the affected sockets what changed.

Runs in the broadcaster's thread (projections/broadcast_thread.py), which the projector hands each
batch's changes once the batch has committed, so every event it emits is already reflected by the
read models. Emission itself is handed to an Emitter (the socket server's loop locally, or a
Redis-backed manager when several processes share rooms).
"""

from datetime import UTC, datetime
from typing import Any, Protocol

from projections import shapes
from projections.changes import Change, ConnectionChanged, ConversationChanged, MarkerMoved, MessageAdded
from projections.ports import SqlDatabase
from projections.reads import IsOnline, ReadModelReads
from projections.shapes import Connection, iso


class Emitter(Protocol):
    def emit(self, event: str, payload: Any, room: str) -> None: ...


def user_room(user_id: Any) -> str:
    return f"user:{user_id}"


def conversation_room(conversation_id: Any) -> str:
    return f"conversation:{conversation_id}"


class Broadcaster:
    def __init__(self, db: SqlDatabase, reads: ReadModelReads, emitter: Emitter, is_online: IsOnline) -> None:
        self.db = db
        self.reads = reads
        self.emitter = emitter
        self.is_online = is_online

    def publish(self, changes: list[Change]) -> None:
        # Messages and receipts carry their whole payload: out first, before the read that the
        # summaries and connections need.
        for change in changes:
            if isinstance(change, MessageAdded):
                message = change.message
                self.emitter.emit("message_new", message, conversation_room(message["conversation_id"]))
            elif isinstance(change, MarkerMoved):
                self.emitter.emit(change.event, change.payload, conversation_room(change.payload["conversation_id"]))
        conversations = list(dict.fromkeys(c.conversation_id for c in changes if isinstance(c, ConversationChanged)))
        connections = list(dict.fromkeys(c.connection_id for c in changes if isinstance(c, ConnectionChanged)))
        if not conversations and not connections:
            return
        with self.db.transaction(commit=False) as cur:
            summaries = self.reads.summaries(cur, conversations, self.is_online)
            connection_rows = [self.reads.connection(cur, c) for c in connections]
        for conversation_id in conversations:
            for user_id, summary in summaries.get(conversation_id, {}).items():
                self.emitter.emit("conversation_updated", summary, user_room(user_id))
        for connection in connection_rows:
            if connection is not None:
                self._connection_updated(connection)

    def _connection_updated(self, connection: Connection) -> None:
        parties = [connection["requester"]["id"], connection["addressee"]["id"]]
        for party in parties:
            self.emitter.emit("connection_updated", connection, user_room(party))
        if connection["status"] == "connected":  # newly connected people learn each other's presence
            now = iso(datetime.now(UTC))
            online = self.is_online(parties)
            for party, other in (parties, parties[::-1]):
                if party in online:
                    presence = shapes.presence(party, "online", now)
                    self.emitter.emit("presence", presence, user_room(other))
