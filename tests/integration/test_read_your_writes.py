"""A send is acknowledged once durable, before the read models reflect it; the sender's next query
waits (bounded) until they do, and fails `internal` past the bound rather than answer without it.
Other users' queries do not wait for it. (Contract v2, section 2, "Read your writes".)"""

import asyncio
from collections.abc import Callable
from dataclasses import replace
from uuid import UUID, uuid4

import pytest
from anyio import to_thread

from interfaces.bootstrap import Container
from interfaces.runner import RequestTimedOut, Runner


def chat(container: Container) -> tuple[UUID, UUID, UUID]:
    app = container.app
    alice = app.register_user(f"alice{uuid4().hex[:6]}", "password").id
    bob_name = f"bob{uuid4().hex[:6]}"
    bob = app.register_user(bob_name, "password").id
    app.accept_connection(app.request_connection(alice, bob_name).id, bob)
    conversation = app.start_conversation(alice, [bob], None).id
    container.projector.catch_up()
    return alice, bob, conversation


def runner_of(container: Container, bound: float = 5.0) -> Runner:
    settings = replace(container.settings, read_your_writes_timeout=bound)
    return Runner(settings, container.queries, container.projector, submits=True)


async def until_waiting(task: "asyncio.Task[object]") -> None:
    """Let the loop run the task up to its first real wait (it is then waiting on the projector)."""
    for _ in range(20):
        await asyncio.sleep(0)
    assert not task.done(), "the query answered before the read models reflected the acknowledged send"


async def test_the_senders_next_query_waits_for_the_acknowledged_send(
    make_container: Callable[[], Container],
) -> None:
    container = make_container()  # its projector runs only when the test says so
    alice, bob, conversation = chat(container)
    run = runner_of(container)
    sent = await run.submitted(container.app.submit_message(conversation, alice, uuid4(), "hello"), alice)
    assert sent.position is not None and container.projector.position < sent.position  # acked before projected

    others = await run.query(bob, container.queries.messages, conversation, bob, None, None, 50)
    assert others[0] == []  # someone else's query does not wait for alice's write

    mine = asyncio.create_task(run.query(alice, container.queries.messages, conversation, alice, None, None, 50))
    await until_waiting(mine)
    await to_thread.run_sync(container.projector.catch_up)
    messages, _ = await asyncio.wait_for(mine, 5)
    assert [m["body"] for m in messages] == ["hello"]


async def test_past_the_bound_the_senders_query_fails_rather_than_answer_without_the_write(
    make_container: Callable[[], Container],
) -> None:
    container = make_container()
    alice, bob, conversation = chat(container)
    run = runner_of(container, bound=0.2)
    await run.submitted(container.app.submit_message(conversation, alice, uuid4(), "not projected"), alice)
    with pytest.raises(RequestTimedOut):
        await run.query(alice, container.queries.messages, conversation, alice, None, None, 50)
    await to_thread.run_sync(container.projector.catch_up)
    messages, _ = await run.query(alice, container.queries.messages, conversation, alice, None, None, 50)
    assert [m["body"] for m in messages] == ["not projected"]


async def test_acks_wait_once_the_read_models_fall_further_behind_than_the_window(
    make_container: Callable[[], Container], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Push-back (issue 14): under load the projector, and with it the broadcast, may fall behind the
    acks, but never by more than the window: a send past it is acknowledged only once the read models
    come within it, so delivery lag cannot grow without bound."""
    monkeypatch.setattr("interfaces.runner.UNPROJECTED_WINDOW", 4)
    container = make_container()  # its projector runs only when the test says so
    alice, bob, conversation = chat(container)
    run = runner_of(container)
    start = container.projector.position
    acked = []
    for n in range(2):  # two sends: four positions (a message and its key each), within the window
        acked.append(await run.submitted(container.app.submit_message(conversation, alice, uuid4(), f"m{n}"), alice))
    assert acked[-1].position is not None and acked[-1].position - start <= 4
    beyond = asyncio.create_task(run.submitted(container.app.submit_message(conversation, alice, uuid4(), "m2"), alice))
    for _ in range(200):  # durable within a few turns; then it waits on the projector
        await asyncio.sleep(0.005)
    assert not beyond.done(), "a send was acknowledged further ahead of the read models than the window"
    await to_thread.run_sync(container.projector.catch_up)
    third = await asyncio.wait_for(beyond, 5)
    assert third.seq == 3 and container.projector.position >= third.position - 4
