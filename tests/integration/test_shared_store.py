"""Several processes on one store (here: two app instances, each with its own aggregate cache).

A cached aggregate that another process changed is stale without any conflict when a command only
checks it, or refuses on it; with `shared_store` those checks read the store."""

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest

from application.commands import Parley
from domain.errors import NotConnected
from interfaces.bootstrap import Container


def two_processes(make_container: Callable[[], Container]) -> tuple[Parley, Parley]:
    first, second = make_container().app, make_container().app
    first.shared_store = second.shared_store = True
    return first, second


def connected_pair(app: Parley) -> tuple[object, object, object]:
    ann = app.register_user(f"ann{uuid4().hex[:6]}", "password").id
    ben_name = f"ben{uuid4().hex[:6]}"
    ben = app.register_user(ben_name, "password").id
    connection = app.request_connection(ann, ben_name).id
    app.accept_connection(connection, ben)
    return ann, ben, connection


def test_a_connection_removed_through_one_process_stops_a_direct_send_through_the_other(
    make_container: Callable[[], Container],
) -> None:
    first, second = two_processes(make_container)
    ann, ben, connection = connected_pair(first)
    conversation = second.start_conversation(ann, [ben], None).id
    second.send_message(conversation, ann, uuid4(), "before")  # `second` caches the connection, connected

    first.remove_connection(connection, ben)
    with pytest.raises(NotConnected):
        second.send_message(conversation, ann, uuid4(), "after the removal")
    with pytest.raises(NotConnected):
        second.start_conversation(ann, [ben], None)

    first.request_connection(ben, second.repository.get(ann).username)  # connected again, through `first`
    first.accept_connection(connection, ann)
    assert second.start_conversation(ann, [ben], None).id == conversation
    assert second.send_message(conversation, ann, uuid4(), "connected again").seq == 2


def test_a_request_refused_on_a_stale_copy_is_made_again_on_a_fresh_one(
    make_container: Callable[[], Container],
) -> None:
    first, second = two_processes(make_container)
    ann = first.register_user(f"ann{uuid4().hex[:6]}", "password").id
    ben_name = f"ben{uuid4().hex[:6]}"
    ben = first.register_user(ben_name, "password").id
    connection = second.request_connection(ann, ben_name).id  # `second` caches it, pending
    first.decline_connection(connection, ben)
    assert second.request_connection(ann, ben_name).id == connection  # declined: she may ask again
    assert make_container().app.repository.get(connection).status == "pending"  # (a cache of its own)


def test_a_group_meeting_a_conversation_another_process_changed_is_saved_again_as_a_group(
    make_container: Callable[[], Container],
) -> None:
    """Two processes sending to one conversation: each group meets a stale cached copy. It is run again
    as a group on the store's copy (one more commit), not one command at a time."""
    first, second = two_processes(make_container)
    ann, ben, _ = connected_pair(first)
    conversation = first.start_conversation(ann, [ben], None).id
    assert first.send_message(conversation, ann, uuid4(), "cached here").seq == 1
    assert second.send_message(conversation, ben, uuid4(), "from the other process").seq == 2
    assert first.group_commit is not None
    release = threading.Event()
    alone: list[object] = []
    real_alone = first.group_commit._alone
    first.group_commit._alone = lambda command: alone.append(command) or real_alone(command)
    holding = threading.Event()

    def hold(unit: object) -> None:  # the writer is busy with this: the next sends queue up as one group
        holding.set()
        release.wait(10)

    held = first.group_commit.submit(hold)
    assert holding.wait(10)
    with ThreadPoolExecutor(10) as pool:
        futures = [
            pool.submit(first.send_message, conversation, (ann, ben)[n % 2], uuid4(), f"m{n}") for n in range(10)
        ]
        while first.group_commit._queue.qsize() < 10:  # all ten queued behind the held command
            assert not any(f.done() for f in futures), [f.exception() for f in futures if f.done()]
            time.sleep(0.001)
        release.set()
        held.result(timeout=10)
        assert sorted(f.result(timeout=10).seq for f in futures) == list(range(3, 13))
    assert alone == [], "the group was split into single commands"


def test_a_fresh_check_brings_the_cached_copy_forward_rather_than_reloading_it(
    make_container: Callable[[], Container], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection check of a direct send reads only the events stored after the cached copy's
    version (another process's), and leaves the fresh copy in the cache."""
    first, second = two_processes(make_container)
    ann, ben, connection = connected_pair(first)
    conversation = second.start_conversation(ann, [ben], None).id
    second.send_message(conversation, ann, uuid4(), "before")  # `second` caches the connection
    cache = second.repository.cache
    assert cache is not None
    cached_version = cache.get(connection).version
    reloads: list[object] = []
    reconstruct = second.repository._reconstruct_aggregate
    monkeypatch.setattr(second.repository, "_reconstruct_aggregate", lambda *a: reloads.append(a[0]) or reconstruct(*a))

    assert second.send_message(conversation, ann, uuid4(), "nothing new").seq == 2
    first.remove_connection(connection, ben)
    with pytest.raises(NotConnected):
        second.send_message(conversation, ann, uuid4(), "after the removal")

    assert connection not in reloads
    fresh = cache.get(connection)
    assert fresh.version == first.repository.get(connection).version > cached_version
    assert not fresh.is_connected
