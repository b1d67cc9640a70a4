"""Receipts, unread counts, typing and presence, seen by two people on two devices each."""

import time
from typing import Any

from tests.support.clients import Person, Socket
from tests.support.server import ServerProcess


async def two_people_on_two_devices(server: ServerProcess) -> tuple[Person, Person, list[Socket], list[Socket], str]:
    alice = Person(server.url, "alice", display_name="Alice").register()
    bob = Person(server.url, "bob", display_name="Bob").register()
    alice.connect_with(bob)
    alice_sockets = [await Socket(alice).connect(), await Socket(alice).connect()]
    bob_sockets = [await Socket(bob).connect(), await Socket(bob).connect()]
    started = await alice_sockets[0].call("start_conversation", {"user_ids": [bob.id]})
    conversation = started["conversation"]["id"]
    for s in alice_sockets + bob_sockets:
        assert (await s.call("join_conversation", {"conversation_id": conversation}))["ok"]
        s.pending("conversation_updated")
        s.pending("presence")
    return alice, bob, alice_sockets, bob_sockets, conversation


async def close(*sockets: Socket) -> None:
    for s in sockets:
        if s.client.connected:
            await s.disconnect()


async def test_receipts_move_forward_only_and_reach_every_socket(server: ServerProcess) -> None:
    alice, bob, a, b, conversation = await two_people_on_two_devices(server)
    for n in range(3):
        assert (await a[0].send(conversation, f"m{n}"))["ok"]
    for s in a + b:
        s.pending("conversation_updated")

    assert await b[0].call("mark_as_delivered", {"conversation_id": conversation, "up_to_seq": 2}) == {"ok": True}
    for s in a + b:
        delivered = await s.next("messages_delivered")
        assert delivered["user_id"] == bob.id and delivered["up_to_seq"] == 2 and delivered["delivered_at"]
    history = await a[1].call("get_messages", {"conversation_id": conversation})
    assert [m["status"] for m in history["messages"]] == ["delivered", "delivered", "sent"]

    read = await b[1].call("mark_as_read", {"conversation_id": conversation, "up_to_seq": 99})  # clamped to 3
    assert read == {"ok": True, "unread_count": 0}
    for s in a + b:
        assert (await s.next("messages_read"))["up_to_seq"] == 3
        assert (await s.next("messages_delivered"))["up_to_seq"] == 3  # reading implies delivery
    for s in b:  # Bob's own view: unread back to 0
        summary = await s.next_matching("conversation_updated", lambda c: c["unread_count"] == 0)
        bob_member = next(m for m in summary["members"] if m["user"]["id"] == bob.id)
        assert (bob_member["last_read_seq"], bob_member["last_delivered_seq"]) == (3, 3)
    for s in a:  # Alice sees her last message read
        await s.next_matching("conversation_updated", lambda c: c["last_message"]["status"] == "read")

    # Lower and repeated marks change nothing and emit nothing.
    assert await b[0].call("mark_as_read", {"conversation_id": conversation, "up_to_seq": 1}) == {
        "ok": True,
        "unread_count": 0,
    }
    assert await b[0].call("mark_as_delivered", {"conversation_id": conversation, "up_to_seq": 2}) == {"ok": True}
    history = await a[0].call("get_messages", {"conversation_id": conversation})
    assert [m["status"] for m in history["messages"]] == ["read", "read", "read"]

    assert (await a[0].send(conversation, "one more"))["ok"]
    for s in a + b:  # its message_new is the sentinel: receipts of those marks would have come before it
        assert [m["seq"] for m in await s.arrived_before("message_new", lambda m: m["seq"] == 4)] == [1, 2, 3]
        assert s.pending("messages_read") == [] and s.pending("messages_delivered") == []
    summary = await b[0].next_matching("conversation_updated", lambda c: c["last_message"]["seq"] == 4)
    assert summary["unread_count"] == 1
    marks = await b[0].call("mark_as_read", {"conversation_id": conversation, "up_to_seq": "4"})
    assert marks["ok"] is False and marks["error"]["code"] == "validation_error"
    await close(*a, *b)


async def test_group_status_needs_every_other_member(server: ServerProcess) -> None:
    alice = Person(server.url, "alice").register()
    bob = Person(server.url, "bob").register()
    carol = Person(server.url, "carol").register()
    alice.connect_with(bob)
    alice.connect_with(carol)
    sa, sb, sc = [await Socket(p).connect() for p in (alice, bob, carol)]
    group = (await sa.call("start_conversation", {"user_ids": [bob.id, carol.id], "title": "Trio"}))["conversation"]
    assert group["kind"] == "group"
    message = (await sa.send(group["id"], "hello both"))["message"]
    await sb.call("mark_as_read", {"conversation_id": group["id"], "up_to_seq": 1})
    status = lambda: sa.call("get_messages", {"conversation_id": group["id"]})  # noqa: E731
    assert (await status())["messages"][0]["status"] == "sent"  # Carol has not got it yet
    await sc.call("mark_as_delivered", {"conversation_id": group["id"], "up_to_seq": 1})
    assert (await status())["messages"][0]["status"] == "delivered"
    await sc.call("mark_as_read", {"conversation_id": group["id"], "up_to_seq": message["seq"]})
    assert (await status())["messages"][0]["status"] == "read"
    outsider = Person(server.url, "dave").register()
    so = await Socket(outsider).connect()
    refused = await so.call("mark_as_read", {"conversation_id": group["id"], "up_to_seq": 1})
    assert refused["error"]["code"] == "not_a_member"
    await close(sa, sb, sc, so)


