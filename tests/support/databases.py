"""Throwaway databases for tests: a SQLite file in a temp dir, or a new PostgreSQL database.

PostgreSQL runs on every machine (127.0.0.1:5432, trust auth); when it cannot be reached the tests
that need it fail with the reason, they are never skipped.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

POSTGRES_ADMIN_URL = os.environ.get("PARLEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        raise RuntimeError(
            f"PostgreSQL is needed for these tests and cannot be reached at {POSTGRES_ADMIN_URL}: {error}"
        ) from None


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database; dropped afterwards. Yields its URL."""
    name = f"parley_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def sqlite_database(directory: Path) -> Iterator[str]:
    yield f"sqlite:///{directory / 'parley.db'}"


@contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    with postgres_database() if kind == "postgres" else sqlite_database(directory) as url:
        yield url
