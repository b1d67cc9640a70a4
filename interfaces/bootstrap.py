"""The composition root: builds the application, read models, projector and services from settings.

Used alike by `parley serve`, the `parley` CLI and the tests.
"""

import logging
from dataclasses import dataclass

from eventsourcing.postgres import PostgresDatastore

from application.commands import Parley
from application.ports import PasswordHasher
from infrastructure import metrics
from infrastructure.auth_sessions import SessionStore
from infrastructure.blob_store import FilesystemBlobStore
from infrastructure.blob_sweep import BlobCollector
from infrastructure.blob_urls import BlobUrls
from infrastructure.event_log import EventPositions
from infrastructure.event_store import persistence_env
from infrastructure.passwords import Argon2Passwords
from infrastructure.pg_pool import check_when_idle
from infrastructure.presence import LocalPresence, Presence
from infrastructure.projection_in_save import AppliesInSave
from infrastructure.rate_limit import Limits, LocalBuckets
from infrastructure.redis_clients import RedisClients
from infrastructure.redis_presence import RedisPresence
from infrastructure.redis_rate_limit import redis_buckets
from infrastructure.settings import Settings
from infrastructure.sql import SqlDatabase
from infrastructure.tokens import Tokens
from projections.broadcast_thread import BroadcastThread
from projections.broadcasts import Broadcaster, Emitter
from projections.in_save import ProjectionInSave
from projections.projector import Projector
from projections.queries import Queries
from projections.reads import ReadModelReads
from projections.rebuild import rebuild
from projections.recorded_position import RecordedPosition
from projections.tables import LIVE_PREFIX

log = logging.getLogger("parley.bootstrap")


@dataclass
class Container:
    settings: Settings
    app: Parley
    db: SqlDatabase
    projector: Projector
    queries: Queries
    tokens: Tokens
    presence: Presence
    limits: Limits
    positions: EventPositions
    position: Projector | RecordedPosition  # what read-your-writes waits on
    blobs: FilesystemBlobStore
    urls: BlobUrls
    collector: BlobCollector
    sessions: SessionStore
    redis: RedisClients | None = None
    broadcaster: Broadcaster | None = None
    broadcast_thread: BroadcastThread | None = None
    in_save: ProjectionInSave | None = None

    @property
    def projecting(self) -> bool:
        return self.position is self.projector

    def attach_emitter(self, emitter: Emitter) -> None:
        """Tell connected clients what each projected batch changed, through `emitter`."""
        self.broadcaster = Broadcaster(self.db, self.queries.reads, emitter, self.queries.is_online)
        # In a thread of its own: the projector goes on with its next batch while this one is told.
        self.broadcast_thread = BroadcastThread(self.broadcaster.publish)
        self.projector.on_changes = self.broadcast_thread.put
        # From here on a save applies its own events to the read models in its transaction whenever
        # they are at the log's head (projections/in_save.py); the projector catches up the rest.
        recorder = self.app.recorder
        if isinstance(recorder, AppliesInSave):
            column = "notification_id" if self.db.engine == "postgres" else "rowid"
            recorder.projection_in_save = self.in_save = ProjectionInSave(
                self.projector, self.db, recorder.events_table_name, column
            )

    def wake_projector(self) -> None:
        """A save listener: the projector reads from the log what a save did not apply itself."""
        if self.in_save is not None:
            self.in_save.wake_unless_applied()
        else:
            self.projector.wake()

    def start(self) -> None:
        """Catch the read models up with the log, then follow it in the background; or, when another
        process projects, follow the position it records."""
        if self.projecting:
            self.bring_read_models_up_to_date()
            self.projector.catch_up()
            self.projector.start()
        else:
            self.position.start()

    def bring_read_models_up_to_date(self) -> None:
        """Read models an earlier release built (a table or column of this release missing) are rebuilt
        from the events beside the live ones and swapped in (projections/rebuild.py), once, before this
        process projects: nothing is altered in place, and every new read model (membership periods,
        search, ...) holds what the log says."""
        if not self.projector.outdated:
            return
        log.warning("read models %s* are an earlier release's: rebuilding them from the events", LIVE_PREFIX)
        rebuilt = rebuild(self.app, self.db)
        self.projector.load_position()
        self.projector.outdated = False
        log.warning("read models rebuilt up to position %d", rebuilt.position)

    def close(self) -> None:
        """Stop in the order data flows: the writer settles what is queued, then the projector stops,
        then the broadcaster publishes what it holds, then the store closes."""
        if self.app.group_commit is not None:
            self.app.group_commit.close()  # again in app.close(): a no-op by then
        if not self.projecting:
            self.position.stop()
        self.projector.stop()
        if self.broadcast_thread is not None:
            self.broadcast_thread.close()
        self.app.close()
        if self.redis:
            self.redis.close()


