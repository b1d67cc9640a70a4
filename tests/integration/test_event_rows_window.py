"""A window of the log read at once (EventRows.window: one key lookup, states parsed once) gives what
reading its events one at a time gives, sealed bodies, erased ones and odd shapes included."""

from interfaces.bootstrap import Container
from projections.event_rows import EventRows, MessageRow
from projections.log_reader import read_batch, select_window
from projections.ports import StoredRow
from projections.updates import ReadModelUpdates
from tests.support.workload import run_workload


def one_at_a_time(rows: EventRows, stored: list[StoredRow]) -> list[object]:
    with rows.preloaded(stored):
        return [rows(n) for n in stored]


def test_a_window_reads_as_its_events_one_by_one(container: Container) -> None:
    work = run_workload(container.app, users=6, messages=80)
    container.projector.catch_up()  # the deleted messages' keys are destroyed
    recorder, topics = container.app.recorder, ReadModelUpdates.topics()
    rows = EventRows(container.app.mapper)
    head = recorder.max_notification_id()
    seen: list[object] = []
    for start in range(0, head, 37):
        stored = list(select_window(recorder, start, min(start + 37, head), topics))
        expected = one_at_a_time(rows, stored)
        assert (
            rows.window(stored, getattr(select_window(recorder, start, start + 37, topics), "keys", None)) == expected
        )
        assert rows.window(stored) == expected  # through the mapper's own key reader
        assert read_batch(recorder, rows, topics, 37, start, None).events == expected
        seen += expected
    messages = [e for e in seen if type(e) is MessageRow]
    assert len(messages) == work.messages and work.changes
    assert any(m.body == "" for m in messages)  # deleted since: its key is gone, its text reads as ""
    assert all(m.body for m in messages if m.body != "")


def test_a_state_the_direct_reader_does_not_know_goes_through_the_mapper_in_a_window_too(
    container: Container,
) -> None:
    run_workload(container.app, users=4, messages=20)
    recorder, topics = container.app.recorder, ReadModelUpdates.topics()
    rows = EventRows(container.app.mapper)
    stored = list(select_window(recorder, 0, recorder.max_notification_id(), topics))
    odd = [
        n._replace(state=n.state.replace(b'"up_to_seq":', b'"class_version":1,"up_to_seq":', 1))
        if b'"up_to_seq"' in n.state
        else n._replace(state=n.state.replace(b'"class_version":2', b'"class_version":3'))
        for n in stored
    ]
    calls: list[object] = []
    real = rows._mapped
    rows._mapped = lambda n: calls.append(n) or real(n)  # type: ignore[method-assign]
    try:
        got = rows.window(odd)
    except Exception:
        got = None  # the mapper's own verdict on a state it cannot build an event from
    assert got is None or got == one_at_a_time(rows, odd)
    assert any(b'"class_version":3' in n.state for n in calls)  # never guessed at: handed to the mapper
