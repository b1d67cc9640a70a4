"""Export -> import -> rebuild reproduces the read models; time travel matches what the live read
models said at the time; filters pick the right events; imports check what they load."""

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.audit import Filters, ImportRefused, check_export, export_events, import_events
from infrastructure.settings import Settings
from interfaces.bootstrap import Container, bootstrap
from projections.history import conversation_at
from tests.integration.test_rebuild import dump
from tests.support.databases import database
from tests.support.fakes import PlainPasswords
from tests.support.workload import run_workload


@pytest.fixture
def empty_store(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Container]:
    """A second, empty store on the same engine as the test's database."""
    kind = "postgres" if database_url.startswith("postgresql") else "sqlite"
    (tmp_path / "other").mkdir()
    with database(kind, tmp_path / "other") as url:
        container = bootstrap(Settings(database_url=url, jwt_secret="s" * 40), passwords=PlainPasswords())
        yield container
        container.close()


def live_view(container: Container, conversation: UUID) -> dict[str, Any]:
    """What the live read models say about a conversation now (members' markers, unread, statuses)."""
    summaries = container.queries.reads
    with container.db.transaction(commit=False) as cur:
        per_member = summaries.summaries(cur, [str(conversation)], lambda ids: set())[str(conversation)]
        messages, _ = summaries.messages(cur, str(conversation), None, None, 200)
    return {
        "members": sorted(
            (user, s["unread_count"], m["last_delivered_seq"], m["last_read_seq"])
            for user, s in per_member.items()
            for m in s["members"]
            if m["user"]["id"] == user
        ),
        "messages": [(m["seq"], m["body"], m["status"]) for m in messages],
    }


