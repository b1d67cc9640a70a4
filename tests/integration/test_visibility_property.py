"""Property: whatever the interleaving of sends, additions, removals, departures and reads in a group,
what each user can read (get_messages) equals a direct computation over the conversation's events
(every message, system ones included, sent during one of their membership periods, both ends
included), and each member's unread count equals a recount over what they can see; on both
databases, and again after a rebuild."""

from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.conversations import Conversation
from domain.errors import DomainError, NotAMember
from interfaces.bootstrap import Container
from projections.history import conversation_at
from projections.rebuild import rebuild
from projections.tables import LIVE_PREFIX
from projections.verify import verify

PEOPLE = 5
operation = st.one_of(
    st.tuples(st.just("send"), st.integers(0, PEOPLE - 1), st.just(0)),
    st.tuples(st.just("add"), st.integers(0, PEOPLE - 1), st.integers(0, PEOPLE - 1)),
    st.tuples(st.just("remove"), st.integers(0, PEOPLE - 1), st.integers(0, PEOPLE - 1)),
    st.tuples(st.just("leave"), st.integers(0, PEOPLE - 1), st.just(0)),
    st.tuples(st.just("read"), st.integers(0, PEOPLE - 1), st.integers(0, 40)),
)


def everyone_connected(container: Container) -> list[UUID]:
    app = container.app
    users = [app.register_user(f"person{i}", "password").id for i in range(PEOPLE)]
    for i in range(PEOPLE):
        for j in range(i + 1, PEOPLE):
            app.accept_connection(app.request_connection(users[i], f"person{j}").id, users[j])
    return users


def visible_from_events(container: Container, conversation: UUID) -> dict[str, set[int]]:
    """user id -> the seqs they may read, computed from the events alone."""
    periods: dict[str, list[list[int | None]]] = {}
    seqs: list[int] = []
    for e in container.app.events.get(conversation):
        if isinstance(e, Conversation.ConversationStarted):
            for m in e.member_ids:
                periods[str(m)] = [[1, None]]
        elif isinstance(e, Conversation.MembersAdded):
            for m in e.user_ids:
                periods.setdefault(str(m), []).append([e.seq, None])
        elif isinstance(e, Conversation.MemberRemoved | Conversation.MemberLeft):
            periods[str(e.user_id)][-1][1] = e.seq
        if isinstance(e, Conversation.MessageSent | Conversation.MembersAdded | Conversation.MemberRemoved):
            seqs.append(e.seq)
        elif isinstance(e, Conversation.MemberLeft | Conversation.MemberRoleChanged):
            seqs.append(e.seq)
    return {
        user: {s for s in seqs if any(a is not None and a <= s and (b is None or s <= b) for a, b in its)}
        for user, its in periods.items()
    }


def check_reads(container: Container, conversation: UUID, users: list[UUID]) -> dict[str, Any]:
    expected = visible_from_events(container, conversation)
    seen: dict[str, Any] = {}
    for user in users:
        try:
            messages, has_more = container.queries.messages(conversation, user, None, None, 200)
        except NotAMember:
            assert str(user) not in expected
            continue
        assert not has_more
        assert {m["seq"] for m in messages} == expected[str(user)], user
        seen[str(user)] = [m["id"] for m in messages]
    with container.db.transaction(commit=False) as cur:
        rows = cur.execute(
            f"SELECT user_id, unread_count, last_read_seq FROM {LIVE_PREFIX}members WHERE conversation_id = ?",
            (str(conversation),),
        ).fetchall()
        texts = cur.execute(
            f"SELECT seq, sender_id FROM {LIVE_PREFIX}messages WHERE conversation_id = ? AND kind = 'text'",
            (str(conversation),),
        ).fetchall()
    for row in rows:
        counted = [
            t
            for t in texts
            if t["seq"] > row["last_read_seq"]
            and t["sender_id"] != row["user_id"]
            and t["seq"] in expected[row["user_id"]]
        ]
        assert row["unread_count"] == len(counted), row
        seen[f"unread {row['user_id']}"] = row["unread_count"]
    return seen


def test_what_each_user_reads_follows_their_membership_periods(container: Container) -> None:
    users = everyone_connected(container)
    app = container.app
    conversations: list[UUID] = []

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(operation, max_size=30))
    def check(operations: list[tuple[str, int, int]]) -> None:
        conversation = app.start_conversation(users[0], users[1:3], "property").id
        conversations.append(conversation)
        for n, (kind, who, other) in enumerate(operations):
            try:
                if kind == "send":
                    app.send_message(conversation, users[who], uuid4(), f"text {n}")
                elif kind == "add":
                    app.add_members(conversation, users[who], [users[other]])
                elif kind == "remove":
                    app.remove_member(conversation, users[who], users[other])
                elif kind == "leave":
                    app.leave_group(conversation, users[who])
                else:
                    app.mark_read(conversation, users[who], other)
            except DomainError:
                pass  # refused by a rule (not a member, not allowed, ...): nothing was written
            if n % 5 == 0:
                container.projector.catch_up()  # batches of varied lengths: folded and not
        container.projector.catch_up()
        check_reads(container, conversation, users)

    check()
    before = {c: check_reads(container, c, users) for c in conversations}
    rebuild(app, container.db)
    assert {c: check_reads(container, c, users) for c in conversations} == before


def test_time_travel_and_verify_cover_membership_title_roles_and_mutes(container: Container) -> None:
    users = everyone_connected(container)
    app = container.app
    group = app.start_conversation(users[0], users[1:3], "Before").id
    app.send_message(group, users[1], uuid4(), "hello")
    added = app.add_members(group, users[0], [users[3]])
    app.rename_conversation(group, users[0], "After")
    app.set_member_role(group, users[0], users[1], "admin")
    app.remove_member(group, users[1], users[2])
    app.mute_conversation(group, users[3], "9999-12-31T23:59:59.000000+00:00")
    app.leave_group(group, users[0])
    container.projector.catch_up()

    then = conversation_at(app, container.positions, group, added.position)
    assert then["conversation"]["title"] == "Before"
    assert {m["user"]["id"]: m["role"] for m in then["members"]} == {
        str(users[0]): "owner",
        str(users[1]): "member",
        str(users[2]): "member",
        str(users[3]): "member",
    }
    assert [m["kind"] for m in then["messages"]] == ["text", "system"]
    now = conversation_at(app, container.positions, group, None, viewer=users[2])  # a former member looks too
    assert now["conversation"]["title"] == "After"
    assert {m["user"]["id"]: m["role"] for m in now["members"]} == {str(users[1]): "owner", str(users[3]): "member"}
    assert [m["system"]["type"] for m in now["messages"] if m["system"]] == [
        "member_added",
        "renamed",
        "role_changed",
        "member_removed",
        "member_left",
        "role_changed",
    ]
    assert verify(app, container.db).ok
