"""Read-side handler: after a batch is projected, tell the affected sockets what changed.

Runs in the broadcaster's thread (projections/broadcast_thread.py), which the projector hands each
batch's changes once the batch has committed, so every event it emits is already reflected by the
read models. Emission itself is handed to an Emitter (the socket server's loop locally, or a
Redis-backed manager when several processes share rooms).
"""

from datetime import UTC, datetime
from typing import Any, Protocol

from projections import shapes
from projections.changes import (
    Change,
    ConnectionChanged,
    ConversationChanged,
    Departed,
    MarkerMoved,
    MessageAdded,
    MessageUpdated,
    ReactionsChanged,
)
from projections.ports import SqlDatabase
from projections.reads import IsOnline, ReadModelReads
from projections.shapes import Connection, iso


class Emitter(Protocol):
    def emit(self, event: str, payload: Any, room: str) -> None: ...

    def end_of_group(self) -> None:
        """What was emitted so far may leave now: an emitter may hold emits until then and send them
        together (to Redis: one round trip for a batch's events, not one each), in the same order."""


def user_room(user_id: Any) -> str:
    return f"user:{user_id}"


def conversation_room(conversation_id: Any) -> str:
    return f"conversation:{conversation_id}"


def period_room(conversation_id: Any, from_seq: int) -> str:
    """The sockets (joined) of the members whose current period began at `from_seq`: the changes to a
    message go to the rooms of the periods that began at or before it (contract section 7)."""
    return f"conversation:{conversation_id}:since:{from_seq}"


class Broadcaster:
    def __init__(self, db: SqlDatabase, reads: ReadModelReads, emitter: Emitter, is_online: IsOnline) -> None:
        self.db = db
        self.reads = reads
        self.emitter = emitter
        self.is_online = is_online

    def publish(self, changes: list[Change]) -> None:
        """Messages and markers first, then what is read from the read models; what the emitter holds
        leaves at each step's end, whatever fails (emitted changes are not held for a later group)."""
        try:
            self._publish_carried(changes)
            self.emitter.end_of_group()  # messages and markers leave before the read below
            self._publish_read(changes)
        finally:
            self.emitter.end_of_group()

    def _publish_carried(self, changes: list[Change]) -> None:
        """Messages and receipts carry their whole payload: out first, before the read that the
        summaries and connections need (a reply's Quote is read first: the quoted message as it is now;
        so are attachments, each signed afresh)."""
        replies = [c.reply_to for c in changes if isinstance(c, MessageAdded) and c.reply_to]
        with_files = [c.message["id"] for c in changes if isinstance(c, MessageAdded) and c.attachments]
        quotes: dict[str, shapes.Quote] = {}
        attachments: dict[str, list[shapes.Attachment]] = {}
        if replies or with_files:
            with self.db.transaction(commit=False) as cur:
                quotes = self.reads.quotes(cur, list(dict.fromkeys(replies)))
                attachments = self.reads.attachments(cur, with_files)
        for change in changes:
            if isinstance(change, MessageAdded):
                message = change.message
                if change.reply_to:
                    message = {**message, "reply_to": quotes.get(change.reply_to)}
                if change.attachments:
                    message = {**message, "attachments": attachments.get(message["id"], [])}
                self.emitter.emit("message_new", message, conversation_room(message["conversation_id"]))
            elif isinstance(change, MarkerMoved):
                self.emitter.emit(change.event, change.payload, conversation_room(change.payload["conversation_id"]))

    def _publish_read(self, changes: list[Change]) -> None:
        """The changes told from the read models as they are now: summaries, connections, edits and
        reactions."""
        viewers: dict[str, set[str] | None] = {}  # conversation -> whose view changed (None: everyone's)
        for c in changes:
            if isinstance(c, ConversationChanged):
                if c.user_ids is None:
                    viewers[c.conversation_id] = None
                else:
                    seen = viewers.setdefault(c.conversation_id, set())
                    if seen is not None:
                        seen.update(c.user_ids)
        departed = [c for c in changes if isinstance(c, Departed)]
        for d in departed:
            viewers.setdefault(d.conversation_id, set())
        connections = list(dict.fromkeys(c.connection_id for c in changes if isinstance(c, ConnectionChanged)))
        updated = [c for c in changes if isinstance(c, MessageUpdated | ReactionsChanged)]
        if not viewers and not connections and not updated:
            return
        with self.db.transaction(commit=False) as cur:
            messages = self.reads.messages_by_id(
                cur, list(dict.fromkeys(c.message_id for c in updated if isinstance(c, MessageUpdated)))
            )
            reactions = self.reads.reactions(
                cur, list(dict.fromkeys(c.message_id for c in updated if isinstance(c, ReactionsChanged)))
            )
            summaries = self.reads.summaries(cur, list(viewers), self.is_online)
            changed = list(dict.fromkeys(c.message_id for c in updated))
            seqs = self.reads.seqs_of(cur, changed)
            starts = self.reads.period_starts(cur, list(dict.fromkeys(c.conversation_id for c in updated)))
            connection_rows = [self.reads.connection(cur, c) for c in connections]
        for change in updated:  # in log order: the events of one message in the order the store took them
            seq = seqs.get(change.message_id)
            if seq is None:
                continue
            rooms = [
                period_room(change.conversation_id, start)
                for start in starts.get(change.conversation_id, [])
                if start <= seq
            ]
            if isinstance(change, MessageUpdated):
                if change.message_id in messages:
                    for room in rooms:
                        self.emitter.emit("message_updated", messages[change.message_id], room)
            else:
                payload = shapes.reactions_updated(
                    change.conversation_id, change.message_id, reactions.get(change.message_id, [])
                )
                for room in rooms:
                    self.emitter.emit("reactions_updated", payload, room)
        gone = {(d.conversation_id, d.user_id) for d in departed}
        for conversation_id, users in viewers.items():
            for user_id, summary in summaries.get(conversation_id, {}).items():
                if (conversation_id, user_id) in gone:
                    continue  # told below, once, last
                if summary["left"] and users is None:
                    continue  # a former member hears nothing more of it but their own changes (marks, mute)
                if users is None or user_id in users:
                    self.emitter.emit("conversation_updated", summary, user_room(user_id))
        for d in departed:  # their last conversation_updated (left: true); their sockets then leave its room
            last = summaries.get(d.conversation_id, {}).get(d.user_id)
            if last is not None:
                self.emitter.emit("conversation_updated", last, user_room(d.user_id))
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
