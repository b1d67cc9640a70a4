"""Property: whatever the interleaving of sends and marks, each member's unread_count equals the count
recomputed from the history (messages by others above the member's read marker)."""

from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interfaces.bootstrap import Container
from projections.tables import LIVE_PREFIX

MEMBERS = 3
operation = st.one_of(
    st.tuples(st.just("send"), st.integers(0, MEMBERS - 1), st.just(0)),
    st.tuples(st.just("read"), st.integers(0, MEMBERS - 1), st.integers(0, 30)),
    st.tuples(st.just("delivered"), st.integers(0, MEMBERS - 1), st.integers(0, 30)),
)


def group_of_three(container: Container) -> list[UUID]:
    app = container.app
    users = [app.register_user(f"member{i}", "password").id for i in range(MEMBERS)]
    for i in range(1, MEMBERS):
        app.accept_connection(app.request_connection(users[0], f"member{i}").id, users[i])
    return users


def test_unread_counts_equal_a_recount_from_history(container: Container) -> None:
    users = group_of_three(container)
    app = container.app

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(operation, max_size=40))
    def check(operations: list[tuple[str, int, int]]) -> None:
        conversation = app.start_conversation(users[0], users[1:], "property").id
        for kind, who, up_to in operations:
            if kind == "send":
                app.send_message(conversation, users[who], uuid4(), "x")
            elif kind == "read":
                app.mark_read(conversation, users[who], up_to)
            else:
                app.mark_delivered(conversation, users[who], up_to)
        container.projector.catch_up()
        with container.db.transaction(commit=False) as cur:
            members = cur.execute(
                f"SELECT user_id, unread_count, last_read_seq, last_delivered_seq FROM {LIVE_PREFIX}members "
                "WHERE conversation_id = ?",
                (str(conversation),),
            ).fetchall()
            messages = cur.execute(
                f"SELECT seq, sender_id FROM {LIVE_PREFIX}messages WHERE conversation_id = ?", (str(conversation),)
            ).fetchall()
        assert sorted(m["seq"] for m in messages) == list(range(1, len(messages) + 1))
        for member in members:
            recount = sum(
                1 for m in messages if m["seq"] > member["last_read_seq"] and m["sender_id"] != member["user_id"]
            )
            assert member["unread_count"] == recount >= 0
            assert member["last_delivered_seq"] >= member["last_read_seq"]
            assert member["last_read_seq"] <= len(messages)

    check()
