"""A process that projects and broadcasts applies its saves' events to the read models in the saves' own
transaction (projections/in_save.py): when a save returns, what it recorded is in the read models and
on its way to the sockets, without the projector reading it back. Positions are applied once and in
order whatever mix of saves, other writers and the projector wrote them, and the result is what a
rebuild from the log gives."""

import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from interfaces.bootstrap import Container
from projections.projector import Projector
from projections.verify import verify


class Emitted:
    """The broadcaster's emitter (projections/broadcasts.py: Emitter), recording what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any, str]] = []
        self._lock = threading.Lock()

    def emit(self, event: str, payload: Any, room: str) -> None:
        with self._lock:
            self.events.append((event, payload, room))

    def end_of_group(self) -> None:
        pass

    def bodies(self) -> list[str]:
        with self._lock:
            return [payload["body"] for event, payload, _ in self.events if event == "message_new"]


def serving(container: Container) -> Emitted:
    """The container as `parley serve` runs it: broadcasting, its projector following the log (here
    woken only by saves that leave their events to it: its idle poll is an hour)."""
    emitted = Emitted()
    container.attach_emitter(emitted)
    container.projector.catch_up()
    container.projector.start(idle_poll_seconds=3600)
    return emitted


def chat(container: Container) -> tuple[UUID, UUID, UUID]:
    app = container.app
    alice = app.register_user(f"alice{uuid4().hex[:6]}", "password").id
    bob_name = f"bob{uuid4().hex[:6]}"
    bob = app.register_user(bob_name, "password").id
    app.accept_connection(app.request_connection(alice, bob_name).id, bob)
    conversation = app.start_conversation(alice, [bob], None).id
    return alice, bob, conversation


def flushed(container: Container, emitted: Emitted) -> list[str]:
    assert container.broadcast_thread is not None and container.broadcast_thread.flush(5)
    return emitted.bodies()


@pytest.fixture
def projector_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The batches the projector itself wrote (their lengths)."""
    written: list[int] = []
    original = Projector._write

    def write(self: Projector, batch: Any) -> bool:
        done = original(self, batch)
        if done and batch.events:
            written.append(batch.end - batch.start)
        return done

    monkeypatch.setattr(Projector, "_write", write)
    return written


def test_a_save_returns_with_its_events_in_the_read_models_and_broadcast(
    make_container: Callable[[], Container], projector_batches: list[int]
) -> None:
    container = make_container()
    emitted = serving(container)
    alice, bob, conversation = chat(container)
    projector_batches.clear()
    for n in range(3):
        sent = container.app.send_message(conversation, alice, uuid4(), f"in save {n}")
        assert sent.position is not None
        assert container.projector.position >= sent.position  # no wait: applied in the save
        messages, _ = container.queries.messages(conversation, bob, None, None, 50)
        assert messages[-1]["body"] == f"in save {n}"
    container.app.mark_read(conversation, bob, 3)
    summaries, _ = container.queries.conversations(alice, 10, None)
    assert summaries[0]["last_message"]["status"] == "read"
    assert flushed(container, emitted) == ["in save 0", "in save 1", "in save 2"]
    assert projector_batches == [], "the projector read back events that their saves had applied"
    assert verify(container.app, container.db).ok


def test_events_another_writer_left_behind_are_applied_first_by_the_next_save(
    make_container: Callable[[], Container], projector_batches: list[int]
) -> None:
    """Another process (here a second container that does not project) records events; this process's
    next save finds the read models behind its own events, reads the missing ones from the log in its
    transaction, and applies them first: every position once, in log order, broadcast in that order."""
    container = make_container()
    emitted = serving(container)
    alice, bob, conversation = chat(container)
    other = make_container()  # no emitter, projector not running: it writes only the log
    for n in range(2):
        other.app.send_message(conversation, bob, uuid4(), f"from elsewhere {n}")
    assert container.projector.position < (other.projector.head())
    projector_batches.clear()
    sent = container.app.send_message(conversation, alice, uuid4(), "from here")
    assert sent.seq == 3 and container.projector.position >= sent.position
    messages, _ = container.queries.messages(conversation, alice, None, None, 50)
    assert [m["body"] for m in messages] == ["from elsewhere 0", "from elsewhere 1", "from here"]
    assert flushed(container, emitted) == ["from elsewhere 0", "from elsewhere 1", "from here"]
    assert projector_batches == []
    assert verify(container.app, container.db).ok


