"""Redis for tests: the one on 127.0.0.1:6379, with a key prefix (and Socket.IO channel) of its own
per use, so parallel runs do not hear each other. When Redis cannot be reached the tests that need
it fail with the reason, they are never skipped."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

REDIS_URL = os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A fresh PARLEY_REDIS_PREFIX; its keys are deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        raise RuntimeError(f"Redis is needed for these tests and cannot be reached at {REDIS_URL}: {error}") from None
    prefix = f"parley-test-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        client.close()
