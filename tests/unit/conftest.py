from collections.abc import Iterator

import pytest

from application.commands import Parley
from infrastructure.event_store import memory_env
from tests.support.fakes import PlainPasswords


@pytest.fixture
def app() -> Iterator[Parley]:
    parley = Parley(env=memory_env())
    parley.passwords = PlainPasswords()
    yield parley
    parley.close()
