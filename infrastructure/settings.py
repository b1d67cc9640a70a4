"""The one settings object. Read from the environment (and a `.env` file), validated once at start."""

import contextlib
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from starlette.config import Config


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./parley.db"
    jwt_secret: str | None = None
    token_ttl_seconds: int = 3600
    refresh_ttl_seconds: int = 30 * 24 * 3600  # a sign-in session lasts this long unused
    redis_url: str | None = None
    redis_prefix: str = "parley"  # Redis keys and the Socket.IO channel; one per deployment sharing a Redis
    send_rate_per_second: float = 10.0
    send_burst: int = 20
    max_message_chars: int = 4000
    max_upload_bytes: int = 25 * 1024 * 1024  # PARLEY_MAX_UPLOAD_BYTES (contract section 9)
    blob_dir: str | None = None  # PARLEY_BLOB_DIR; unset: see `blob_path`
    # Operational knobs (documented in docs/operations.md), not part of the wire contract.
    worker_threads: int = 32
    read_your_writes_timeout: float = 5.0
    request_timeout_seconds: float = 10.0  # every socket event and HTTP request is answered within this
    presence_ttl_seconds: float = 30.0  # a killed process's sockets stop counting as online after this
    metrics_port: int | None = None  # Prometheus /metrics on a port of its own; off when unset
    metrics_host: str = "127.0.0.1"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> str:
        """`sqlite:///./parley.db` -> `./parley.db`; `sqlite:////abs/x.db` -> `/abs/x.db`."""
        return self.database_url[len("sqlite:///") :]

    @property
    def blob_path(self) -> Path:
        """Where attachment bytes live: PARLEY_BLOB_DIR, else `parley-blobs` next to the SQLite database,
        else (PostgreSQL) `./parley-blobs` in the working directory. Every server process must see it."""
        if self.blob_dir:
            return Path(self.blob_dir)
        if self.is_sqlite:
            return Path(self.sqlite_path).parent / "parley-blobs"
        return Path("parley-blobs")

    def with_jwt_secret(self) -> "Settings":
        """Settings whose jwt_secret is set: from the environment, or (SQLite only) a kept dev secret."""
        if self.jwt_secret:
            return self
        if not self.is_sqlite:
            raise SettingsError("PARLEY_JWT_SECRET must be set when PARLEY_DATABASE_URL is PostgreSQL.")
        path = Path(self.sqlite_path + ".jwt-secret")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_private(path, secrets.token_urlsafe(48))
        return replace(self, jwt_secret=path.read_text().strip())


def write_private(path: Path, text: str) -> None:
    """Create `path` with `text`, readable by its owner only from the start (a chmod after writing would
    leave it readable by others for a moment) and whole when it appears (written aside, then linked in
    place); if another process made it first, theirs is kept."""
    aside = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs is kept
            os.link(aside, path)
    finally:
        aside.unlink()


def load_settings(env_file: str | None = ".env", environ: dict[str, str] | None = None) -> Settings:
    config = Config(
        env_file if env_file and Path(env_file).exists() else None,
        environ=environ if environ is not None else dict(os.environ),
    )
    try:
        settings = Settings(
            database_url=config("PARLEY_DATABASE_URL", default=Settings.database_url),
            jwt_secret=config("PARLEY_JWT_SECRET", default=None) or None,
            token_ttl_seconds=config("PARLEY_TOKEN_TTL_SECONDS", cast=int, default=Settings.token_ttl_seconds),
            refresh_ttl_seconds=config("PARLEY_REFRESH_TTL_SECONDS", cast=int, default=Settings.refresh_ttl_seconds),
            redis_url=config("PARLEY_REDIS_URL", default=None) or None,
            redis_prefix=config("PARLEY_REDIS_PREFIX", default=Settings.redis_prefix),
            send_rate_per_second=config("PARLEY_SEND_RATE_PER_SECOND", cast=float, default=10.0),
            send_burst=config("PARLEY_SEND_BURST", cast=int, default=Settings.send_burst),
            max_message_chars=config("PARLEY_MAX_MESSAGE_CHARS", cast=int, default=Settings.max_message_chars),
            max_upload_bytes=config("PARLEY_MAX_UPLOAD_BYTES", cast=int, default=Settings.max_upload_bytes),
            blob_dir=config("PARLEY_BLOB_DIR", default=None) or None,
            worker_threads=config("PARLEY_WORKER_THREADS", cast=int, default=Settings.worker_threads),
            presence_ttl_seconds=config(
                "PARLEY_PRESENCE_TTL_SECONDS", cast=float, default=Settings.presence_ttl_seconds
            ),
            request_timeout_seconds=config(
                "PARLEY_REQUEST_TIMEOUT_SECONDS", cast=float, default=Settings.request_timeout_seconds
            ),
            metrics_port=optional_int(config("PARLEY_METRICS_PORT", default="")),
            metrics_host=config("PARLEY_METRICS_HOST", default=Settings.metrics_host),
        )
    except ValueError as error:
        raise SettingsError(f"Bad setting: {error}") from None
    validate(settings)
    return settings


def optional_int(value: str) -> int | None:
    """An integer setting that an empty value turns off."""
    return int(value) if value.strip() else None


def validate(settings: Settings) -> None:
    scheme = urlsplit(settings.database_url).scheme
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise SettingsError("PARLEY_DATABASE_URL must start with sqlite:/// or postgresql://")
    if settings.is_sqlite and not settings.sqlite_path:
        raise SettingsError("PARLEY_DATABASE_URL sqlite:///PATH needs a PATH")
    if settings.token_ttl_seconds <= 0:
        raise SettingsError("PARLEY_TOKEN_TTL_SECONDS must be positive")
    if settings.refresh_ttl_seconds < settings.token_ttl_seconds:
        raise SettingsError("PARLEY_REFRESH_TTL_SECONDS must be at least PARLEY_TOKEN_TTL_SECONDS")
    if settings.send_rate_per_second < 0 or settings.send_burst < 1:
        raise SettingsError("PARLEY_SEND_RATE_PER_SECOND must be >= 0 and PARLEY_SEND_BURST >= 1")
    if settings.max_message_chars < 1:
        raise SettingsError("PARLEY_MAX_MESSAGE_CHARS must be at least 1")
    if settings.max_upload_bytes < 1:
        raise SettingsError("PARLEY_MAX_UPLOAD_BYTES must be at least 1")
    if settings.worker_threads < 2:
        raise SettingsError("PARLEY_WORKER_THREADS must be at least 2")
    if settings.redis_url and urlsplit(settings.redis_url).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError("PARLEY_REDIS_URL must start with redis://, rediss:// or unix://")
    if not settings.redis_prefix or any(c.isspace() for c in settings.redis_prefix):
        raise SettingsError("PARLEY_REDIS_PREFIX must be a non-empty word")
    if settings.presence_ttl_seconds < 1:
        raise SettingsError("PARLEY_PRESENCE_TTL_SECONDS must be at least 1")
    if settings.request_timeout_seconds < 2 or settings.request_timeout_seconds <= settings.read_your_writes_timeout:
        raise SettingsError("PARLEY_REQUEST_TIMEOUT_SECONDS must be at least 2 and above the read-your-writes wait (5)")
    if settings.metrics_port is not None and not 1 <= settings.metrics_port <= 65535:
        raise SettingsError("PARLEY_METRICS_PORT must be a port number (1-65535), or unset to serve no metrics")
    if not settings.metrics_host.strip() or any(c.isspace() for c in settings.metrics_host):
        raise SettingsError("PARLEY_METRICS_HOST must be an address to listen on, such as 127.0.0.1")
