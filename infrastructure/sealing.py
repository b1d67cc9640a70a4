"""Personal data sealed in the log, each field under its subject's own key ("crypto-shredding").

The fields domain/personal_data.py names are stored as `{"_sealed_": [subject, token]}`: AES-256-GCM
(the `cryptography` package) under a random key of the subject's, with the subject and the field's name
as associated data, so a sealed value cannot be moved to another field or subject. Keys live in the
`subject_keys` table, beside the log but not in it, written in the same transaction as the first event
that uses them (SealedStoredEvent -> the recorders in infrastructure/*_recorder.py). Destroying a key
(`SubjectKeys.destroy`, run by the projector when an event says the data must go) makes every sealed
copy unreadable while no stored event changes; reading it then gives None.

Reads look keys up a batch at a time: `preloaded(states)` finds the subjects in the stored bytes and
fetches their keys with one query, for as long as the batch is mapped (the projector's window, an
aggregate's events, a page of an export). No key is cached beyond that, so a key destroyed by another
process is never used again here.
"""

import base64
import binascii
import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import EventStore, Mapper, Notification, Recording, StoredEvent
from eventsourcing.utils import get_topic

from domain.personal_data import PERSONAL_FIELDS

SEALED = "_sealed_"
SUBJECT_IN_STATE = re.compile(rb'"_sealed_":\s*\["([0-9a-f]{32})"')
KEY_BYTES = 32
NONCE_BYTES = 12


@dataclass(frozen=True)
class SealedStoredEvent(StoredEvent):
    """A stored event with the keys its sealed fields need that are not in the store yet."""

    new_keys: tuple[tuple[bytes, bytes], ...] = field(default=(), compare=False)


def new_keys_of(stored_events: Sequence[StoredEvent]) -> list[tuple[bytes, bytes]]:
    keys: dict[bytes, bytes] = {}
    for stored in stored_events:
        keys.update(getattr(stored, "new_keys", ()))
    return list(keys.items())


def keys_table_sql(engine: str) -> str:
    if engine == "postgres":
        return "CREATE TABLE IF NOT EXISTS subject_keys (subject BYTEA PRIMARY KEY, key BYTEA NOT NULL)"
    return "CREATE TABLE IF NOT EXISTS subject_keys (subject BLOB PRIMARY KEY, key BLOB NOT NULL) WITHOUT ROWID"


def destroy_keys_sql(engine: str, count: int) -> str:
    marks = ", ".join(["?"] * count)
    return f"DELETE FROM subject_keys WHERE subject IN ({marks})"


# A subject's key is made once, by the event that starts it: a second one for the same subject would
# leave that event unreadable, so it fails the whole transaction instead (an IntegrityError).
INSERT_KEYS_SQLITE = "INSERT INTO subject_keys (subject, key) VALUES (?, ?)"
INSERT_KEYS_POSTGRES = "INSERT INTO subject_keys (subject, key) SELECT * FROM unnest(%s::bytea[], %s::bytea[])"


class KeyReader(Protocol):
    """Where the mapper finds keys: the store (infrastructure/subject_keys.py) or memory (tests)."""

    def get_many(self, subjects: Iterable[bytes]) -> dict[bytes, bytes]: ...


class MemoryKeys:
    """The in-memory store's keys (infrastructure/memory_store.py, for unit tests)."""

    def __init__(self) -> None:
        self.keys: dict[bytes, bytes] = {}

    def get_many(self, subjects: Iterable[bytes]) -> dict[bytes, bytes]:
        return {s: self.keys[s] for s in subjects if s in self.keys}

    def add(self, keys: Iterable[tuple[bytes, bytes]]) -> None:
        self.keys.update(keys)

    def destroy(self, subjects: Iterable[UUID]) -> None:
        for subject in subjects:
            self.keys.pop(subject.bytes, None)


def _aad(subject: bytes, name: str) -> bytes:
    return subject + name.encode()


def seal(key: bytes, subject: bytes, name: str, value: str) -> dict[str, list[str]]:
    nonce = os.urandom(NONCE_BYTES)
    token = nonce + AESGCM(key).encrypt(nonce, value.encode(), _aad(subject, name))
    return {SEALED: [subject.hex(), base64.b64encode(token).decode()]}


def is_sealed(value: Any) -> bool:
    return type(value) is dict and SEALED in value


def open_sealed(key: bytes | None, value: dict[str, list[str]], name: str) -> str | None:
    if key is None:
        return None  # the key was destroyed: erased
    subject_hex, token_b64 = value[SEALED]
    return open_token(key, bytes.fromhex(subject_hex), name, token_b64)


def open_token(key: bytes, subject: bytes, name: str, token_b64: str) -> str:
    """A sealed value's text from its token (base64 of nonce + ciphertext + tag)."""
    token = binascii.a2b_base64(token_b64)  # what base64.b64decode does, without its wrapper
    plain = AESGCM(key).decrypt(token[:NONCE_BYTES], token[NONCE_BYTES:], subject + name.encode())
    return plain.decode()


