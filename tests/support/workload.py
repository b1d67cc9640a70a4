"""A varied workload through the application's commands: what a real deployment's log looks like."""

import random
from dataclasses import dataclass, field
from uuid import UUID, uuid4

from application.commands import Parley
from domain.connections import Connection
from domain.errors import DomainError


@dataclass
class Workload:
    users: list[UUID] = field(default_factory=list)
    conversations: list[UUID] = field(default_factory=list)
    messages: int = 0
    marks: int = 0
    refused: int = 0
    changes: int = 0  # replies, edits, deletions and reactions (contract section 6)


def run_workload(app: Parley, users: int = 8, messages: int = 120, seed: int = 7) -> Workload:
    rng = random.Random(seed)
    work = Workload()
    names = [f"user{i:03d}" for i in range(users)]
    for name in names:
        work.users.append(app.register_user(name, "password-" + name, name.title()).id)
    # Connections: most accepted, one declined then re-requested, one removed.
    for i, a in enumerate(work.users):
        for j in range(i + 1, len(work.users)):
            if rng.random() < 0.7:
                request = app.request_connection(a, names[j])
                app.accept_connection(request.id, work.users[j])
    app.decline_connection(_request(app, work.users[0], names[1], work.users[1]), work.users[1])
    app.request_connection(work.users[1], names[0])
    connected = [
        (a, b) for i, a in enumerate(work.users) for b in work.users[i + 1 :] if _status(app, a, b) == "connected"
    ]
    for a, b in connected[:6]:
        work.conversations.append(app.start_conversation(a, [b], None).id)
    hub = work.users[2]
    friends = [b for a, b in connected if a == hub] + [a for a, b in connected if b == hub]
    if len(friends) >= 2:
        work.conversations.append(app.start_conversation(hub, friends[:3], "The group").id)
    removed_a, removed_b = connected[0]
    sent: dict[UUID, list[tuple[UUID, UUID]]] = {}  # conversation -> (message id, sender), in order
    for n in range(messages):
        conversation_id = rng.choice(work.conversations)
        members = app.repository.get(conversation_id).member_ids
        sender = rng.choice(members)
        key = uuid4()
        earlier = sent.get(conversation_id, [])
        reply_to = rng.choice(earlier)[0] if earlier and rng.random() < 0.2 else None
        mentioned = names[work.users.index(rng.choice(members))]
        body = f"message {n} from {sender}" + (f" @{mentioned}" if rng.random() < 0.3 else "")
        try:
            recorded = app.send_message(conversation_id, sender, key, body, reply_to)
            sent.setdefault(conversation_id, []).append((recorded.message_id, sender))
            work.messages += 1
            if rng.random() < 0.1:  # a client retry: must not duplicate
                app.send_message(conversation_id, sender, key, "retried")
        except DomainError:
            work.refused += 1
        if earlier and rng.random() < 0.4:  # what happens to messages afterwards
            message_id, author = rng.choice(earlier)
            chance = rng.random()
            try:
                if chance < 0.3:
                    app.edit_message(conversation_id, author, message_id, f"edited {n} @{mentioned}")
                elif chance < 0.45:
                    app.delete_message(conversation_id, author, message_id)
                else:
                    emoji = rng.choice(["👍", "🎉", "👩🏽‍💻", "❤️"])
                    app.react(conversation_id, rng.choice(members), message_id, emoji, rng.random() < 0.7)
                work.changes += 1
            except DomainError:
                work.refused += 1
        if rng.random() < 0.3:  # receipts, often out of order and beyond the last seq
            reader = rng.choice(members)
            up_to = rng.randint(0, n + 3)
            try:
                if rng.random() < 0.5:
                    app.mark_read(conversation_id, reader, up_to)
                else:
                    app.mark_delivered(conversation_id, reader, up_to)
                work.marks += 1
            except DomainError:
                work.refused += 1
        if n == messages // 2:
            app.remove_connection(Connection.create_id(removed_a, removed_b), removed_a)
    return work


def _request(app: Parley, a: UUID, b_name: str, b: UUID) -> UUID:
    connection_id = Connection.create_id(a, b)
    if connection_id in app.repository:
        app.remove_connection(connection_id, a)
    return app.request_connection(a, b_name).id


def _status(app: Parley, a: UUID, b: UUID) -> str | None:
    connection_id = Connection.create_id(a, b)
    if connection_id not in app.repository:
        return None
    return app.repository.get(connection_id).status
