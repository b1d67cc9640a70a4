"""The read models are a pure function of the log: a rebuild reproduces them exactly."""

from typing import Any

import pytest

from interfaces.bootstrap import Container
from projections import projector as projector_module
from projections.rebuild import rebuild
from projections.tables import LIVE_PREFIX, TABLES
from tests.support.workload import run_workload


def dump(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    tables = {}
    with container.db.transaction(commit=False) as cur:
        for table in TABLES:
            rows = cur.execute(f"SELECT * FROM {LIVE_PREFIX}{table}").fetchall()
            tables[table] = sorted(tuple(sorted(row.items())) for row in rows)
    return tables


def test_rebuilt_read_models_equal_the_live_ones_after_a_varied_workload(container: Container) -> None:
    container.start()  # projecting live, in the background, while the workload runs
    work = run_workload(container.app)
    assert container.projector.wait(container.projector.head(), 10)
    container.projector.stop()
    live = dump(container)
    assert len(live["messages"]) == work.messages > 50
    assert len(live["users"]) == len(work.users)
    assert work.changes > 20 and live["message_edits"] and live["reactions"], "every new event was used"

    applied: list[int] = []
    rebuilt = rebuild(container.app, container.db, applied.append)

    # progress counts positions of the log passed, to its head (PostgreSQL ids may have gaps)
    assert sum(applied) == rebuilt.position == container.projector.head()
    assert dump(container) == live


def test_a_long_catch_up_read_by_a_second_process_builds_the_same_read_models(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    container.start()
    work = run_workload(container.app)
    assert container.projector.wait(container.projector.head(), 10)
    container.projector.stop()
    live = dump(container)
    monkeypatch.setattr(projector_module, "BULK_CATCH_UP", 1)  # any catch-up counts as long
    reads = []
    real = projector_module.ReaderProcess.__iter__
    monkeypatch.setattr(
        projector_module.ReaderProcess, "__iter__", lambda self: (reads.append(b) or b for b in real(self))
    )

    rebuilt = rebuild(container.app, container.db, batch_size=7)

    assert len(reads) > work.messages / 7  # the batches came from the reader process
    assert rebuilt.position == container.projector.head()
    assert dump(container) == live


def test_rebuilding_again_and_again_keeps_the_read_models_and_their_uniqueness(container: Container) -> None:
    """A rebuilt set is loaded bare and indexed once caught up; swapped in, it must carry the same
    guarantees as the set it replaced, however many rebuilds came before (SQLite keeps an index's name
    when its table is renamed: a later build must not trip over the names of an earlier one)."""
    container.start()
    run_workload(container.app)
    assert container.projector.wait(container.projector.head(), 10)
    container.projector.stop()
    live = dump(container)

    message = live["messages"][0]
    row = dict(message)
    columns = ", ".join(row)
    placeholders = ", ".join("?" * len(row))
    for _ in range(3):
        rebuild(container.app, container.db)
        assert dump(container) == live
        for duplicate in ({**row, "id": "another id"}, {**row, "seq": 10**9}):  # same (conversation, seq); same id
            with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
                with container.db.transaction(commit=True) as cur:
                    cur.execute(
                        f"INSERT INTO {LIVE_PREFIX}messages ({columns}) VALUES ({placeholders})",
                        list(duplicate.values()),
                    )
        assert dump(container) == live
