from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import database
from tests.support.server import ServerProcess


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def server(database_url: str) -> Iterator[ServerProcess]:
    process = ServerProcess(database_url).start()
    try:
        yield process
    finally:
        process.stop()
