"""Two people register, connect, chat in real time; a restart loses nothing."""

import uuid

from tests.support.clients import Person, Socket
from tests.support.server import ServerProcess


async def test_two_people_chat_and_a_restart_keeps_history_and_unread_counts(server: ServerProcess) -> None:
    alice = Person(server.url, "alice", display_name="Alice").register()
    bob = Person(server.url, "bob", display_name="Bob").register()
    alice.connect_with(bob)
    a, b = await Socket(alice).connect(), await Socket(bob).connect()

    started = await a.call("start_conversation", {"user_ids": [bob.id]})
    assert started["ok"] is True, started
    conversation = started["conversation"]
    assert conversation["kind"] == "direct"
    assert {m["user"]["username"] for m in conversation["members"]} == {"alice", "bob"}
    # Bob hears of the new conversation on his user room, without joining anything.
    assert (await b.next("conversation_updated"))["id"] == conversation["id"]

    for s in (a, b):
        joined = await s.call("join_conversation", {"conversation_id": conversation["id"]})
        assert joined["ok"] is True

    sent = await a.send(conversation["id"], "  Hello Bob\x07 ")
    assert sent["ok"] is True, sent
    assert sent["message"]["seq"] == 1 and sent["message"]["body"] == "Hello Bob"
    assert sent["message"]["status"] == "sent"

    new = await b.next("message_new")
    assert new == sent["message"]
    updated = await b.next_matching("conversation_updated", lambda s: s["last_message"] is not None)
    assert updated["unread_count"] == 1 and updated["last_message"]["body"] == "Hello Bob"

    reply = await b.send(conversation["id"], "Hi Alice")
    assert reply["message"]["seq"] == 2
    assert (await a.next_matching("message_new", lambda m: m["seq"] == 2))["body"] == "Hi Alice"

    for _ in range(3):
        assert (await a.send(conversation["id"], "more"))["ok"]
    await a.disconnect()
    await b.disconnect()

    server.restart()

    b = await Socket(bob).connect()
    history = await b.call("get_messages", {"conversation_id": conversation["id"]})
    assert [m["seq"] for m in history["messages"]] == [1, 2, 3, 4, 5]
    assert history["has_more"] is False
    listed = await b.call("get_conversations")
    assert listed["ok"] and listed["next_cursor"] is None
    assert [(c["id"], c["unread_count"]) for c in listed["conversations"]] == [(conversation["id"], 4)]
    a = await Socket(alice).connect()
    listed = await a.call("get_conversations", {})
    assert listed["conversations"][0]["unread_count"] == 1
    await a.disconnect()
    await b.disconnect()


async def test_a_retried_send_returns_the_original_and_emits_nothing(server: ServerProcess) -> None:
    alice = Person(server.url, "alice").register()
    bob = Person(server.url, "bob").register()
    alice.connect_with(bob)
    a, b = await Socket(alice).connect(), await Socket(bob).connect()
    conversation = (await a.call("start_conversation", {"user_ids": [bob.id]}))["conversation"]
    await b.call("join_conversation", {"conversation_id": conversation["id"]})

    client_message_id = str(uuid.uuid4())
    first = await a.send(conversation["id"], "once", client_message_id)
    again = await a.send(conversation["id"], "once (retried)", client_message_id)
    assert again == first
    assert (await b.next("message_new"))["id"] == first["message"]["id"]
    history = await b.call("get_messages", {"conversation_id": conversation["id"]})
    assert [m["body"] for m in history["messages"]] == ["once"]
    after = (await a.send(conversation["id"], "after"))["message"]  # the next message is the next thing b hears
    assert after["seq"] == 2 and await b.arrived_before("message_new", lambda m: m["id"] == after["id"]) == []
    await a.disconnect()
    await b.disconnect()
