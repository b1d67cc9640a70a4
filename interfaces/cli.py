"""The `parley` command: serve, and operate the read models."""

import argparse
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable

from application.audit import ImportRefused
from domain.errors import DomainError
from infrastructure.gc_tuning import tune_for_serving
from infrastructure.log_listener import LogListener
from infrastructure.logs import configure_logging
from infrastructure.metrics import serve_metrics
from infrastructure.settings import Settings, SettingsError, load_settings
from interfaces import audit_cli
from interfaces.bootstrap import Container, bootstrap
from interfaces.erasure import ErasureUnfinished, ReadModelsBehind, erase_account
from interfaces.progress import Progress
from interfaces.sockets.ended_sessions import SESSION_POLL_SECONDS
from projections.rebuild import REBUILD_BATCH
from projections.rebuild import rebuild as rebuild_read_models
from projections.verify import verify as verify_read_models


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parley", description="Parley: an event-sourced real-time chat server.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="serve HTTP, Socket.IO and the web client on one port")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument(
        "--no-projections",
        dest="projections",
        action="store_false",
        help="do not project here: `parley projections run` does, in its own process (needs PARLEY_REDIS_URL)",
    )
    serve_parser.set_defaults(handler=serve)

    projections = commands.add_parser("projections", help="operate the read models").add_subparsers(
        dest="action", required=True
    )
    rebuild_parser = projections.add_parser(
        "rebuild", help="rebuild every read model from the events, beside the live ones, then swap them in"
    )
    rebuild_parser.add_argument(
        "--batch-size", type=int, default=REBUILD_BATCH, help="positions of the log per transaction"
    )
    rebuild_parser.set_defaults(handler=with_container(rebuild))
    verify_parser = projections.add_parser(
        "verify", help="rebuild into scratch tables and compare row by row with the live read models"
    )
    verify_parser.set_defaults(handler=with_container(verify))
    run_parser = projections.add_parser("run", help="follow the log and keep the read models current (until stopped)")
    run_parser.add_argument("--batch-size", type=int, default=1000, help="events per transaction")
    run_parser.set_defaults(handler=with_container(run_projections))
    status_parser = projections.add_parser("status", help="each projection's position and lag")
    status_parser.set_defaults(handler=with_container(status))
    audit_cli.add_commands(commands, with_container)
    uploads = commands.add_parser("uploads", help="attachment bytes in the blob store").add_subparsers(
        dest="uploads_command", required=True
    )
    sweep_parser = uploads.add_parser(
        "sweep", help="remove the bytes of uploads unattached for 24 hours and of deleted messages (serve does it too)"
    )
    sweep_parser.set_defaults(handler=with_container(sweep_uploads))
    users = commands.add_parser("users", help="accounts").add_subparsers(dest="users_command", required=True)
    erase_parser = users.add_parser(
        "erase", help="erase an account: its messages, names and files become unrecoverable (contract section 11)"
    )
    erase_parser.add_argument("username")
    erase_parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase_parser.set_defaults(handler=with_container(erase_user))

    args = parser.parse_args(argv)
    configure_logging(logging.INFO)
    try:
        exit_status: int = args.handler(args)
        return exit_status
    except SettingsError as error:
        return fail(str(error))


