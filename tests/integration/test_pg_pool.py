"""Pooled PostgreSQL connections: checked before use once they have been idle, not every time."""

from dataclasses import dataclass

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from infrastructure import pg_pool
from infrastructure.pg_pool import CheckWhenIdle
from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap
from tests.support.databases import POSTGRES_ADMIN_URL, postgres_database
from tests.support.fakes import PlainPasswords


def backend_pid(pool: ConnectionPool) -> int:
    with pool.connection() as connection:
        return int(connection.execute("SELECT pg_backend_pid()").fetchone()[0])


@dataclass
class FakeTime:
    """CheckWhenIdle's clock (`time.monotonic`), advanced by the test: idling is a fact, not a wait."""

    now: float = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_a_connection_that_died_while_idle_is_replaced_and_a_busy_one_is_not_pinged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeTime()
    monkeypatch.setattr(pg_pool, "time", clock)
    pings = []
    real = ConnectionPool.check_connection
    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(lambda c: pings.append(c) or real(c)))
    with postgres_database() as url, ConnectionPool(url, min_size=1, max_size=1, check=CheckWhenIdle(0.3)) as pool:
        first = backend_pid(pool)  # a connection never handed out is checked
        assert len(pings) == 1
        for _ in range(5):  # in use a moment ago: alive a moment ago, no round trip to check it
            clock.now += 0.2
            assert backend_pid(pool) == first
        assert len(pings) == 1

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:  # the database drops it
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        clock.now += 0.5  # idle for longer than the threshold: checked, found dead, replaced

        replacement = backend_pid(pool)
        assert replacement != first
        assert len(pings) >= 2


def test_the_application_checks_its_pooled_connections_only_when_idle() -> None:
    with postgres_database() as url:
        container = bootstrap(Settings(database_url=url, jwt_secret="s" * 40), passwords=PlainPasswords())
        try:
            assert isinstance(container.app.factory.datastore.pool._check, CheckWhenIdle)
        finally:
            container.close()