async def test_typing_reaches_others_not_the_typist_and_ends_by_itself(server: ServerProcess) -> None:
    alice, bob, a, b, conversation = await two_people_on_two_devices(server)

    assert await a[0].call("typing_start", {"conversation_id": conversation}) == {"ok": True}
    started_at = time.monotonic()
    for s in b:
        typing = await s.next("typing")
        assert typing == {"conversation_id": conversation, "user_id": alice.id, "is_typing": True}
    for s in b:
        stopped = await s.next("typing", timeout=9)
        assert stopped["is_typing"] is False
    assert 5.5 <= time.monotonic() - started_at <= 7.5  # the contract's 6 seconds
    assert a[0].pending("typing") == [] and a[1].pending("typing") == []

    # typing_stop ends it at once; a send ends it too.
    await a[1].call("typing_start", {"conversation_id": conversation})
    assert (await b[0].next("typing"))["is_typing"] is True
    await a[1].call("typing_stop", {"conversation_id": conversation})
    assert (await b[0].next("typing", timeout=2))["is_typing"] is False
    await a[0].call("typing_start", {"conversation_id": conversation})
    assert (await b[0].next("typing"))["is_typing"] is True
    await a[0].send(conversation, "done typing")
    assert (await b[0].next("typing", timeout=2))["is_typing"] is False

    # (Bob's other socket heard the same four, maybe still on their way: waited for, not drained.)
    assert [(await b[1].next("typing"))["is_typing"] for _ in range(4)] == [True, False, True, False]

    # The typist's last socket going away ends it; one of two sockets going does not.
    await a[0].call("typing_start", {"conversation_id": conversation})
    assert (await b[1].next("typing"))["is_typing"] is True
    await a[0].disconnect()
    # Still typing, so from the other socket typing_start only extends it (had it ended, it would say true again).
    assert await a[1].call("typing_start", {"conversation_id": conversation}) == {"ok": True}
    await a[1].disconnect()
    # The sentinel: Alice going offline, said by the handler of her last socket after it ended her typing.
    await b[1].next_matching("presence", lambda p: p["user_id"] == alice.id and p["status"] == "offline")
    assert [t["is_typing"] for t in b[1].pending("typing")] == [False]

    outsider = Person(server.url, "eve").register()
    se = await Socket(outsider).connect()
    assert (await se.call("typing_start", {"conversation_id": conversation}))["error"]["code"] == "not_a_member"
    await close(*b, se)


async def test_presence_counts_devices_and_tells_only_connections(server: ServerProcess) -> None:
    alice = Person(server.url, "alice").register()
    bob = Person(server.url, "bob").register()
    stranger = Person(server.url, "stranger").register()
    alice.connect_with(bob)
    watcher = await Socket(bob).connect()
    outsider = await Socket(stranger).connect()

    first = await Socket(alice).connect()
    online = await watcher.next("presence")
    assert online["user_id"] == alice.id and online["status"] == "online"
    second = await Socket(alice).connect()  # a second device: still one "online"
    # the new socket is told who of its connections is online right now
    assert (await second.next("presence"))["user_id"] == bob.id
    await first.disconnect()  # one device of two: nothing to say
    await second.disconnect()
    offline = await watcher.next("presence")  # the first thing the watcher hears: the last one's offline
    assert offline["user_id"] == alice.id and offline["status"] == "offline" and offline["last_seen_at"]
    assert outsider.pending("presence") == []

    # Member.online reflects presence when a summary is built.
    again = await Socket(alice).connect()
    # The sentinel: back online is the next thing the watcher hears, so "offline" was said once.
    back = await watcher.arrived_before("presence", lambda p: p["user_id"] == alice.id and p["status"] == "online")
    assert back == []
    conversation = (await again.call("start_conversation", {"user_ids": [bob.id]}))["conversation"]
    members: dict[str, Any] = {m["user"]["id"]: m["online"] for m in conversation["members"]}
    assert members == {alice.id: True, bob.id: True}
    await watcher.disconnect()
    await again.next_matching("presence", lambda p: p["user_id"] == bob.id and p["status"] == "offline")
    listed = (await again.call("get_conversations"))["conversations"][0]
    assert {m["user"]["id"]: m["online"] for m in listed["members"]} == {alice.id: True, bob.id: False}
    await close(again, outsider)


async def test_people_who_just_connected_learn_each_others_presence(server: ServerProcess) -> None:
    alice = Person(server.url, "alice").register()
    bob = Person(server.url, "bob").register()
    a, b = await Socket(alice).connect(), await Socket(bob).connect()
    assert a.pending("presence") == [] and b.pending("presence") == []  # not connected yet: told nothing
    alice.connect_with(bob)
    assert (await a.next_matching("presence", lambda p: p["user_id"] == bob.id))["status"] == "online"
    assert (await b.next_matching("presence", lambda p: p["user_id"] == alice.id))["status"] == "online"
    await close(a, b)