def travelled_view(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {
        "members": sorted(
            (m["user"]["id"], m["unread_count"], m["last_delivered_seq"], m["last_read_seq"])
            for m in snapshot["members"]
        ),
        "messages": [(m["seq"], m["body"], m["status"]) for m in snapshot["messages"]],
    }


def test_export_then_import_into_an_empty_store_rebuilds_identical_read_models(
    container: Container, empty_store: Container
) -> None:
    work = run_workload(container.app, users=8, messages=150)
    container.projector.catch_up()
    lines = [json.dumps(item) for item in export_events(container.app, with_credentials=True)]
    assert len(lines) == len(container.app.recorder.select_notifications(start=None, limit=100_000))
    assert all(json.loads(line)["data"] is not None for line in lines)

    imported = import_events(empty_store.app, (json.loads(line) for line in lines))
    empty_store.projector.catch_up()

    assert imported == len(lines)
    assert dump(empty_store) == {**dump(container), "position": dump(empty_store)["position"]}
    assert work.marks > 0 and work.refused > 0  # receipts out of order and refused sends were in the log
    again = [json.dumps(item) for item in export_events(empty_store.app, with_credentials=True)]
    strip = lambda line: {k: v for k, v in json.loads(line).items() if k != "position"}  # noqa: E731
    assert [strip(line) for line in again] == [strip(line) for line in lines]


def test_time_travel_matches_what_the_live_read_models_said_at_the_time(container: Container) -> None:
    app = container.app
    users = [app.register_user(name, "password").id for name in ("ann", "ben", "cat")]
    for i, name in enumerate(("ben", "cat"), start=1):
        app.accept_connection(app.request_connection(users[0], name).id, users[i])
    conversation = app.start_conversation(users[0], users[1:], "Plans").id
    checkpoints: list[tuple[int, Any, dict[str, Any]]] = []
    script = [
        ("send", 0),
        ("send", 1),
        ("delivered", 2, 2),
        ("send", 0),
        ("read", 1, 3),
        ("read", 2, 1),
        ("send", 2),
        ("read", 0, 9),
        ("delivered", 1, 4),
        ("send", 1),
    ]
    from uuid import uuid4

    for step in script:
        if step[0] == "send":
            app.send_message(conversation, users[step[1]], uuid4(), f"step {len(checkpoints)}")
        elif step[0] == "read":
            app.mark_read(conversation, users[step[1]], step[2])
        else:
            app.mark_delivered(conversation, users[step[1]], step[2])
        container.projector.catch_up()
        position = container.projector.position
        moment = app.repository.get(conversation).modified_on
        checkpoints.append((position, moment, live_view(container, conversation)))

    for position, moment, seen in checkpoints:
        assert travelled_view(conversation_at(app, container.positions, conversation, position)) == seen
        assert travelled_view(conversation_at(app, container.positions, conversation, moment)) == seen

    # The members are the contract's User shape, as the live read models give it (created_at included).
    with container.db.transaction(commit=False) as cur:
        live = container.queries.reads.summaries(cur, [str(conversation)], lambda ids: set())[str(conversation)]
    live_users = sorted((m["user"] for m in next(iter(live.values()))["members"]), key=lambda u: u["id"])
    travelled = conversation_at(app, container.positions, conversation, None)
    assert sorted((m["user"] for m in travelled["members"]), key=lambda u: u["id"]) == live_users


def test_filtered_exports_pick_a_conversation_or_a_users_activity(container: Container) -> None:
    work = run_workload(container.app, users=6, messages=60)
    conversation = work.conversations[0]
    items = list(export_events(container.app, Filters(conversation=conversation)))
    assert items and {i["aggregate_id"] for i in items} == {str(conversation)}
    assert items[0]["type"] == "ConversationStarted"

    user = work.users[3]
    mine = list(export_events(container.app, Filters(user=user)))
    types = {i["type"] for i in mine}
    assert "UserRegistered" in types and "UsernameClaimed" not in types
    registered = [i for i in mine if i["type"] == "UserRegistered"]
    assert len(registered) == 1 and "password_hash" not in registered[0]["data"]
    for item in mine:
        if item["type"] == "MessageSent":
            assert item["data"]["sender_id"] == str(user)
        if item["type"] in ("ReactionAdded", "ReactionRemoved"):
            assert item["data"]["user_id"] == str(user)
        if item["type"] == "MessageDeleted":
            assert item["data"]["deleted_by"] == str(user)
    sent_by_them = {i["data"]["message_id"] for i in mine if i["type"] == "MessageSent"}
    edits = [i for i in list(export_events(container.app)) if i["type"] == "MessageEdited"]
    assert edits, "the workload edits"
    assert {i["data"]["message_id"] for i in mine if i["type"] == "MessageEdited"} == {
        i["data"]["message_id"] for i in edits if i["data"]["message_id"] in sent_by_them
    }
    everything = list(export_events(container.app))
    middle = everything[len(everything) // 2]["timestamp"]
    since = list(export_events(container.app, Filters(since=datetime.fromisoformat(middle))))
    assert since and all(i["timestamp"] >= middle for i in since) and len(since) < len(everything)


def test_an_import_checks_its_input_and_refuses_a_store_that_is_not_empty(
    container: Container, empty_store: Container
) -> None:
    run_workload(container.app, users=4, messages=20)
    items = list(export_events(container.app, with_credentials=True))
    shuffled = [items[1], items[0], *items[2:]]
    with pytest.raises(ImportRefused, match="position"):
        import_events(empty_store.app, shuffled)
    gap = [dict(item) for item in items]
    gap[5] = {**gap[5], "version": gap[5]["version"] + 1}
    with pytest.raises(ImportRefused, match="version"):
        import_events(empty_store.app, gap[:6])
    with pytest.raises(ImportRefused, match="not empty"):
        import_events(container.app, items)


def test_credentials_are_left_out_unless_asked_for_and_an_import_needs_them(
    container: Container, empty_store: Container
) -> None:
    """Password hashes (User.UserRegistered, User.PasswordChanged) leave the store only with
    `with_credentials`; an export without them is refused by an import, which writes nothing."""
    app = container.app
    ann = app.register_user("ann", "first password").id
    ben = app.register_user("ben", "password").id
    app.change_password(ann, "first password", "second password")
    app.accept_connection(app.request_connection(ann, "ben").id, ben)
    hashes = {"plain$first password", "plain$second password", "plain$password"}

    default = list(export_events(app))
    credentialed = [i for i in default if i["type"] in ("UserRegistered", "PasswordChanged")]
    assert len(credentialed) == 3
    assert all("password_hash" not in i["data"] and i["omitted"] == ["password_hash"] for i in credentialed)
    assert not any("omitted" in i for i in default if i not in credentialed)
    assert not any(h in json.dumps(default) for h in hashes)
    for filters in (Filters(user=ann), Filters(since=datetime.fromisoformat(default[0]["timestamp"]))):
        assert not any(h in json.dumps(list(export_events(app, filters))) for h in hashes)

    with pytest.raises(ImportRefused) as refused:
        import_events(empty_store.app, default)
    reason = str(refused.value)
    assert "--with-credentials" in reason and "password_hash" in reason and "\n" not in reason
    assert empty_store.app.recorder.max_notification_id() in (None, 0)
    with pytest.raises(ImportRefused, match="--with-credentials"):  # an export made before the flag
        check_export([{**default[0], "data": {**default[0]["data"], "password_hash": "[redacted]"}}])

    full = list(export_events(app, with_credentials=True))
    assert not any("omitted" in i for i in full)
    assert {i["data"]["password_hash"] for i in full if "password_hash" in i["data"]} == hashes
    assert check_export(full) == len(full) == import_events(empty_store.app, full)
    empty_store.projector.catch_up()
    assert empty_store.queries.authenticate("ann", "second password")["id"] == str(ann)
