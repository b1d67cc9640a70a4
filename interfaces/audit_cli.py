"""`parley audit`: export the log as JSON Lines, import an export into an empty store, and show a
conversation as it was at a position or a moment."""

import argparse
import json
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO
from uuid import UUID

from application.audit import Filters, check_export, export_events, import_events
from interfaces.bootstrap import Container
from interfaces.moments import parse_at, parse_moment
from interfaces.progress import Progress
from projections.history import conversation_at


def add_commands(commands: Any, handler_for: Any) -> None:
    audit = commands.add_parser("audit", help="export, import and look back in the event log").add_subparsers(
        dest="action", required=True
    )
    export = audit.add_parser("export", help="write events as JSON Lines to stdout (or --output)")
    export.add_argument("--conversation", type=UUID, help="only this conversation's events")
    export.add_argument("--user", type=UUID, help="only events involving this user")
    export.add_argument("--since", type=parse_moment, help="ISO 8601 time (UTC if no offset)")
    export.add_argument("--until", type=parse_moment, help="ISO 8601 time (UTC if no offset)")
    export.add_argument("--output", type=argparse.FileType("w", encoding="utf-8"), default=sys.stdout)
    export.add_argument(
        "--with-credentials",
        action="store_true",
        help="include password hashes (and any key material), which are left out by default: a whole-store "
        "migration (`parley audit import`) needs them; guard the file like the database",
    )
    export.set_defaults(handler=handler_for(export_command))
    load = audit.add_parser(
        "import",
        help="load a whole-store export made with --with-credentials into an empty store, then build the read models",
    )
    load.add_argument("file", type=argparse.FileType("r", encoding="utf-8"))
    load.set_defaults(handler=handler_for(import_command))
    show = audit.add_parser("show", help="a conversation as it was at a log position or a time, from the events alone")
    show.add_argument("--conversation", type=UUID, required=True)
    show.add_argument("--at", type=parse_at, default=None, help="log position (integer) or ISO 8601 time")
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
    show.set_defaults(handler=handler_for(show_command))


def export_command(container: Container, args: argparse.Namespace) -> int:
    filters = Filters(args.conversation, args.user, args.since, args.until)
    progress = Progress("Exporting events", container.projector.head())
    out: TextIO = args.output
    written = left_out = 0
    try:
        for item in export_events(container.app, filters, args.with_credentials):
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
            written += 1
            left_out += "omitted" in item
            if written % 1000 == 0:
                progress.advance(1000)
        out.flush()
    except BrokenPipeError:  # the reader (`| head`) has had enough: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    progress.finish()
    print(f"Exported {written} events.", file=sys.stderr)
    if left_out:
        print(
            f"Credentials left out of {left_out} events: to import this file elsewhere, export with --with-credentials.",
            file=sys.stderr,
        )
    return 0


def import_command(container: Container, args: argparse.Namespace) -> int:
    def records() -> Iterator[dict[str, Any]]:
        for line in args.file:
            if line.strip():
                yield json.loads(line)

    checked = check_export(records())  # all of it first: a bad file writes nothing
    args.file.seek(0)
    imported = import_events(container.app, records())
    assert imported == checked
    progress = Progress("Building read models", container.projector.head())
    container.projector.catch_up(progress.advance)
    progress.finish()
    print(f"Imported {imported} events and built the read models (position {container.projector.position}).")
    return 0


def show_command(container: Container, args: argparse.Namespace) -> int:
    snapshot = conversation_at(container.app, container.positions, args.conversation, args.at)
    if args.json:
        print(json.dumps(snapshot, indent=2, ensure_ascii=False))
        return 0
    c = snapshot["conversation"]
    print(f"{c['kind']} conversation {c['id']}" + (f' "{c["title"]}"' if c["title"] else ""))
    print(f"as of version {snapshot['as_of']['version']} ({snapshot['as_of']['timestamp']})")
    names = {m["user"]["id"]: m["user"]["username"] for m in snapshot["members"]}
    print("members:")
    for m in snapshot["members"]:
        print(
            f"  {m['user']['username']:<20} delivered up to {m['last_delivered_seq']:<5} "
            f"read up to {m['last_read_seq']:<5} unread {m['unread_count']}"
        )
    print("messages:")
    for message in snapshot["messages"]:
        print(
            f"  #{message['seq']:<5} {message['sent_at']}  {names.get(message['sender_id'], '?')}: "
            f"{message['body']}  [{message['status']}]"
        )
    return 0