@pytest.mark.parametrize("failure", ["exception", "sql error"])
def test_a_save_that_cannot_apply_its_events_leaves_them_to_the_projector(
    make_container: Callable[[], Container],
    monkeypatch: pytest.MonkeyPatch,
    projector_batches: list[int],
    failure: str,
) -> None:
    """An update that fails inside the save is rolled back to its savepoint: the events stand (the send
    is acknowledged), and the projector applies them, once."""
    container = make_container()
    emitted = serving(container)
    alice, bob, conversation = chat(container)
    assert container.in_save is not None
    updates = container.in_save.updates
    original = updates.apply_batch
    failures = [failure]

    def failing(events: list[Any], cur: Any, members: Any = None) -> Any:
        changes = original(events, cur, members)  # its rows are written, then the savepoint is rolled back
        if failures:
            if failures.pop() == "sql error":
                cur.execute("SELECT no_such_column FROM no_such_table").fetchall()
            raise RuntimeError("an update that fails")
        return changes

    monkeypatch.setattr(updates, "apply_batch", failing)
    projector_batches.clear()
    sent = container.app.send_message(conversation, alice, uuid4(), "left to the projector")
    assert sent.position is not None
    assert container.projector.wait(sent.position, 10)
    assert projector_batches, "the projector did not apply what the save left to it"
    messages, _ = container.queries.messages(conversation, bob, None, None, 50)
    assert [m["body"] for m in messages] == ["left to the projector"]
    summaries, _ = container.queries.conversations(bob, 10, None)
    assert summaries[0]["unread_count"] == 1  # counted once, not twice
    after = container.app.send_message(conversation, alice, uuid4(), "back in the save")
    assert container.projector.position >= after.position
    assert flushed(container, emitted) == ["left to the projector", "back in the save"]
    assert verify(container.app, container.db).ok


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # (SQLite: one writer at a time)
def test_a_save_does_not_wait_for_a_transaction_holding_the_read_models_position(
    make_container: Callable[[], Container], projector_batches: list[int], database_url: str
) -> None:
    """PostgreSQL: while another transaction holds the position row (a projector's batch in another
    process, a rebuild's swap), a save is not held up: it is acknowledged, and its events are applied by
    the projector once the row is free, once."""

    container = make_container()
    emitted = serving(container)
    alice, bob, conversation = chat(container)
    holder = psycopg.connect(database_url)
    holder.execute(f"SELECT * FROM {container.projector.prefix}position FOR UPDATE").fetchall()
    projector_batches.clear()
    sent: list[Any] = []
    sending = threading.Thread(
        target=lambda: sent.append(container.app.send_message(conversation, alice, uuid4(), "hi"))
    )
    sending.start()
    sending.join(timeout=4)  # the lock timeout a waiting save would meet is 5 s
    held = not sending.is_alive()
    holder.rollback()  # the row is free again
    holder.close()
    sending.join(timeout=10)
    assert held, "the save waited for the transaction holding the position"
    assert container.projector.wait(sent[0].position, 10)
    assert projector_batches, "the projector did not apply what the save left to it"
    messages, _ = container.queries.messages(conversation, bob, None, None, 50)
    assert [m["body"] for m in messages] == ["hi"]
    assert flushed(container, emitted) == ["hi"]
    assert verify(container.app, container.db).ok


def test_every_kind_of_change_applied_in_saves_equals_a_rebuild(make_container: Callable[[], Container]) -> None:
    """Edits, deletions, reactions, receipts and membership changes go through the same path; the read
    models then equal those rebuilt from the log (`parley projections verify`)."""
    container = make_container()
    serving(container)
    app = container.app
    alice, bob, direct = chat(container)
    carol_name = f"carol{uuid4().hex[:6]}"
    carol = app.register_user(carol_name, "password").id
    app.accept_connection(app.request_connection(alice, carol_name).id, carol)
    group = app.start_conversation(alice, [bob, carol], "team").id
    first = app.send_message(group, alice, uuid4(), "hello @" + carol_name)
    second = app.send_message(group, bob, uuid4(), "reply", reply_to=first.message_id)
    app.edit_message(group, alice, first.message_id, "hello again")
    app.react(group, carol, second.message_id, "👍", True)
    app.delete_message(group, bob, second.message_id)
    app.mark_read(group, carol, 2)
    app.rename_conversation(group, alice, "the team")
    app.send_message(direct, bob, uuid4(), "direct")
    app.mark_delivered(direct, alice, 1)
    # (on SQLite the deletion was left to the projector: its traces in the files are erased outside
    # any transaction; the saves after it caught up in their own transactions)
    assert container.projector.wait(container.projector.head(), 10)
    result = verify(app, container.db)
    assert result.ok, result.differences
