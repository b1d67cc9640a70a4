"""Contract v2 section 6 from two (or three) python-socketio clients on a real server, on SQLite and
PostgreSQL: replies, mentions, edits, deletion, reactions, with the acks and server events promised."""

import uuid
from typing import Any

from interfaces.contract import EditsAck, ReactionsAck
from projections.shapes import ReactionsUpdated
from tests.support.clients import Person, Socket
from tests.support.contract import assert_message, assert_summary, conforms, direct_conversation, send_ok
from tests.support.server import ServerProcess


async def joined(*sockets: Socket, conversation_id: str) -> None:
    for s in sockets:
        ack = await s.call("join_conversation", {"conversation_id": conversation_id})
        assert ack["ok"] is True, ack


async def disconnect(*sockets: Socket) -> None:
    for s in sockets:
        if s.client.connected:
            await s.disconnect()


def refused(ack: dict[str, Any], code: str) -> None:
    assert ack["ok"] is False and ack["error"]["code"] == code, ack


async def reply(s: Socket, conversation_id: str, body: str, reply_to: str) -> dict[str, Any]:
    payload = {"conversation_id": conversation_id, "client_message_id": str(uuid.uuid4()), "body": body}
    return await s.call("send_message", {**payload, "reply_to": reply_to})


async def edit(s: Socket, conversation_id: str, message_id: str, body: str) -> dict[str, Any]:
    return await s.call("edit_message", {"conversation_id": conversation_id, "message_id": message_id, "body": body})


async def delete(s: Socket, conversation_id: str, message_id: str) -> dict[str, Any]:
    return await s.call("delete_message", {"conversation_id": conversation_id, "message_id": message_id})


async def react(s: Socket, conversation_id: str, message_id: str, emoji: str, add: bool = True) -> dict[str, Any]:
    payload = {"conversation_id": conversation_id, "message_id": message_id, "emoji": emoji, "add": add}
    return await s.call("react", payload)


async def versions(s: Socket, conversation_id: str, message_id: str) -> dict[str, Any]:
    return await s.call("get_message_edits", {"conversation_id": conversation_id, "message_id": message_id})


async def summary_of(s: Socket, conversation_id: str) -> dict[str, Any]:
    ack = await s.call("join_conversation", {"conversation_id": conversation_id})
    assert ack["ok"] is True, ack
    return assert_summary(ack["conversation"])


async def trio(server: ServerProcess) -> tuple[Person, Person, Person, Socket, Socket, Socket, str]:
    alice, bob, carol = (Person(server.url, n).register() for n in ("alice", "bob", "carol"))
    alice.connect_with(bob)
    alice.connect_with(carol)
    a, b, c = await Socket(alice).connect(), await Socket(bob).connect(), await Socket(carol).connect()
    started = await a.call("start_conversation", {"user_ids": [bob.id, carol.id], "title": "Trio"})
    group = started["conversation"]["id"]
    await joined(a, b, c, conversation_id=group)
    return alice, bob, carol, a, b, c, group


