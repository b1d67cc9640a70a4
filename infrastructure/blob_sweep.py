"""Removing bytes nobody needs any more: those of a deleted message's attachments (at once, after the
deletion) and of uploads left unattached for 24 hours (the periodic sweep, also `parley uploads sweep`).

Blobs are content-addressed, so two uploads of the same file share bytes: a digest is removed only when
no attachment of a message not deleted and no upload still attachable names it."""

import logging
from datetime import UTC, datetime

from application.ports import BlobStore
from domain.uploads import UNATTACHED_LIFETIME
from projections.queries import Queries
from projections.shapes import iso

log = logging.getLogger("parley.blobs")
SWEEP_EVERY_SECONDS = 600.0
# The sweep leaves blobs younger than this: an upload's bytes are filed a moment before its event is
# projected, and the sweep must not take them in between.
SWEEP_GRACE_SECONDS = 3600.0


def _attachable_since(now: datetime | None = None) -> str:
    return iso((now or datetime.now(UTC)) - UNATTACHED_LIFETIME)


class BlobCollector:
    def __init__(self, blobs: BlobStore, queries: Queries) -> None:
        self.blobs = blobs
        self.queries = queries

    def collect(self, digests: list[str]) -> int:
        """Remove these blobs unless still in use (after a message's deletion reached the read models)."""
        removed = 0
        for digest in dict.fromkeys(digests):
            if not self.queries.blob_in_use(digest, _attachable_since()):
                self.blobs.remove(digest)
                removed += 1
        return removed

    def sweep(self, now: datetime | None = None) -> int:
        """Remove every blob no longer needed (uploads unattached for a day, deleted messages' files
        whose removal was missed, stray temporary files); the number removed. `now`: for tests."""
        live = self.queries.live_blobs(_attachable_since(now))
        removed = 0
        grace = SWEEP_GRACE_SECONDS if now is None else SWEEP_GRACE_SECONDS - (now - datetime.now(UTC)).total_seconds()
        for digest in self.blobs.digests(older_than=grace):
            if digest not in live:
                self.blobs.remove(digest)
                removed += 1
        stray = getattr(self.blobs, "remove_stray_temporaries", None)
        if stray is not None:
            removed += stray()
        if removed:
            log.info("swept %d blobs", removed)
        return removed