def bootstrap(settings: Settings, *, passwords: PasswordHasher | None = None, projecting: bool = True) -> Container:
    """`projecting=False`: this process does not run the projector (`parley serve --no-projections`);
    `parley projections run` does, elsewhere. With PARLEY_REDIS_URL, presence and rate limits live in
    Redis and the application assumes other processes write to the same store."""
    settings = settings.with_jwt_secret()
    app = Parley(env=persistence_env(settings))
    app.shared_store = settings.redis_url is not None
    app.passwords = passwords or Argon2Passwords()
    app.max_message_chars = settings.max_message_chars
    app.enable_group_commit(deadline_seconds=settings.request_timeout_seconds * 0.8)
    datastore = app.factory.datastore  # type: ignore[attr-defined]  # (the SQLite and PostgreSQL factories have one)
    if isinstance(datastore, PostgresDatastore):
        check_when_idle(datastore.pool)  # the library's pre-ping, only where it is needed
    db = SqlDatabase(datastore)  # read models share the event store's database and pool
    projector = Projector(app, db, LIVE_PREFIX, relaxed_commit=True)
    projector.setup()
    observe(app, projector, projecting)
    redis = RedisClients(settings.redis_url, settings.redis_prefix) if settings.redis_url else None
    presence: Presence = RedisPresence(redis, settings.presence_ttl_seconds) if redis else LocalPresence()
    limits = Limits(settings.send_rate_per_second, settings.send_burst, redis_buckets(redis) if redis else LocalBuckets)
    position = projector if projecting else RecordedPosition(db, projector)
    urls = BlobUrls(settings.jwt_secret or "")
    reads = ReadModelReads(LIVE_PREFIX, urls)
    queries = Queries(db, reads, position, app.passwords, presence, settings.read_your_writes_timeout)
    app.texts = queries  # an edit to the text a message has now writes nothing
    app.holdings = queries  # what an account holds, for its erasure
    tokens = Tokens(settings.jwt_secret or "", settings.token_ttl_seconds, settings.refresh_ttl_seconds)
    positions = EventPositions(db, app.recorder.events_table_name)  # type: ignore[attr-defined]
    blobs = FilesystemBlobStore(settings.blob_path)
    collector = BlobCollector(blobs, queries)
    sessions = SessionStore(db, settings.refresh_ttl_seconds)  # sign-in sessions: tables of their own
    sessions.setup()
    container = Container(
        settings,
        app,
        db,
        projector,
        queries,
        tokens,
        presence,
        limits,
        positions,
        position,
        blobs,
        urls,
        collector,
        sessions,
        redis,
    )
    app.save_listeners.append(container.wake_projector)
    return container


def observe(app: Parley, projector: Projector, projecting: bool) -> None:
    """Report to the metrics (infrastructure/metrics.py): each group's size, each batch's length, and, in
    the process that projects, the projector's lag."""
    if app.group_commit is not None:
        app.group_commit.on_group = metrics.GROUP_SIZE.observe
    projector.on_batch = metrics.PROJECTED.inc
    if projecting:
        metrics.watch_projector(projector)