async def test_a_reply_quotes_its_message_as_it_is_now_and_mentions_count_for_those_named(
    server: ServerProcess,
) -> None:
    alice, bob, carol, a, b, c, group = await trio(server)
    try:
        first = await send_ok(a, group, "x" * 250)
        answered = await reply(b, group, "@Alice, see this (cc @carol.)", first["id"])
        assert answered["ok"] is True, answered
        message = assert_message(answered["message"])
        assert message["reply_to"] == {
            "id": first["id"],
            "seq": first["seq"],
            "sender_id": alice.id,
            "body": "x" * 200,
            "deleted": False,
        }
        assert message["mentions"] == [alice.id, carol.id]
        for s in (a, c):
            new = await s.next_matching("message_new", lambda m: m["id"] == message["id"], 10)
            assert assert_message(new)["reply_to"] == message["reply_to"] and new["mentions"] == message["mentions"]
        counts = {p: (await summary_of(s, group))["mention_count"] for p, s in (("a", a), ("b", b), ("c", c))}
        assert counts == {"a": 1, "b": 0, "c": 1}

        # @all mentions every other member of a group; the sender never; an email address nobody.
        everyone = await send_ok(c, group, "@all: lunch? mail carol@example.com, @carol")
        assert everyone["mentions"] == [alice.id, bob.id]
        assert (await send_ok(a, group, "me@alice @nobody @alice"))["mentions"] == []
        listed = await a.call("get_conversations")
        assert [(s["id"], s["mention_count"], s["unread_count"]) for s in listed["conversations"]] == [(group, 2, 2)]
        read = await a.call("mark_as_read", {"conversation_id": group, "up_to_seq": 4})
        assert read == {"ok": True, "unread_count": 0}
        assert (await summary_of(a, group))["mention_count"] == 0

        # What a reply may quote.
        refused(await reply(b, group, "to nothing", str(uuid.uuid4())), "not_found")
        direct = await direct_conversation(a, bob)
        elsewhere = await send_ok(a, direct, "in another conversation")
        refused(await reply(b, group, "to another conversation", elsewhere["id"]), "not_found")
        history = await b.call("get_messages", {"conversation_id": group})
        assert [m["seq"] for m in history["messages"]] == [1, 2, 3, 4], "a refused reply stored nothing"
        assert history["messages"][1]["reply_to"]["id"] == first["id"]
    finally:
        await disconnect(a, b, c)


async def test_an_edit_keeps_every_version_recomputes_mentions_and_tells_the_members(server: ServerProcess) -> None:
    alice, bob, carol, a, b, c, group = await trio(server)
    try:
        original = await send_ok(a, group, "helo")
        for s in (b, c):
            await s.next_matching("message_new", lambda m: m["id"] == original["id"], 10)
        edited = await edit(a, group, original["id"], "  hello @bob  ")
        assert edited["ok"] is True, edited
        message = assert_message(edited["message"])
        assert (message["id"], message["seq"], message["body"]) == (original["id"], 1, "hello @bob")
        assert message["edited_at"] is not None and message["edited_at"] >= original["sent_at"]
        assert message["mentions"] == [bob.id]
        for s in (a, b, c):
            updated = await s.next("message_updated", 10)
            assert assert_message(updated) == {**message, "status": updated["status"]}
        mentioned = await b.next_matching("conversation_updated", lambda x: x["mention_count"] == 1, 10)
        assert mentioned["last_message"]["body"] == "hello @bob"

        again = await edit(a, group, original["id"], "hello @carol")
        assert again["ok"] is True and again["message"]["mentions"] == [carol.id], again
        assert (await summary_of(b, group))["mention_count"] == 0
        assert (await summary_of(c, group))["mention_count"] == 1
        shown = await versions(c, group, original["id"])
        conforms(EditsAck, shown)
        assert [v["body"] for v in shown["versions"]] == ["helo", "hello @bob", "hello @carol"]
        assert shown["versions"][0]["at"] == original["sent_at"]
        assert shown["versions"][-1]["at"] == again["message"]["edited_at"]

        # The same text again (after normalisation) writes and emits nothing.
        same = await edit(a, group, original["id"], "hello @carol\n")
        assert same["ok"] is True and same["message"]["edited_at"] == again["message"]["edited_at"], same
        sentinel = await send_ok(a, group, "sentinel")
        assert [m["body"] for m in await b.arrived_before("message_new", lambda m: m["id"] == sentinel["id"])] == []
        updates = b.pending("message_updated")
        assert [u["body"] for u in updates] == ["hello @carol"], "only the second edit before the sentinel"
        assert len((await versions(b, group, original["id"]))["versions"]) == 3

        # Only the sender edits; a body follows send_message's rules; the message must be this conversation's.
        refused(await edit(b, group, original["id"], "not yours"), "forbidden")
        refused(await edit(a, group, original["id"], "   "), "validation_error")
        refused(await edit(a, group, original["id"], "x" * 4001), "validation_error")
        refused(await edit(a, group, str(uuid.uuid4()), "no such"), "not_found")
        refused(await versions(a, group, str(uuid.uuid4())), "not_found")
        dave = Person(server.url, "dave").register()
        d = await Socket(dave).connect()
        refused(await edit(d, group, original["id"], "outsider"), "not_a_member")
        refused(await versions(d, group, original["id"]), "not_a_member")
        refused(await edit(a, str(uuid.uuid4()), original["id"], "nowhere"), "not_found")
        await d.disconnect()
    finally:
        await disconnect(a, b, c)


