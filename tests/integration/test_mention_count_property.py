"""Property: whatever the interleaving of sends (with and without mentions), edits, deletions and reads,
each member's unread_count and mention_count equal a recount from the messages as they are now (text
messages, not deleted, by others, above the member's read marker; for mentions, those naming them), on
both databases; and a rebuild gives the same counts."""

from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from interfaces.bootstrap import Container
from projections.rebuild import rebuild
from projections.tables import LIVE_PREFIX
from tests.integration.test_unread_property import MEMBERS, group_of_three

operation = st.one_of(
    st.tuples(st.just("send"), st.integers(0, MEMBERS - 1), st.integers(-1, MEMBERS)),  # mention: who (or @all)
    st.tuples(st.just("edit"), st.integers(0, 30), st.integers(-1, MEMBERS)),
    st.tuples(st.just("delete"), st.integers(0, 30), st.just(0)),
    st.tuples(st.just("read"), st.integers(0, MEMBERS - 1), st.integers(0, 30)),
)


def body(n: int, mention: int) -> str:
    if mention == -1:
        return f"text {n}"
    return f"text {n} @{'all' if mention == MEMBERS else f'member{mention}'}"


def counts(container: Container, conversation: UUID) -> dict[str, tuple[int, int]]:
    with container.db.transaction(commit=False) as cur:
        members = cur.execute(
            f"SELECT user_id, unread_count, mention_count, last_read_seq FROM {LIVE_PREFIX}members "
            "WHERE conversation_id = ?",
            (str(conversation),),
        ).fetchall()
        messages = cur.execute(
            f"SELECT seq, sender_id, mentions, deleted FROM {LIVE_PREFIX}messages WHERE conversation_id = ?",
            (str(conversation),),
        ).fetchall()
    found = {}
    for member in members:
        counted = [
            m
            for m in messages
            if m["seq"] > member["last_read_seq"] and m["sender_id"] != member["user_id"] and not m["deleted"]
        ]
        mentioning = [m for m in counted if member["user_id"] in m["mentions"].split()]
        assert (member["unread_count"], member["mention_count"]) == (len(counted), len(mentioning)), member
        found[member["user_id"]] = (member["unread_count"], member["mention_count"])
    return found


def test_unread_and_mention_counts_equal_a_recount_whatever_the_interleaving(container: Container) -> None:
    users = group_of_three(container)
    app = container.app
    conversations: list[UUID] = []

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(operation, max_size=40))
    def check(operations: list[tuple[str, int, int]]) -> None:
        conversation = app.start_conversation(users[0], users[1:], "property").id
        conversations.append(conversation)
        sent: list[tuple[UUID, UUID]] = []  # (message id, sender)
        for n, (kind, who, extra) in enumerate(operations):
            try:
                if kind == "send":
                    recorded = app.send_message(conversation, users[who], uuid4(), body(n, extra))
                    sent.append((recorded.message_id, users[who]))
                elif kind == "edit" and sent:
                    message_id, sender = sent[who % len(sent)]
                    app.edit_message(conversation, sender, message_id, body(n, extra))
                elif kind == "delete" and sent:
                    message_id, sender = sent[who % len(sent)]
                    app.delete_message(conversation, sender, message_id)
                elif kind == "read":
                    app.mark_read(conversation, users[who], extra)
            except DomainError as error:  # only an edit of a deleted message is refused
                assert kind == "edit", error
            if n % 7 == 0:
                container.projector.catch_up()  # batches of varied lengths: folded and not
        container.projector.catch_up()
        counts(container, conversation)

    check()
    before = {c: counts(container, c) for c in conversations}
    rebuild(app, container.db)
    assert {c: counts(container, c) for c in conversations} == before
