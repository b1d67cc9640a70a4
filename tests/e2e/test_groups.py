"""Contract v2 section 7 from python-socketio clients on a real server, on SQLite and PostgreSQL:
adding, removing, leaving, renaming and roles, their system messages, and who sees what afterwards."""

import uuid
from typing import Any

from tests.e2e.test_message_lifecycle import disconnect, joined, refused, summary_of, trio
from tests.support.clients import Person, Socket
from tests.support.contract import assert_message, assert_summary, send_ok
from tests.support.server import ServerProcess


async def ok(s: Socket, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    ack = await s.call(event, payload)
    assert ack["ok"] is True, ack
    return assert_summary(ack["conversation"])


async def messages(s: Socket, group: str) -> list[dict[str, Any]]:
    ack = await s.call("get_messages", {"conversation_id": group})
    assert ack["ok"] is True, ack
    return [assert_message(m) for m in ack["messages"]]


async def test_membership_changes_are_system_messages_and_history_follows_the_periods(server: ServerProcess) -> None:
    alice, bob, carol, a, b, c, group = await trio(server)
    dave = Person(server.url, "dave").register()
    alice.connect_with(dave)
    d = await Socket(dave).connect()
    ref = {"conversation_id": group}
    try:
        before = await send_ok(a, group, "before dave")
        added = await ok(a, "add_members", {**ref, "user_ids": [dave.id, bob.id]})
        assert {m["user"]["id"]: m["role"] for m in added["members"]} == {
            alice.id: "owner",
            bob.id: "member",
            carol.id: "member",
            dave.id: "member",
        }
        assert added["role"] == "owner" and added["left"] is False
        system = await b.next_matching("message_new", lambda m: m["kind"] == "system")
        assert assert_message(system)["system"]["type"] == "member_added"
        assert system["system"]["user_ids"] == [dave.id] and system["seq"] == before["seq"] + 1
        assert system["body"] == "" and system["sender_id"] == alice.id

        # dave sees from the message that added him; his markers start just below it
        await joined(d, conversation_id=group)
        seen = await messages(d, group)
        assert [m["seq"] for m in seen] == [system["seq"]]
        mine = await summary_of(d, group)
        assert mine["unread_count"] == 0
        dave_member = next(m for m in mine["members"] if m["user"]["id"] == dave.id)
        assert dave_member["last_read_seq"] == system["seq"] - 1

        # changes to messages before his period are not his: no events, no edits, no reactions
        await ok(a, "join_conversation", ref)
        edited = await a.call("edit_message", {**ref, "message_id": before["id"], "body": "before dave, edited"})
        assert edited["ok"] is True, edited
        await b.next_matching("message_updated", lambda m: m["id"] == before["id"])
        hello = await send_ok(a, group, "hello dave")
        assert (await a.call("react", {**ref, "message_id": hello["id"], "emoji": "👍", "add": True}))["ok"] is True
        await d.next_matching("reactions_updated", lambda e: e["message_id"] == hello["id"])
        assert all(m["id"] != before["id"] for m in d.pending("message_updated"))
        old = {**ref, "message_id": before["id"]}
        refused(await d.call("get_message_edits", old), "not_found")
        refused(await d.call("react", {**old, "emoji": "👍", "add": True}), "not_found")
        refused(
            await d.call(
                "send_message", {**ref, "client_message_id": str(uuid.uuid4()), "body": "re", "reply_to": before["id"]}
            ),
            "not_found",
        )

        # system messages never count as unread; GET /api/unread leaves muted conversations out
        assert (await summary_of(b, group))["unread_count"] == 2
        assert bob.http().get("/api/unread").json() == {"unread_count": 2, "mention_count": 0}
        muted = await ok(b, "mute_conversation", {**ref, "until": "9999-12-31T23:59:59Z"})
        assert muted["muted_until"] is not None and muted["unread_count"] == 2
        assert bob.http().get("/api/unread").json() == {"unread_count": 0, "mention_count": 0}
        assert (await ok(b, "mute_conversation", {**ref, "until": None}))["muted_until"] is None

        # only the owner or an admin adds, renames, removes; only the owner sets roles
        refused(await b.call("add_members", {**ref, "user_ids": [alice.id]}), "forbidden")
        refused(await b.call("rename_conversation", {**ref, "title": "Mine"}), "forbidden")
        refused(await b.call("set_member_role", {**ref, "user_id": carol.id, "role": "admin"}), "forbidden")
        refused(await a.call("remove_member", {**ref, "user_id": alice.id}), "invalid_state")
        refused(await a.call("rename_conversation", {**ref, "title": "  "}), "validation_error")
        renamed = await ok(a, "rename_conversation", {**ref, "title": "  New\tname "})
        assert renamed["title"] == "New name"
        promoted = await ok(a, "set_member_role", {**ref, "user_id": bob.id, "role": "admin"})
        assert {m["user"]["id"]: m["role"] for m in promoted["members"]}[bob.id] == "admin"
        refused(await b.call("remove_member", {**ref, "user_id": alice.id}), "forbidden")

        # bob (admin) removes carol: she gets a last conversation_updated (left), then nothing more
        removed = await ok(b, "remove_member", {**ref, "user_id": carol.id})
        assert carol.id in [u["id"] for u in removed["former_members"]]
        assert carol.id not in [m["user"]["id"] for m in removed["members"]]
        last = await c.next_matching("conversation_updated", lambda s: s["id"] == group and s["left"])
        assert assert_summary(last)["role"] is None
        removal = last["last_message"]
        assert removal["system"]["type"] == "member_removed" and removal["system"]["user_ids"] == [carol.id]
        after = await send_ok(a, group, "after carol")
        await b.next_matching("message_new", lambda m: m["id"] == after["id"])
        assert all(m["id"] != after["id"] for m in c.pending("message_new"))
        assert [m["seq"] for m in await messages(c, group)][-1] == removal["seq"]
        await ok(a, "rename_conversation", {**ref, "title": "Later name"})
        hers = await summary_of(c, group)  # as it was when she left: title, members, last message
        assert hers["title"] == "New name" and hers["left"] is True
        assert {m["user"]["id"] for m in hers["members"]} == {alice.id, bob.id, dave.id}
        assert hers["last_message"]["id"] == removal["id"]
        refused(await c.send(group, "still here?"), "not_a_member")
        refused(await c.call("typing_start", ref), "not_a_member")
        mark = await c.call("mark_as_read", {**ref, "up_to_seq": after["seq"]})
        assert mark["ok"] is True and mark["unread_count"] == 0

        # the owner leaves: ownership passes to the longest-standing admin (bob)
        gone = await ok(a, "leave_group", ref)
        assert gone["left"] is True and gone["role"] is None
        roles = {m["user"]["id"]: m["role"] for m in (await summary_of(b, group))["members"]}
        assert roles == {bob.id: "owner", dave.id: "member"}
        kinds = [m["system"]["type"] for m in (await messages(b, group)) if m["kind"] == "system"]
        assert kinds[-2:] == ["member_left", "role_changed"]

        # direct conversations take none of these
        direct = (await a.call("start_conversation", {"user_ids": [bob.id]}))["conversation"]["id"]
        refused(await a.call("leave_group", {"conversation_id": direct}), "invalid_state")
    finally:
        await disconnect(a, b, c, d)