async def test_a_deleted_message_is_a_tombstone_that_stops_counting(server: ServerProcess) -> None:
    alice, bob, carol, a, b, c, group = await trio(server)
    try:
        hello = await send_ok(b, group, "hello @carol")
        quoting = (await reply(a, group, "quoting it", hello["id"]))["message"]
        assert (await edit(b, group, hello["id"], "hello again @carol"))["ok"] is True
        assert await react(c, group, hello["id"], "👍") == {
            "ok": True,
            "reactions": [{"emoji": "👍", "user_ids": [carol.id]}],
        }
        before = await summary_of(c, group)
        assert (before["unread_count"], before["mention_count"]) == (2, 1)

        deleted = await delete(b, group, hello["id"])
        assert deleted["ok"] is True, deleted
        tombstone = assert_message(deleted["message"])
        kept = ("id", "conversation_id", "seq", "sender_id", "client_message_id", "sent_at", "kind")
        assert {k: tombstone[k] for k in kept} == {k: hello[k] for k in kept}
        assert (tombstone["deleted"], tombstone["body"], tombstone["edited_at"], tombstone["reply_to"]) == (
            True,
            "",
            None,
            None,
        )
        assert tombstone["mentions"] == [] and tombstone["reactions"] == []
        for s in (a, b, c):
            updated = await s.next_matching("message_updated", lambda m: m["deleted"], 10)
            assert updated["id"] == hello["id"] and updated["body"] == ""
        after = await c.next_matching("conversation_updated", lambda x: x["unread_count"] == 1, 10)
        while after["mention_count"] == 1:  # (the summaries from before the deletion are queued first)
            after = await c.next_matching("conversation_updated", lambda x: x["unread_count"] == 1, 10)
        assert after["mention_count"] == 0 and after["last_message"]["id"] == quoting["id"]
        assert (await summary_of(a, group))["unread_count"] == 0  # alice's own reply is the only other message

        page = (await c.call("get_messages", {"conversation_id": group}))["messages"]
        assert [(m["seq"], m["deleted"], m["body"]) for m in page] == [(1, True, ""), (2, False, "quoting it")]
        assert page[1]["reply_to"] == {"id": hello["id"], "seq": 1, "sender_id": bob.id, "body": "", "deleted": True}
        assert (await versions(a, group, hello["id"]))["versions"] == []

        # Deleting again returns the tombstone and writes nothing; nothing else may touch it.
        c.pending("message_new"), c.pending("message_updated")  # (what came so far)
        again = await delete(b, group, hello["id"])
        assert again["ok"] is True and again["message"]["deleted"] is True, again
        refused(await edit(b, group, hello["id"], "back"), "invalid_state")
        refused(await react(a, group, hello["id"], "👍"), "invalid_state")
        refused(await reply(c, group, "to a tombstone", hello["id"]), "invalid_state")
        sentinel = await send_ok(a, group, "sentinel")
        assert await c.arrived_before("message_new", lambda m: m["id"] == sentinel["id"]) == []
        assert c.pending("message_updated") == []

        # A member deletes their own only; the group's owner (its starter) any; the tombstone stays last.
        refused(await delete(c, group, quoting["id"]), "forbidden")
        by_owner = await delete(a, group, sentinel["id"])
        assert by_owner["ok"] is True and by_owner["message"]["deleted"] is True
        carols = await send_ok(c, group, "mine")
        refused(await delete(b, group, carols["id"]), "forbidden")
        assert (await delete(a, group, carols["id"]))["ok"] is True
        last = (await summary_of(b, group))["last_message"]
        assert last["id"] == carols["id"] and last["deleted"] is True and last["body"] == ""
    finally:
        await disconnect(a, b, c)