def with_container(command: Callable[[Container, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run `command` with an opened container, closed afterwards; domain errors become one line."""

    def handler(args: argparse.Namespace) -> int:
        container = open_container()
        try:
            return command(container, args)
        except (DomainError, ImportRefused, ErasureUnfinished, ReadModelsBehind) as error:
            return fail(str(error))
        finally:
            container.close()

    return handler


def fail(reason: str) -> int:
    print(f"parley: {reason}", file=sys.stderr)
    return 2


def open_container(projecting: bool = True) -> Container:
    settings = load_settings()
    try:
        return bootstrap(settings, projecting=projecting)
    except SettingsError:
        raise
    except Exception as error:
        raise SettingsError(f"cannot open the database {settings.database_url}: {error}".splitlines()[0]) from None


def check_redis(container: Container) -> None:
    """With PARLEY_REDIS_URL, a process that serves or broadcasts refuses to start without Redis."""
    if container.redis:
        try:
            container.redis.ping()
        except Exception as error:
            raise SettingsError(f"cannot reach Redis at {container.redis.url}: {error}".splitlines()[0]) from None


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from interfaces.asgi import build
    from interfaces.graceful_server import HTTP_SECONDS, GracefulServer

    settings = load_settings()  # a bad setting is reported before anything else
    if not args.projections and not settings.redis_url:
        return fail(
            "--no-projections needs PARLEY_REDIS_URL: only through Redis can the process that "
            "projects (`parley projections run`) tell this server's clients what changed"
        )
    try:
        listener = socket.create_server((args.host, args.port))
    except OSError as error:
        return fail(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}")
    if (failure := start_metrics(settings)) is not None:
        return fail(failure)
    container = open_container(projecting=args.projections)
    check_redis(container)
    host, port = listener.getsockname()[:2]
    print(f"Parley is running on http://{host}:{port}", flush=True)
    served = build(container)
    config = uvicorn.Config(served.asgi, log_level="warning", lifespan="on", timeout_graceful_shutdown=HTTP_SECONDS)
    tune_for_serving()
    GracefulServer(config, served.drain).run(sockets=[listener])  # SIGTERM: an orderly stop, then 0
    return 0


def start_metrics(settings: Settings) -> str | None:
    """With PARLEY_METRICS_PORT, serve Prometheus metrics on that port (a thread of their own, never the
    public port); None when started or off, else why not."""
    if settings.metrics_port is None:
        return None
    try:
        url = serve_metrics(settings.metrics_host, settings.metrics_port)
    except OSError as error:
        return f"cannot serve metrics on {settings.metrics_host}:{settings.metrics_port}: {error.strerror or error}"
    print(f"Metrics at {url}", flush=True)
    return None


def rebuild(container: Container, args: argparse.Namespace) -> int:
    progress = Progress("Rebuilding read models", container.projector.head())
    live = rebuild_read_models(container.app, container.db, progress.advance, max(1, args.batch_size))
    seconds = progress.finish()
    print(
        f"Rebuilt the read models from the events up to position {live.position} in {seconds:.1f}s and swapped them in."
    )
    return 0


def run_projections(container: Container, args: argparse.Namespace) -> int:
    """The projector in a process of its own; SIGTERM or Ctrl-C stops it between batches. With
    PARLEY_REDIS_URL it also tells the clients of every server process what changed (broadcasts)."""
    from interfaces.sockets.emitter import RedisEmitter

    if (failure := start_metrics(container.settings)) is not None:
        return fail(failure)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    check_redis(container)
    if container.redis:
        container.attach_emitter(RedisEmitter(container.redis.url, container.redis.channel))
    container.projector.batch_size = max(1, args.batch_size)
    container.bring_read_models_up_to_date()
    listener = LogListener.start_for(container.app.recorder, container.projector.wake)
    tune_for_serving()
    container.projector.start(idle_poll_seconds=0.5 if listener else 0.05)
    print(f"Projecting from position {container.projector.position}; stop with Ctrl-C.", flush=True)
    stopping.wait()
    if listener:
        listener.stop()
    return 0


def verify(container: Container, args: argparse.Namespace) -> int:
    result = verify_read_models(container.app, container.db)
    for difference in result.differences:
        print(f"{difference.table}: differs from a rebuild")
        for row in difference.only_in_live:
            print(f"  live only:    {row}")
        for row in difference.only_in_rebuilt:
            print(f"  rebuilt only: {row}")
    if result.ok:
        print(f"The read models equal a rebuild from the events (position {result.position}).")
        return 0
    print(
        f"The read models differ from a rebuild at position {result.position}: "
        "run `parley projections rebuild` to repair them."
    )
    return 1


def sweep_uploads(container: Container, args: argparse.Namespace) -> int:
    container.start()  # the read models caught up: they say which bytes are still needed
    removed = container.collector.sweep()
    print(f"Removed {removed} blobs no longer needed from {container.settings.blob_path}.")
    return 0


def erase_user(container: Container, args: argparse.Namespace) -> int:
    """Erase an account. Its sessions end first: every server process disconnects their sockets
    within SESSION_POLL_SECONDS (interfaces/sockets/ended_sessions.py), before its part is erased."""
    user_id = container.app.user_id_by_name(args.username)
    if not args.yes:
        answer = input(
            f"Erase the account {args.username!r}? Its messages, names and files cannot be recovered. [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing was erased.")
            return 1
    container.start()  # the read models caught up: they say what the account holds
    container.sessions.end_all(user_id, "account erased")
    time.sleep(SESSION_POLL_SECONDS)
    erase_account(container.app, container.queries, container.collector, user_id)
    print(f"Erased the account {args.username!r}.")
    return 0


def status(container: Container, args: argparse.Namespace) -> int:
    head = container.projector.head()
    position = container.projector.load_position()
    print(f"{'projection':<14}{'position':>12}{'head':>12}{'lag':>10}")
    print(f"{'read_models':<14}{position:>12}{head:>12}{head - position:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
