"""The `parley` command: serve, and operate the read models."""

import argparse
import logging
import socket
import sys

from infrastructure.bootstrap import Container, bootstrap
from infrastructure.logs import configure_logging
from infrastructure.settings import SettingsError, load_settings
from interfaces.progress import Progress
from projections.rebuild import rebuild as rebuild_read_models


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parley", description="Parley: an event-sourced real-time chat server.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="serve HTTP, Socket.IO and the web client on one port")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.set_defaults(handler=serve)

    projections = commands.add_parser("projections", help="operate the read models").add_subparsers(
        dest="action", required=True
    )
    rebuild_parser = projections.add_parser("rebuild", help="drop every read model and rebuild it from the events")
    rebuild_parser.add_argument("--batch-size", type=int, default=1000, help="events per transaction")
    rebuild_parser.set_defaults(handler=rebuild)

    args = parser.parse_args(argv)
    configure_logging(logging.INFO)
    try:
        return args.handler(args)
    except SettingsError as error:
        return fail(str(error))


def fail(reason: str) -> int:
    print(f"parley: {reason}", file=sys.stderr)
    return 2


def open_container() -> Container:
    settings = load_settings()
    try:
        return bootstrap(settings)
    except SettingsError:
        raise
    except Exception as error:
        raise SettingsError(f"cannot open the database {settings.database_url}: {error}".splitlines()[0]) from None


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from interfaces.asgi import build

    load_settings()  # a bad setting is reported before anything else
    try:
        listener = socket.create_server((args.host, args.port))
    except OSError as error:
        return fail(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}")
    container = open_container()
    host, port = listener.getsockname()[:2]
    print(f"Parley is running on http://{host}:{port}", flush=True)
    config = uvicorn.Config(build(container), log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[listener])
    return 0


def rebuild(args: argparse.Namespace) -> int:
    container = open_container()
    try:
        projector = container.projector
        projector.batch_size = max(1, args.batch_size)
        progress = Progress("Rebuilding read models", projector.head())
        applied = rebuild_read_models(projector, progress.advance)
        seconds = progress.finish()
        print(f"Rebuilt the read models from {applied} events in {seconds:.1f}s (position {projector.position}).")
    finally:
        container.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
