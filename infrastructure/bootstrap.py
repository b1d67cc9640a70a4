"""The composition root: builds the application, read models, projector and services from settings.

Used alike by `parley serve`, the `parley` CLI and the tests.
"""

from dataclasses import dataclass

from application.commands import Parley
from application.queries import Queries
from infrastructure.event_log import EventPositions
from infrastructure.event_store import persistence_env
from application.ports import PasswordHasher
from infrastructure.passwords import Argon2Passwords
from infrastructure.presence import LocalPresence
from infrastructure.rate_limit import Limits
from infrastructure.settings import Settings
from infrastructure.sql import SqlDatabase
from infrastructure.tokens import Tokens
from projections.broadcasts import Broadcaster, Emitter
from projections.projector import Projector
from projections.reads import ReadModelReads
from projections.tables import LIVE_PREFIX


@dataclass
class Container:
    settings: Settings
    app: Parley
    db: SqlDatabase
    projector: Projector
    queries: Queries
    tokens: Tokens
    presence: LocalPresence
    limits: Limits
    positions: EventPositions
    broadcaster: Broadcaster | None = None

    def attach_emitter(self, emitter: Emitter) -> None:
        """Tell connected clients what each projected batch changed, through `emitter`."""
        self.broadcaster = Broadcaster(self.db, self.queries.reads, emitter, self.queries.is_online)
        self.projector.on_changes = self.broadcaster.publish

    def start(self) -> None:
        """Catch the read models up with the log, then follow it in the background."""
        self.projector.catch_up()
        self.projector.start()

    def close(self) -> None:
        self.projector.stop()
        self.app.close()


def bootstrap(settings: Settings, *, passwords: PasswordHasher | None = None) -> Container:
    settings = settings.with_jwt_secret()
    app = Parley(env=persistence_env(settings))
    app.passwords = passwords or Argon2Passwords()
    app.max_message_chars = settings.max_message_chars
    app.enable_group_commit()
    db = SqlDatabase(app.factory.datastore)  # read models share the event store's database and pool
    projector = Projector(app, db, LIVE_PREFIX)
    projector.setup()
    app.save_listeners.append(projector.wake)
    presence = LocalPresence()
    reads = ReadModelReads(LIVE_PREFIX)
    queries = Queries(db, reads, projector, app.passwords, presence, settings.read_your_writes_timeout)
    tokens = Tokens(settings.jwt_secret or "", settings.token_ttl_seconds)
    limits = Limits(settings.send_rate_per_second, settings.send_burst)
    positions = EventPositions(db, app.recorder.events_table_name)
    return Container(settings, app, db, projector, queries, tokens, presence, limits, positions)
