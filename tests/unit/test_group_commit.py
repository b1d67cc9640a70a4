"""Group commit: conversation commands arriving together are saved in one transaction, each caller
answered after; a broken rule or a conflict in one command does not harm the others."""

import threading
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import OperationalError

from application.commands import Parley
from application.unit_of_work import CommandTimedOut, Overloaded, ShuttingDown, UnitOfWork
from domain.conversations import Conversation
from domain.errors import NotAMember
from domain.messages import ClientMessageKey


@pytest.fixture
def grouped(app: Parley) -> Parley:
    app.enable_group_commit()
    return app


def chat(app: Parley) -> tuple[UUID, UUID, UUID]:
    alice = app.register_user("alice", "password").id
    bob = app.register_user("bob", "password").id
    app.accept_connection(app.request_connection(alice, "bob").id, bob)
    return alice, bob, app.start_conversation(alice, [bob], None).id


def test_concurrent_sends_are_saved_in_groups_with_gap_free_seqs(
    grouped: Parley, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob, conversation = chat(grouped)
    saves: list[int] = []
    real_save = grouped.save

    def counting_save(*aggregates):  # type: ignore[no-untyped-def]
        saves.append(len(aggregates))
        return real_save(*aggregates)

    monkeypatch.setattr(grouped, "save", counting_save)
    start = threading.Barrier(16)

    def send(n: int) -> int:
        start.wait()
        return grouped.send_message(conversation, alice if n % 2 else bob, uuid4(), f"m{n}").seq

    with ThreadPoolExecutor(16) as pool:
        seqs = list(pool.map(send, range(16)))
    assert sorted(seqs) == list(range(1, 17))
    assert len(saves) < 16, "every send paid its own commit"
    assert max(saves) > 2  # a group: the conversation and several message keys in one save


def test_a_broken_rule_or_a_repeated_message_in_a_group_harms_no_other_command(grouped: Parley) -> None:
    alice, bob, conversation = chat(grouped)
    eve = grouped.register_user("eve", "password").id
    key = uuid4()
    first = grouped.send_message(conversation, alice, key, "once")
    start = threading.Barrier(3)

    def outsider() -> object:
        start.wait()
        try:
            return grouped.send_message(conversation, eve, uuid4(), "let me in")
        except NotAMember as error:
            return error

    def retry() -> object:
        start.wait()
        return grouped.send_message(conversation, alice, key, "once, again")

    def normal() -> object:
        start.wait()
        return grouped.send_message(conversation, bob, uuid4(), "hello")

    with ThreadPoolExecutor(3) as pool:
        refused, repeated, sent = [f.result() for f in [pool.submit(outsider), pool.submit(retry), pool.submit(normal)]]
    assert isinstance(refused, NotAMember)
    assert repeated.is_retry and (repeated.message_id, repeated.seq) == (first.message_id, 1)
    assert sent.seq == 2 and sent.position is not None


def test_a_submitted_send_settles_its_future_without_blocking_the_caller(grouped: Parley) -> None:
    alice, bob, conversation = chat(grouped)
    futures = [grouped.submit_message(conversation, alice, uuid4(), f"queued {n}") for n in range(10)]
    assert not any(f.cancel() for f in futures)  # a waiter giving up cannot withdraw a queued send
    assert [f.result(timeout=5).seq for f in futures] == list(range(1, 11))
    refused = grouped.submit_message(conversation, uuid4(), uuid4(), "from a stranger")
    with pytest.raises(NotAMember):
        refused.result(timeout=5)


def test_submitting_is_refused_where_it_would_have_to_block(app: Parley) -> None:
    alice, bob, conversation = chat(app)
    assert not app.submits_without_blocking  # no group commit
    with pytest.raises(RuntimeError):
        app.submit_message(conversation, alice, uuid4(), "hello")
    app.enable_group_commit()
    app.shared_store = True  # other processes write: the connection must be read from the store first
    assert not app.submits_without_blocking


def test_a_store_failure_while_loading_answers_the_whole_group_and_the_writer_goes_on(
    grouped: Parley, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bug of issue #12: an OperationalError loading an uncached aggregate killed the writer
    thread, and no send was ever answered again."""
    alice, bob, conversation = chat(grouped)
    real_find = grouped._find
    down = threading.Event()
    down.set()

    def find(cls, aggregate_id, fresh=False, copy=True):  # type: ignore[no-untyped-def]
        if down.is_set():
            raise OperationalError("connection refused")
        return real_find(cls, aggregate_id, fresh, copy)

    monkeypatch.setattr(grouped, "_find", find)
    futures = [grouped.submit_message(conversation, alice, uuid4(), f"while down {n}") for n in range(5)]
    for future in futures:
        with pytest.raises(OperationalError):
            future.result(timeout=5)
    down.clear()
    assert grouped.group_commit is not None and grouped.group_commit.alive
    assert grouped.submit_message(conversation, alice, uuid4(), "back").result(timeout=5).seq == 1


def test_a_defect_in_one_command_refuses_it_alone_and_the_rest_of_its_group_is_saved(grouped: Parley) -> None:
    alice, bob, conversation = chat(grouped)
    assert grouped.group_commit is not None
    release = threading.Event()

    def blocker(unit: UnitOfWork) -> None:  # holds the writer so that the next commands form one group
        release.wait(5)

    def broken(unit: UnitOfWork) -> None:
        conversation_aggregate = unit.find(Conversation, conversation)
        assert conversation_aggregate is not None
        conversation_aggregate.send(alice, uuid4(), "half done", uuid4())  # changes the unit, then fails
        raise KeyError("a bug")

    held = grouped.group_commit.submit(blocker)
    before = grouped.submit_message(conversation, alice, uuid4(), "before")
    failing = grouped.group_commit.submit(broken)
    after = grouped.submit_message(conversation, bob, uuid4(), "after")
    release.set()
    held.result(timeout=5)
    with pytest.raises(KeyError):
        failing.result(timeout=5)
    assert [before.result(timeout=5).seq, after.result(timeout=5).seq] == [1, 2]  # "half done" saved nowhere
    history = grouped.repository.get(conversation)
    assert history.last_seq == 2
    assert grouped.group_commit.alive


def test_a_command_still_queued_past_its_deadline_is_refused_unrun(grouped: Parley) -> None:
    alice, bob, conversation = chat(grouped)
    grouped.enable_group_commit(deadline_seconds=0.2)
    assert grouped.group_commit is not None
    release = threading.Event()
    held = grouped.group_commit.submit(lambda unit: release.wait(5))
    late = grouped.submit_message(conversation, alice, uuid4(), "too late")
    assert not release.wait(0.4)  # the queued send's deadline passes while the writer is busy
    release.set()
    held.result(timeout=5)
    with pytest.raises(CommandTimedOut):
        late.result(timeout=5)
    assert grouped.repository.get(conversation).last_seq == 0  # it was never run
    assert grouped.submit_message(conversation, alice, uuid4(), "in time").result(timeout=5).seq == 1


def test_sends_are_refused_with_a_wait_while_the_writer_is_further_behind_than_a_send_may_wait(
    grouped: Parley,
) -> None:
    """Push-back (issue 14): under a load the store cannot take, a send is refused at once (`rate_limited`
    with a wait) rather than queued behind ever older ones; other commands still queue; once the writer
    catches up, sends are taken again."""
    alice, bob, conversation = chat(grouped)
    writer = grouped.group_commit
    assert writer is not None
    first, second, running = threading.Event(), threading.Event(), threading.Event()
    taken = threading.Event()
    a = writer.submit(lambda unit: taken.set() or first.wait(5))
    assert taken.wait(5)  # a is a group of its own
    b = writer.submit(lambda unit: running.set() or second.wait(5))  # queued behind a, longer than a send may wait
    threading.Event().wait(writer.max_queue_delay + 0.1)
    first.set()
    a.result(timeout=5)
    assert running.wait(5)
    c = writer.submit(lambda unit: "queued")  # while b runs: the writer is behind
    refused = grouped.submit_message(conversation, alice, uuid4(), "refused")
    with pytest.raises(Overloaded) as error:
        refused.result(timeout=1)
    assert error.value.retry_after_ms >= writer.max_queue_delay * 1000
    d = writer.submit(lambda unit: "not a send: queued")
    second.set()
    assert (b.result(timeout=5), c.result(timeout=5), d.result(timeout=5)) == (True, "queued", "not a send: queued")
    assert grouped.repository.get(conversation).last_seq == 0  # the refused send was never run
    taken = grouped.submit_message(conversation, alice, uuid4(), "taken again")
    assert taken.result(timeout=5).seq == 1


def test_a_failing_save_answers_every_command_and_a_closed_writer_refuses_new_ones(
    grouped: Parley, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob, conversation = chat(grouped)
    real_save = grouped.save
    monkeypatch.setattr(grouped, "save", lambda *aggregates: (_ for _ in ()).throw(OperationalError("disk full")))
    with pytest.raises(OperationalError):
        grouped.send_message(conversation, alice, uuid4(), "lost")
    cache = grouped.repository.cache
    assert cache is not None
    with pytest.raises(KeyError):  # the writer changed the cached conversation itself: dropped, not kept
        cache.get(conversation)
    monkeypatch.setattr(grouped, "save", real_save)
    assert grouped.send_message(conversation, alice, uuid4(), "kept").seq == 1
    assert grouped.group_commit is not None
    grouped.group_commit.close()
    with pytest.raises(ShuttingDown):
        grouped.submit_message(conversation, alice, uuid4(), "after close").result(timeout=5)


def test_message_keys_stay_out_of_the_aggregate_cache(grouped: Parley) -> None:
    """One key is saved per message; cached, they grew a server's memory with every message sent."""
    alice, bob, conversation = chat(grouped)
    keys = [uuid4() for _ in range(20)]
    for n, key in enumerate(keys):
        grouped.send_message(conversation, alice, key, f"m{n}")
    cache = grouped.repository.cache
    assert cache is not None
    assert cache.get(conversation) is not None  # what commands load stays cached
    for key in keys:
        with pytest.raises(KeyError):
            cache.get(ClientMessageKey.create_id(alice, key))
