"""Erasing an account (contract section 11): for `DELETE /api/users/me` and `parley users erase`.

The caller ends the account's sessions first. Then the erasure's events are written
(Parley.erase_user) and this waits until the read models reflect them: by then the projector has
dropped the text from the read models, destroyed the keys it is sealed under in the log, and left no
trace of it in the database's files (projections/projector.py). Last, the bytes of the account's
uploads leave the blob store."""

from uuid import UUID

from application.commands import Parley
from infrastructure.blob_sweep import BlobCollector
from projections.queries import Queries

ERASURE_WAIT_SECONDS = 60.0


class ErasureUnfinished(Exception):
    """The erasure is written, but the read models did not reach it in time: it completes as they do."""


class ReadModelsBehind(Exception):
    """What the account holds is read from the read models: they did not reach the log's head in time,
    so nothing was erased (the caller may try again)."""


def erase_account(commands: Parley, queries: Queries, collector: BlobCollector | None, user_id: UUID) -> None:
    head = commands.recorder.max_notification_id()
    if head and not queries.position.wait(head, ERASURE_WAIT_SECONDS):  # else a message just sent is missed
        raise ReadModelsBehind("The read models are behind the log; nothing was erased. Try again.")
    blobs = queries.holdings(user_id, None).blobs
    recorded = commands.erase_user(user_id)
    if recorded.position and not queries.position.wait(recorded.position, ERASURE_WAIT_SECONDS):
        raise ErasureUnfinished(
            "The erasure is recorded; it completes once the read models catch up (see GET /readyz)."
        )
    if collector is not None:
        collector.collect(blobs)
