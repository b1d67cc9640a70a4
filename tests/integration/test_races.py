"""Invariants hold under concurrent requests, also from several processes (here: app instances)."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import uuid4

from domain.conversations import Conversation
from domain.errors import UsernameTaken
from interfaces.bootstrap import Container

THREADS = 8


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once; return each result or the exception it raised."""

    def attempt(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as error:
            return error

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(attempt, calls))


def test_one_username_is_claimed_once_under_concurrent_registrations(
    make_container: Callable[[], Container],
) -> None:
    apps = [make_container().app, make_container().app]
    names = ["sammy", "SAMMY", "Sammy", "sAmMy"]
    outcomes = race([lambda i=i: apps[i % 2].register_user(names[i % 4], "password") for i in range(THREADS)])
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, UsernameTaken) for o in outcomes if isinstance(o, Exception)), outcomes


def test_one_direct_conversation_per_pair_when_both_start_it_at_once(make_container: Callable[[], Container]) -> None:
    first, second = make_container().app, make_container().app
    alice = first.register_user("alice", "password").id
    bob = first.register_user("bob", "password").id
    request = first.request_connection(alice, "bob")
    first.accept_connection(request.id, bob)
    calls = [
        (lambda app=app, me=me, other=other: app.start_conversation(me, [other], None).id)
        for app in (first, second)
        for me, other in ((alice, bob), (bob, alice))
    ] * 2
    ids = race(calls)
    assert all(not isinstance(i, Exception) for i in ids), ids
    assert len(set(ids)) == 1
    started = [
        n
        for n in first.recorder.select_notifications(start=None, limit=10_000)
        if n.topic.endswith("Conversation.ConversationStarted")
    ]
    assert len(started) == 1


def test_concurrent_sends_from_two_processes_get_gap_free_unique_seqs(make_container: Callable[[], Container]) -> None:
    first, second = make_container().app, make_container().app
    alice = first.register_user("alice", "password").id
    bob = first.register_user("bob", "password").id
    first.accept_connection(first.request_connection(alice, "bob").id, bob)
    conversation = first.start_conversation(alice, [bob], None).id
    sends = [
        (lambda app=app, sender=sender, n=n: app.send_message(conversation, sender, uuid4(), f"{n}"))
        for n in range(20)
        for app, sender in ((first, alice), (second, bob))
    ]
    results = race(sends)
    assert all(not isinstance(r, Exception) for r in results), [r for r in results if isinstance(r, Exception)]
    assert sorted(r.seq for r in results) == list(range(1, len(sends) + 1))
    messages = [e for e in second.events.get(conversation) if isinstance(e, Conversation.MessageSent)]
    assert [e.seq for e in messages] == list(range(1, len(sends) + 1))