class SealingMapper(Mapper[UUID]):
    """The library's mapper, sealing and opening the personal fields. Events without personal fields
    are stored exactly as the library stores them."""

    keys: KeyReader

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys = MemoryKeys()
        self._local = threading.local()

    # -- writing ---------------------------------------------------------------------------------
    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        return self.to_stored_events([domain_event])[0]

    def to_stored_events(self, domain_events: Sequence[Any]) -> list[StoredEvent]:
        """The events of one save: a key made for one of them serves the others (a user's names in its
        UserRegistered and its UsernameClaimed)."""
        made: dict[bytes, bytes] = {}
        return [self._stored(event, made) for event in domain_events]

    def _stored(self, domain_event: Any, made: dict[bytes, bytes]) -> StoredEvent:
        fields = PERSONAL_FIELDS.get(type(domain_event))
        if not fields:
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        new: dict[bytes, bytes] = {}
        for personal in fields:
            value = state.get(personal.name)
            if value is None:
                continue
            subject = personal.subject(domain_event).bytes
            key = made.get(subject)
            if key is None and not personal.new_subject:
                key = self.keys.get_many([subject]).get(subject)
            if key is None:  # a new subject (or one whose key is gone: what is written now is sealed afresh)
                key = made[subject] = new[subject] = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
            state[personal.name] = seal(key, subject, personal.name, value)
        stored_state = self.transcoder.encode(state)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        return SealedStoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=stored_state,
            new_keys=tuple(new.items()),
        )

    # -- reading ---------------------------------------------------------------------------------
    @contextmanager
    def preloaded(
        self, states: Iterable[bytes], keys: KeyReader | None = None, subjects: Iterable[bytes] = ()
    ) -> Iterator[None]:
        """Fetch, with one query, the keys of every subject sealed in these stored states (and of
        `subjects`, found by a caller that parsed its states), for as long as the block runs (in this
        thread); from `keys` if given (a transaction's own), else the store."""
        wanted = {bytes.fromhex(m.decode()) for state in states for m in SUBJECT_IN_STATE.findall(state)}
        wanted.update(subjects)
        outer = getattr(self._local, "keys", None)
        found = (keys or self.keys).get_many(wanted) if wanted else {}
        self._local.keys = {**(outer or {}), **{s: found.get(s) for s in wanted}}
        try:
            yield
        finally:
            self._local.keys = outer

    def key_of(self, subject: bytes) -> bytes | None:
        preloaded: dict[bytes, bytes | None] | None = getattr(self._local, "keys", None)
        if preloaded is not None and subject in preloaded:
            return preloaded[subject]
        return self.keys.get_many([subject]).get(subject)

    def open_value(self, value: Any, name: str) -> Any:
        """A stored field's value: opened when sealed (None when its key is gone), else as it is."""
        if not is_sealed(value):
            return value
        return open_sealed(self.key_of(bytes.fromhex(value[SEALED][0])), value, name)

    def open_tokens(self, sealed: list[tuple[bytes, str]], name: str) -> list[str | None]:
        """The values of many sealed fields of one name, from their parts (subject, token) whose keys
        are preloaded (None where a key is gone): what `open_value` gives each, in one call."""
        preloaded: dict[bytes, bytes | None] = getattr(self._local, "keys", None) or {}
        aad = name.encode()
        opened: list[str | None] = []
        append = opened.append
        for subject, token_b64 in sealed:
            key = preloaded[subject] if subject in preloaded else self.key_of(subject)
            if key is None:
                append(None)
                continue
            token = binascii.a2b_base64(token_b64)
            append(AESGCM(key).decrypt(token[:NONCE_BYTES], token[NONCE_BYTES:], subject + aad).decode())
        return opened

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event = super().to_domain_event(stored_event)
        state = event.__dict__
        for name, value in state.items():
            if type(value) is dict and SEALED in value:
                state[name] = self.open_value(value, name)
        return event


class SealedEventStore(EventStore[UUID]):
    """The library's event store, sealing a save's events together and preloading the keys of the
    events it reads."""

    mapper: SealingMapper

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        stored_events = self.mapper.to_stored_events(domain_events)
        # (the domain events too: where the read models are updated in the same transaction, they are
        # applied from them, not read back: infrastructure/projection_in_save.py)
        notification_ids = self.recorder.insert_events(stored_events, domain_events=domain_events, **kwargs)
        if not notification_ids:
            return []
        return [
            Recording(d, Notification(s.originator_id, s.originator_version, s.topic, s.state, n))
            for d, s, n in zip(domain_events, stored_events, notification_ids, strict=True)
        ]

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[Any]:
        stored = self.recorder.select_events(originator_id=originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        with self.mapper.preloaded(s.state for s in stored):
            events = [self.mapper.to_domain_event(s) for s in stored]
        return iter(events)
