"""The projector process's emitter (interfaces/sockets/emitter.py: RedisEmitter), on the Redis at
127.0.0.1:6379: a group's events reach the Socket.IO channel together, complete and in order, once the
group ends; with Redis gone they are dropped and counted, and the next group goes out again."""

import json
import time
import uuid
from typing import Any

import redis

from interfaces.sockets.emitter import RedisEmitter
from tests.support.redis import REDIS_URL, redis_prefix


def heard(pubsub: Any, count: int, seconds: float = 5.0) -> list[dict[str, Any]]:
    """The next `count` messages on the channel (fewer if they do not come within `seconds`)."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while len(messages) < count and time.monotonic() < deadline:
        message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message is not None:
            messages.append(json.loads(message["data"]))
    return messages


def subscribed(channel: str) -> Any:
    """A listener on `channel`, once Redis confirmed the subscription."""
    listener = redis.Redis.from_url(REDIS_URL).pubsub()
    listener.subscribe(channel)
    assert listener.get_message(timeout=5)["type"] == "subscribe"  # type: ignore[index]
    return listener


def test_a_groups_events_are_published_together_in_order_when_it_ends() -> None:
    with redis_prefix() as prefix:
        channel = f"{prefix}:socketio"
        listener = subscribed(channel)
        emitter = RedisEmitter(REDIS_URL, channel)
        rooms = [f"conversation:{uuid.uuid4()}" for _ in range(50)]
        for n, room in enumerate(rooms):
            emitter.emit("message_new", {"seq": n}, room)
        assert listener.get_message(timeout=0.2) is None  # held until the group ends
        emitter.end_of_group()

        messages = heard(listener, len(rooms))
        assert [(m["event"], m["data"], m["room"]) for m in messages] == [
            ("message_new", [{"seq": n}], room) for n, room in enumerate(rooms)
        ]
        emitter.end_of_group()  # nothing held: nothing more is published
        assert listener.get_message(timeout=0.2) is None
        listener.close()


def test_with_redis_gone_a_group_is_dropped_and_counted_and_the_next_one_goes_out() -> None:
    with redis_prefix() as prefix:
        channel = f"{prefix}:socketio"
        listener = subscribed(channel)
        emitter = RedisEmitter(REDIS_URL, channel)
        working = emitter.manager._publisher
        emitter.manager._publisher = redis.Redis.from_url(  # nothing listens there: Redis is "down"
            "redis://127.0.0.1:1/0", socket_connect_timeout=0.5, socket_timeout=0.5
        )
        emitter.emit("message_new", {"seq": 1}, "conversation:a")
        emitter.emit("message_new", {"seq": 2}, "conversation:a")
        emitter.end_of_group()
        assert emitter.manager.dropped == 2

        emitter.manager._publisher = working
        emitter.manager.outage.succeeded()  # (the outage's back-off is its own tests' subject)
        emitter.emit("message_new", {"seq": 3}, "conversation:a")
        emitter.end_of_group()
        assert [m["data"] for m in heard(listener, 1)] == [[{"seq": 3}]]
        assert emitter.manager.dropped == 0  # said once, in the log, and reset
        listener.close()
