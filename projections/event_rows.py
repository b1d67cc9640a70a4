"""What the projector hands the read-model updates for each stored event.

Messages and receipts, most of the log, become plain rows of the strings the read models store. They
are read straight from the stored JSON when it is in its class's current shape, without building a
domain event (UUID and datetime objects only to turn them back into strings): several times faster,
and what lets a rebuild keep pace with reading the log. Anything else, an event stored in an older
shape (its upcasters must run), an encrypted or compressed store, or a state this reader does not
expect, goes through the library's mapper, and the rows are taken from the domain event: the same
rows either way (tests/unit/test_event_rows.py). Every other event is handed over as a domain event.
"""

import gc
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from eventsourcing.persistence import JSONTranscoder, Mapper, Notification
from eventsourcing.utils import _topic_cache, get_topic  # _topic_cache: topics registered for renamed classes

from domain.conversations import Conversation
from projections.shapes import iso


class MessageRow(NamedTuple):
    id: str
    conversation_id: str
    seq: int
    sender_id: str
    body: str
    client_message_id: str
    sent_at: str
    reply_to: str | None  # the quoted message's id
    mentions: str  # the mentioned users' ids, space-separated, in order ("" for none)


class ReceiptRow(NamedTuple):
    read: bool  # MessagesRead (else MessagesDelivered)
    conversation_id: str
    user_id: str
    up_to_seq: int
    at: str


def message_row(event: Conversation.MessageSent) -> MessageRow:
    return MessageRow(
        str(event.message_id),
        str(event.originator_id),
        event.seq,
        str(event.sender_id),
        event.body or "",  # None: deleted since (its key is gone; its MessageDeleted follows)
        str(event.client_message_id),
        iso(event.timestamp),
        str(event.reply_to) if event.reply_to is not None else None,
        " ".join(str(u) for u in event.mentions),
    )


def receipt_row(event: Conversation.MessagesDelivered | Conversation.MessagesRead) -> ReceiptRow:
    read = isinstance(event, Conversation.MessagesRead)
    return ReceiptRow(read, str(event.originator_id), str(event.user_id), event.up_to_seq, iso(event.timestamp))


ROWS_FROM_EVENTS: dict[type, Callable[[Any], Any]] = {
    Conversation.MessageSent: message_row,
    Conversation.MessagesDelivered: receipt_row,
    Conversation.MessagesRead: receipt_row,
}


SEALED = "_sealed_"  # a sealed field's stored value: {"_sealed_": [subject hex, token]} (the mapper opens it)


class UnexpectedState(Exception):
    """The stored state is not the shape the direct reader knows: read it through the mapper."""


def _uuid(value: Any) -> str:
    if type(value) is not dict or value.get("_type_") != "uuid_hex" or len(hexa := value["_data_"]) != 32:
        raise UnexpectedState(value)
    return f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:]}"


Ids = dict[str, str]  # hex -> hyphenated, within a window: each user's id is one string object (pickled once)


def _known_uuid(value: Any, ids: Ids) -> str:
    """A UUID that recurs through a window (a sender, a reader): converted once, the same object after."""
    if type(value) is dict and value.get("_type_") == "uuid_hex" and type(hexa := value.get("_data_")) is str:
        known = ids.get(hexa)
        if known is not None:
            return known
    text = _uuid(value)
    ids[value["_data_"]] = text
    return text


def _moment(value: Any) -> str:
    if type(value) is not dict or value.get("_type_") != "datetime_iso":
        raise UnexpectedState(value)
    text = value["_data_"]
    if len(text) == 32 and text.endswith("+00:00"):  # already iso(): UTC with microseconds
        return str(text)
    return iso(datetime.fromisoformat(text))


def _int(value: Any) -> int:
    if type(value) is not int:
        raise UnexpectedState(value)
    return value


def _message(originator_id: str, state: dict[str, Any], ids: Ids) -> MessageRow:
    if type(body := state["body"]) is not str:
        raise UnexpectedState(body)
    if type(mentions := state["mentions"]) is not list:
        raise UnexpectedState(mentions)
    reply_to = state["reply_to"]
    return MessageRow(
        _uuid(state["message_id"]),
        originator_id,
        _int(state["seq"]),
        _known_uuid(state["sender_id"], ids),
        body,
        _uuid(state["client_message_id"]),
        _moment(state["timestamp"]),
        None if reply_to is None else _uuid(reply_to),
        " ".join(_known_uuid(u, ids) for u in mentions) if mentions else "",
    )


def _receipt(read: bool) -> Callable[[str, dict[str, Any], Ids], ReceiptRow]:
    def reader(originator_id: str, state: dict[str, Any], ids: Ids) -> ReceiptRow:
        return ReceiptRow(
            read,
            originator_id,
            _known_uuid(state["user_id"], ids),
            _int(state["up_to_seq"]),
            _moment(state["timestamp"]),
        )

    return reader


Reader = Callable[[str, dict[str, Any], Ids], Any]


# The stored shape each direct reader knows: the class_version it was written for.
DIRECT_READERS: dict[type, tuple[int, Reader]] = {
    Conversation.MessageSent: (2, _message),
    Conversation.MessagesDelivered: (1, _receipt(False)),
    Conversation.MessagesRead: (1, _receipt(True)),
}


def topics_of(classes: list[type]) -> list[str]:
    """The topics stored events of these classes may carry: their own, and any registered for them
    when a class was moved or renamed (`eventsourcing.utils.register_topic`)."""
    wanted = set(classes)
    topics = {get_topic(cls) for cls in classes}
    topics.update(topic for topic, obj in list(_topic_cache.items()) if obj in wanted)
    return sorted(topics)


