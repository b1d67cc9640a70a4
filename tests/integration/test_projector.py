"""The projector applies each event exactly once: across restarts, crashes mid-batch, and rivals."""

import threading
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

from interfaces.bootstrap import Container
from projections.event_rows import MessageRow
from projections.projector import Projector
from projections.tables import LIVE_PREFIX


def chat(container: Container, messages: int) -> Any:
    app = container.app
    alice = app.register_user("alice", "password").id
    bob = app.register_user("bob", "password").id
    app.accept_connection(app.request_connection(alice, "bob").id, bob)
    conversation = app.start_conversation(alice, [bob], None).id
    for n in range(messages):
        app.send_message(conversation, alice if n % 2 else bob, uuid4(), f"message {n}")
    return conversation


def message_seqs(container: Container) -> list[int]:
    with container.db.transaction(commit=False) as cur:
        return [r["seq"] for r in cur.execute(f"SELECT seq FROM {LIVE_PREFIX}messages ORDER BY seq").fetchall()]


def unread(container: Container) -> list[int]:
    with container.db.transaction(commit=False) as cur:
        rows = cur.execute(f"SELECT unread_count FROM {LIVE_PREFIX}members ORDER BY unread_count").fetchall()
    return [r["unread_count"] for r in rows]


def test_a_restarted_projector_resumes_where_it_stopped(make_container: Callable[[], Container]) -> None:
    first = make_container()
    chat(first, 10)
    first.projector.batch_size = 7
    first.projector.run_batch()
    stopped_at = first.projector.position
    assert 0 < stopped_at < first.projector.head()

    second = make_container()  # a new process: reads the recorded position
    assert second.projector.position == stopped_at
    second.projector.catch_up()
    assert message_seqs(second) == list(range(1, 11))
    assert unread(second) == [5, 5]


def test_a_crash_mid_batch_applies_nothing_of_that_batch(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    chat(container, 6)
    projector = container.projector
    real_apply = projector.updates.apply
    seen = []

    def crash_on_the_fourth_message(event: Any, cur: Any) -> Any:
        if isinstance(event, MessageRow) and event.seq == 4:
            raise RuntimeError("power cut")
        seen.append(event)
        return real_apply(event, cur)

    monkeypatch.setattr(projector.updates, "apply", crash_on_the_fourth_message)
    with pytest.raises(RuntimeError):
        projector.catch_up()
    assert projector.position == 0 and message_seqs(container) == []
    with container.db.transaction(commit=False) as cur:  # written before the crash, rolled back with it
        assert cur.execute(f"SELECT COUNT(*) AS n FROM {LIVE_PREFIX}users").fetchone()["n"] == 0

    monkeypatch.setattr(projector.updates, "apply", real_apply)
    projector.catch_up()
    assert message_seqs(container) == [1, 2, 3, 4, 5, 6]
    assert unread(container) == [3, 3]


def test_two_projectors_on_the_same_tables_never_apply_an_event_twice(
    make_container: Callable[[], Container],
) -> None:
    first = make_container()
    chat(first, 40)
    second = make_container()
    rivals = [first.projector, second.projector]
    for projector in rivals:
        projector.batch_size = 5
    errors: list[BaseException] = []

    def project(projector: Projector) -> None:
        while True:
            try:
                if not projector.run_batch():
                    return
            except Exception as error:  # the loser of a race: re-read the position and go on
                errors.append(error)
                projector._resync()

    threads = [threading.Thread(target=project, args=(p,)) for p in rivals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert message_seqs(first) == list(range(1, 41))
    assert unread(first) == [20, 20]


def test_a_future_of_a_position_settles_when_the_read_models_reach_it(container: Container) -> None:
    chat(container, 3)
    projector = container.projector
    head = projector.head()
    before, at_head = projector.reached(1), projector.reached(head)
    later = projector.reached(head + 1)
    assert not at_head.done() and not before.done()
    projector.catch_up()
    assert before.result(timeout=1) is None and at_head.result(timeout=1) is None
    assert not later.done() and not later.cancel()
    assert projector.reached(head).done()  # already there: settled at once