async def test_reactions_are_single_qualified_emoji_in_order_at_most_twenty_per_message(server: ServerProcess) -> None:
    alice, bob, carol, a, b, c, group = await trio(server)
    try:
        message = await send_ok(a, group, "react to me")
        ref = message["id"]
        first = await react(b, group, ref, "👍🏽")
        conforms(ReactionsAck, first)
        assert first["reactions"] == [{"emoji": "👍🏽", "user_ids": [bob.id]}]
        for s in (a, b, c):
            update = await s.next("reactions_updated", 10)
            conforms(ReactionsUpdated, update)
            assert update == {"conversation_id": group, "message_id": ref, "reactions": first["reactions"]}
        assert (await react(c, group, ref, "👩🏽‍💻"))["ok"] is True
        both = await react(a, group, ref, "👍🏽")
        assert both["reactions"] == [
            {"emoji": "👍🏽", "user_ids": [bob.id, alice.id]},
            {"emoji": "👩🏽‍💻", "user_ids": [carol.id]},
        ]
        # Adding one that is there, or removing one that is not, writes and emits nothing.
        assert (await react(a, group, ref, "👍🏽"))["reactions"] == both["reactions"]
        assert (await react(a, group, ref, "🎉", add=False))["reactions"] == both["reactions"]
        removed = await react(c, group, ref, "👩🏽‍💻", add=False)
        assert removed["reactions"] == [{"emoji": "👍🏽", "user_ids": [bob.id, alice.id]}]
        sentinel = await send_ok(b, group, "sentinel")
        await a.arrived_before("message_new", lambda m: m["id"] == sentinel["id"])
        updates = a.pending("reactions_updated")
        assert len(updates) == 3, "one per change, none for the two that changed nothing"
        assert updates[-1]["reactions"] == removed["reactions"]
        page = (await c.call("get_messages", {"conversation_id": group}))["messages"]
        assert page[0]["reactions"] == removed["reactions"]
        summary = await summary_of(c, group)
        assert summary["last_message"]["id"] == sentinel["id"] and summary["unread_count"] == 2, "reactions count not"

        for bad in ("a", "👍👍", "❤", ":thumbsup:", "", "👍 "):
            refused(await react(a, group, ref, bad), "validation_error")
        for emoji in ("😀", "🏳️‍🌈", "🇫🇷", "1️⃣", "❤️", "🫱🏻‍🫲🏿"):
            assert (await react(c, group, ref, emoji))["ok"] is True, emoji
        more = ["😃", "😄", "😁", "😆", "😅", "🤣", "😂", "🙂", "🙃", "😉", "😊", "😇", "🥰"]
        for emoji in more:
            full = await react(b, group, ref, emoji)
            assert full["ok"] is True, emoji
        assert len(full["reactions"]) == 20 and full["reactions"][-1]["emoji"] == "🥰"
        refused(await react(a, group, ref, "🚀"), "invalid_state")
        assert (await react(a, group, ref, "😂"))["ok"] is True, "an existing one may still be added to"
        refused(await react(a, str(uuid.uuid4()), ref, "👍"), "not_found")
        refused(await react(a, group, str(uuid.uuid4()), "👍"), "not_found")
    finally:
        await disconnect(a, b, c)


async def test_former_connections_may_delete_but_neither_edit_nor_react(server: ServerProcess) -> None:
    alice, bob = Person(server.url, "alice").register(), Person(server.url, "bob").register()
    alice.connect_with(bob)
    a, b = await Socket(alice).connect(), await Socket(bob).connect()
    try:
        conversation = await direct_conversation(a, bob)
        mine = await send_ok(a, conversation, "@bob hi")
        assert mine["mentions"] == [bob.id]
        assert (await send_ok(b, conversation, "@all is nobody here"))["mentions"] == []
        with alice.http() as http:
            connection = http.get("/api/connections").json()["connections"][0]["id"]
            assert http.delete(f"/api/connections/{connection}").status_code == 200
        refused(await edit(a, conversation, mine["id"], "changed"), "not_connected")
        refused(await react(b, conversation, mine["id"], "👍"), "not_connected")
        refused(await delete(b, conversation, mine["id"]), "forbidden")
        gone = await delete(a, conversation, mine["id"])
        assert gone["ok"] is True and gone["message"]["deleted"] is True, gone
        assert (await versions(b, conversation, mine["id"]))["versions"] == []
    finally:
        await disconnect(a, b)
