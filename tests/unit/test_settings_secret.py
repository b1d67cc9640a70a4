"""The development JWT secret kept beside a SQLite database: private from the moment it exists."""

import stat
from pathlib import Path

from infrastructure.settings import Settings


def test_the_dev_secret_file_is_private_whole_and_kept(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'parley.db'}").with_jwt_secret()
    path = tmp_path / "parley.db.jwt-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings.jwt_secret and len(settings.jwt_secret) >= 48
    again = Settings(database_url=f"sqlite:///{tmp_path / 'parley.db'}").with_jwt_secret()
    assert again.jwt_secret == settings.jwt_secret  # the same secret across restarts
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parley.db.jwt-secret"]  # nothing left aside
