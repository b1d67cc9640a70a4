"""The batched reads of a reconnect storm (interfaces/coalescer.py) answer exactly what the one-at-a-time
reads answer, errors included: handshakes (sessions, users, connections), joins, pages."""

import asyncio
from uuid import UUID, uuid4

import pytest

from domain.errors import ConversationNotFound, NotAMember
from interfaces.bootstrap import Container
from interfaces.coalescer import Coalescer
from interfaces.runner import Runner
from projections.queries import JoinRequest, MessagesRequest

NAMES: dict[UUID, str] = {}


def register(container: Container, name: str) -> UUID:
    username = f"{name}{uuid4().hex[:6]}"
    user_id = container.app.register_user(username, "password").id
    NAMES[user_id] = username
    return user_id


def connect(container: Container, a: UUID, b: UUID) -> None:
    app = container.app
    app.accept_connection(app.request_connection(a, NAMES[b]).id, b)


@pytest.fixture
def world(container: Container) -> dict[str, UUID]:
    """alice, bob, carol (connected to alice), dave (connected to nobody); a direct conversation of
    alice and bob with messages; a group of alice, bob and carol that carol was removed from."""
    app = container.app
    alice, bob, carol, dave = (register(container, n) for n in ("alice", "bob", "carol", "dave"))
    connect(container, alice, bob)
    connect(container, alice, carol)
    direct = app.start_conversation(alice, [bob], None).id
    for i in range(7):
        app.send_message(direct, alice if i % 2 else bob, uuid4(), f"message {i}")
    group = app.start_conversation(alice, [bob, carol], "group").id
    app.send_message(group, carol, uuid4(), "before I go")
    app.remove_member(group, alice, carol)
    app.send_message(group, alice, uuid4(), "after carol")
    container.projector.catch_up()
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "direct": direct, "group": group}


def one_at_a_time(call: object, *args: object) -> object:
    try:
        return call(*args)  # type: ignore[operator]
    except Exception as error:
        return error


def same(batched: object, single: object) -> None:
    if isinstance(single, Exception):
        assert type(batched) is type(single) and str(batched) == str(single)
    else:
        assert batched == single


def test_joins_answer_as_one_at_a_time(container: Container, world: dict[str, UUID]) -> None:
    q = container.queries
    nowhere = uuid4()
    requests = [
        JoinRequest(world["direct"], world["alice"]),
        JoinRequest(world["direct"], world["bob"]),
        JoinRequest(world["direct"], world["carol"]),  # an outsider
        JoinRequest(world["group"], world["carol"]),  # a former member: a summary, no room
        JoinRequest(world["group"], world["bob"]),
        JoinRequest(nowhere, world["alice"]),  # no such conversation
        JoinRequest(world["direct"], world["alice"]),  # the same twice
    ]
    batched = q.conversations_to_join(requests)
    assert len(batched) == len(requests)
    for request, answer in zip(requests, batched, strict=True):
        same(answer, one_at_a_time(q.conversation_to_join, request.conversation_id, request.user_id))
    assert isinstance(batched[2], NotAMember) and isinstance(batched[5], ConversationNotFound)
    assert not isinstance(batched[3], Exception) and batched[3][1] is None


def test_pages_answer_as_one_at_a_time(container: Container, world: dict[str, UUID]) -> None:
    q = container.queries
    requests = [
        MessagesRequest(world["direct"], world["bob"], None, 2, 3),
        MessagesRequest(world["direct"], world["alice"], None, None, 50),
        MessagesRequest(world["direct"], world["carol"], None, 0, 50),  # an outsider: refused
        MessagesRequest(world["direct"], world["alice"], 5, None, 2),
        MessagesRequest(world["group"], world["carol"], None, 0, 50),  # a former member: their period only
        MessagesRequest(uuid4(), world["alice"], None, 0, 50),  # no such conversation
        MessagesRequest(world["direct"], world["bob"], None, 6, 200),
    ]
    batched = q.messages_of(requests)
    for r, answer in zip(requests, batched, strict=True):
        same(answer, one_at_a_time(q.messages, r.conversation_id, r.user_id, r.before_seq, r.after_seq, r.limit))
    assert isinstance(batched[2], NotAMember) and isinstance(batched[5], ConversationNotFound)


def test_handshakes_answer_as_one_at_a_time(container: Container, world: dict[str, UUID]) -> None:
    """Connected users for existing users; a session that ended, or that is another user's, is not live."""
    store, q = container.sessions, container.queries
    alice, bob, dave = world["alice"], world["bob"], world["dave"]
    live_alice, ended_alice, live_bob = store.start(alice), store.start(alice), store.start(bob)
    store.end(ended_alice.session_id, "logout")
    nobody = uuid4()
    pairs = [
        (live_alice.session_id, alice),
        (ended_alice.session_id, alice),
        (live_bob.session_id, bob),
        (live_bob.session_id, alice),  # bob's session presented for alice
        (uuid4(), dave),  # no such session
    ]
    live = store.read(lambda cur: store.live_among(cur, pairs))
    assert live == {pairs[0], pairs[2]}
    for session_id, user_id in pairs:
        assert store.live(session_id, user_id) == ((session_id, user_id) in live)

    users = [alice, bob, world["carol"], dave, nobody, alice]
    starts = store.read(lambda cur: q.connections_in(cur, users))
    for user_id in users:
        single = q.socket_start(user_id)
        if single is None:
            assert user_id not in starts
        else:
            assert sorted(starts[user_id]) == sorted(single[0])
    assert sorted(starts[alice]) == sorted([bob, world["carol"]]) and starts[dave] == []


async def test_a_coalescer_answers_each_request_of_a_batch_once(container: Container) -> None:
    calls: list[list[int]] = []

    def answer(keys: list[int]) -> list[int | Exception]:
        calls.append(keys)
        return [ValueError(k) if k % 5 == 0 else k * 10 for k in keys]

    run = Runner(container.settings, container.queries, container.projector, submits=False)
    coalescer: Coalescer[int, int] = Coalescer(run, answer, max_batch=8, parallel=1)
    outcomes = await asyncio.gather(*(coalescer.ask(k) for k in range(1, 21)), return_exceptions=True)
    for k, outcome in zip(range(1, 21), outcomes, strict=True):
        if k % 5 == 0:
            assert isinstance(outcome, ValueError) and outcome.args == (k,)
        else:
            assert outcome == k * 10
    assert sorted(k for batch in calls for k in batch) == list(range(1, 21))
    assert len(calls) == 3 and max(len(b) for b in calls) == 8  # requests made together went together

    def broken(keys: list[int]) -> list[int | Exception]:
        raise RuntimeError("the store is down")

    failing: Coalescer[int, int] = Coalescer(run, broken)
    with pytest.raises(RuntimeError, match="the store is down"):
        await failing.ask(1)
