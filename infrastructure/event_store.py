"""Translate PARLEY_DATABASE_URL into the eventsourcing library's persistence settings, in one place."""

from urllib.parse import unquote, urlsplit

from infrastructure.settings import Settings

# The library's JSON format, decoded faster (infrastructure/transcoder.py).
TRANSCODER = {"TRANSCODER_TOPIC": "infrastructure.transcoder:OrjsonTranscoder"}


def persistence_env(settings: Settings) -> dict[str, str]:
    if settings.is_sqlite:
        return {
            **TRANSCODER,
            "PERSISTENCE_MODULE": "infrastructure.sqlite_recorder:ParleySQLiteFactory",
            "SQLITE_DBNAME": settings.sqlite_path,
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    url = urlsplit(settings.database_url)
    return {
        **TRANSCODER,
        "PERSISTENCE_MODULE": "infrastructure.postgres_recorder:FailFastPostgresFactory",
        "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        # The library requires a password value even where the server trusts the connection.
        "POSTGRES_PASSWORD": unquote(url.password or "unused"),
        "POSTGRES_CONNECT_TIMEOUT": "2",  # also the wait for a pooled connection
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_POOL_SIZE": "4",
        "POSTGRES_MAX_OVERFLOW": "16",
        "POSTGRES_MAX_WAITING": "0",
    }


def memory_env() -> dict[str, str]:
    """The in-memory (POPO) store: for fast unit tests of the domain and application."""
    return {"PERSISTENCE_MODULE": "infrastructure.memory_store:SealingPOPOFactory"}
