from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infrastructure.settings import Settings
from interfaces.bootstrap import Container, bootstrap
from tests.support.databases import database
from tests.support.fakes import PlainPasswords


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def make_container(database_url: str, tmp_path: Path) -> Iterator[Callable[[], Container]]:
    """Open containers on the test's database (several act like several processes)."""
    opened: list[Container] = []

    def make() -> Container:
        settings = Settings(database_url=database_url, jwt_secret="s" * 40, blob_dir=str(tmp_path / "blobs"))
        container = bootstrap(settings, passwords=PlainPasswords())
        opened.append(container)
        return container

    yield make
    for container in opened:
        container.close()


@pytest.fixture
def container(make_container: Callable[[], Container]) -> Container:
    return make_container()