class EventRows:
    """Stored event -> MessageRow, ReceiptRow, or domain event."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        plain_json = (
            mapper.cipher is None and mapper.compressor is None and isinstance(mapper.transcoder, JSONTranscoder)
        )
        # A store that seals personal fields (infrastructure/sealing.py) opens them; a body whose key is
        # gone reads as "" (the message was deleted: its MessageDeleted follows).
        self.open_value: Callable[[Any, str], Any] | None = getattr(mapper, "open_value", None)
        self.open_tokens: Callable[[list[tuple[bytes, str]], str], list[str | None]] | None = getattr(
            mapper, "open_tokens", None
        )
        self.direct: dict[str, tuple[int, Reader]] = {}
        for cls, (version, reader) in DIRECT_READERS.items():
            if version != getattr(cls, "class_version", 1):
                raise RuntimeError(f"{cls.__qualname__} changed shape: update its reader in {__name__}")
            if plain_json:
                self.direct.update({topic: (version, reader) for topic in topics_of([cls])})

    def preloaded(self, stored: Iterable[Any], keys: Any = None) -> AbstractContextManager[None]:
        """While mapping these stored events: the keys of their sealed fields fetched at once (from
        `keys`, a KeyReader, if given)."""
        preload = getattr(self.mapper, "preloaded", None)
        if preload is None:
            return nullcontext()
        states = (s.state for s in stored)
        context: AbstractContextManager[None] = preload(states, keys) if keys is not None else preload(states)
        return context

    def __call__(self, notification: Any) -> Any:
        """`notification`: a Notification, or a StoredRow (the same fields, read by infrastructure/event_log.py)."""
        direct = self.direct.get(notification.topic)
        if direct is not None:
            version, reader = direct
            try:
                state = orjson.loads(notification.state)
                body = state.get("body")
                if type(body) is dict and self.open_value is not None:
                    state["body"] = self.open_value(body, "body") or ""
                if state.pop("class_version", 1) == version:
                    return reader(str(notification.originator_id), state, {})
            except (orjson.JSONDecodeError, UnexpectedState, KeyError):
                pass  # not a shape the direct reader knows: the mapper below reads it
        if not isinstance(notification, Notification):  # a StoredRow (infrastructure/event_log.py)
            notification = notification.notification()
        event = self.mapper.to_domain_event(notification)
        to_row = ROWS_FROM_EVENTS.get(type(event))
        return to_row(event) if to_row else event

    def window(self, stored: Sequence[Any], keys: Any = None) -> list[Any]:
        """The rows of a window of the log (StoredRows or Notifications, in log order): each what
        `self(n)` gives, with every sealed body's key fetched in one lookup for the window, each JSON
        state parsed once, and the ids that recur (conversations, users) one string object each (the
        batch then pickles them once). The window's states are all parsed before any is read, tens of
        thousands of dicts alive at once: the cyclic garbage collector is paused meanwhile (it would
        walk them again and again, for nothing: they hold no cycles), and runs as usual after."""
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._window(stored, keys)
        finally:
            if paused:
                gc.enable()

    def _window(self, stored: Sequence[Any], keys: Any) -> list[Any]:
        direct = self.direct
        opening = self.open_tokens is not None
        ids: Ids = {}
        # Per stored event: (its reader, its parsed state, the index of its sealed body or -1), or None
        # for the mapper.
        parsed: list[tuple[Reader, dict[str, Any], int] | None] = []
        sealed: list[tuple[bytes, str]] = []  # (subject, token) of each sealed body
        unparsed: list[bytes] = []  # states the mapper reads: their sealed fields' subjects are found in them
        for n in stored:
            entry = None
            known = direct.get(n.topic)
            if known is not None:
                version, reader = known
                try:
                    state = orjson.loads(n.state)
                except orjson.JSONDecodeError:
                    state = None
                if type(state) is dict and state.pop("class_version", 1) == version:
                    body = state.get("body")
                    at = -1
                    if type(body) is dict and opening:
                        value = body.get(SEALED)
                        if type(value) is list and len(value) == 2 and type(value[1]) is str:
                            try:
                                subject = bytes.fromhex(value[0])
                            except (TypeError, ValueError):
                                pass  # the mapper's verdict
                            else:
                                at = len(sealed)
                                sealed.append((subject, value[1]))
                    entry = (reader, state, at)
            if entry is None:
                unparsed.append(n.state)
            parsed.append(entry)
        out: list[Any] = []
        with self._preloaded_with(unparsed, {subject for subject, _ in sealed}, keys):
            opened = self.open_tokens(sealed, "body") if sealed and self.open_tokens is not None else []
            for n, entry in zip(stored, parsed, strict=True):
                if entry is not None:
                    reader, state, at = entry
                    if at >= 0:
                        state["body"] = opened[at] or ""  # None: its key is gone (deleted)
                    originator_id = n.originator_id
                    if type(originator_id) is not str:
                        originator_id = str(originator_id)
                    try:
                        out.append(reader(ids.setdefault(originator_id, originator_id), state, ids))
                        continue
                    except (UnexpectedState, KeyError):
                        pass  # not a shape the direct reader knows: the mapper below reads it
                out.append(self._mapped(n))
        return out

    def _preloaded_with(self, states: list[bytes], subjects: set[bytes], keys: Any) -> AbstractContextManager[None]:
        preload = getattr(self.mapper, "preloaded", None)
        if preload is None:
            return nullcontext()
        context: AbstractContextManager[None] = preload(states, keys, subjects=subjects)
        return context

    def _mapped(self, notification: Any) -> Any:
        if not isinstance(notification, Notification):  # a StoredRow (infrastructure/event_log.py)
            notification = notification.notification()
        event = self.mapper.to_domain_event(notification)
        to_row = ROWS_FROM_EVENTS.get(type(event))
        return to_row(event) if to_row else event
