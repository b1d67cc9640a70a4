"""The projector's readers read a window of the log as the library's own API would return it."""

from uuid import UUID

from interfaces.bootstrap import Container
from projections.log_reader import select_window
from projections.ports import WindowedRecorder
from projections.updates import ReadModelUpdates
from tests.support.workload import run_workload


def test_a_window_of_the_log_holds_what_select_notifications_returns(container: Container) -> None:
    run_workload(container.app, users=6, messages=60)
    recorder, topics = container.app.recorder, ReadModelUpdates.topics()
    assert isinstance(recorder, WindowedRecorder)  # the store's own window query, not the library's fallback
    head = recorder.max_notification_id()
    expected = recorder.select_notifications(start=0, limit=head, topics=topics, inclusive_of_start=False)
    got = [row for start in range(0, head, 17) for row in select_window(recorder, start, min(start + 17, head), topics)]
    assert len(got) == len(expected) > 60
    for row, notification in zip(got, expected, strict=True):
        assert (row.id, UUID(str(row.originator_id)), row.originator_version, row.topic, bytes(row.state)) == (
            notification.id,
            notification.originator_id,
            notification.originator_version,
            notification.topic,
            bytes(notification.state),
        )
    assert select_window(recorder, head, head, topics) == []
