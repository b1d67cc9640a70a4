"""A server that does not project (`--no-projections`) waits on the position another process's
projector records."""

import threading
from collections.abc import Iterator

import pytest

from infrastructure.settings import Settings
from interfaces.bootstrap import Container, bootstrap
from projections.recorded_position import RecordedPosition
from tests.support.fakes import PlainPasswords


@pytest.fixture
def not_projecting(database_url: str, container: Container) -> Iterator[Container]:
    """A second process on the same store, which does not project (`container` is the one that does)."""
    settings = Settings(database_url=database_url, jwt_secret="s" * 40)
    server = bootstrap(settings, passwords=PlainPasswords(), projecting=False)
    server.start()
    yield server
    server.close()


def test_waits_end_when_the_projector_elsewhere_records_the_position(
    container: Container, not_projecting: Container
) -> None:
    assert not not_projecting.projecting and isinstance(not_projecting.position, RecordedPosition)
    position = not_projecting.app.register_user("ann", "password").position
    assert position is not None
    assert not_projecting.position.wait(position, 0.2) is False  # nobody projects yet
    catching_up = threading.Timer(0.2, container.projector.catch_up)
    catching_up.start()
    assert not_projecting.position.wait(position, 10) is True
    assert not_projecting.position.position >= position
    ben = not_projecting.app.register_user("ben", "password").id
    assert not_projecting.queries.user(ben) is None  # it does not project by itself
    catching_up.join()
