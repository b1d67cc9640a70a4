"""Where the events about a person are, from the read models: the index of `GET /api/users/me/export`
(application/my_data.py builds the export from those streams' events)."""

from uuid import UUID

from application.my_data import Streams
from projections.ports import SqlDatabase


class MyDataStreams:
    def __init__(self, db: SqlDatabase, prefix: str) -> None:
        self.db = db
        self.p = prefix

    def of(self, user_id: UUID) -> Streams:
        """Their connections (any status), conversations (former ones too), whom they block now, and
        their uploads not swept or deleted with their message, each oldest first."""
        p, me = self.p, str(user_id)
        with self.db.transaction(commit=False) as cur:
            connections = cur.execute(
                f"SELECT id FROM {p}connections WHERE requester_id = ? OR addressee_id = ? ORDER BY created_at, id",
                (me, me),
            ).fetchall()
            conversations = cur.execute(
                f"SELECT c.id FROM {p}members m JOIN {p}conversations c ON c.id = m.conversation_id "
                "WHERE m.user_id = ? ORDER BY c.created_at, c.id",
                (me,),
            ).fetchall()
            blocked = cur.execute(
                f"SELECT blocked_id FROM {p}blocks WHERE blocker_id = ? ORDER BY position", (me,)
            ).fetchall()
            uploads = cur.execute(
                f"SELECT id, conversation_id FROM {p}attachments WHERE uploader_id = ? ORDER BY created_at, id",
                (me,),
            ).fetchall()
        return Streams(
            connections=[UUID(r["id"]) for r in connections],
            conversations=[UUID(r["id"]) for r in conversations],
            blocked=[UUID(r["blocked_id"]) for r in blocked],
            uploads=[(UUID(r["id"]), UUID(r["conversation_id"]) if r["conversation_id"] else None) for r in uploads],
        )
