"""The library's PostgreSQL application recorder, failing fast when the database is gone.

eventsourcing 9.5 retries a failed insert 10 times (0.2 s apart), each waiting for a pooled
connection up to the connect timeout: with PostgreSQL down a send would hang for most of a minute.
Here an insert is tried twice, so a client learns within a few seconds that nothing was stored, and
can retry with the same client_message_id when the database is back.
"""

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry


class FailFastPostgresApplicationRecorder(PostgresApplicationRecorder):
    insert_events = retry((InterfaceError, OperationalError), max_attempts=2, wait=0.1)(
        PostgresApplicationRecorder.insert_events.__wrapped__  # type: ignore[attr-defined]
    )
