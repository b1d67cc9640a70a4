"""The broadcaster's thread: messages and markers are published at once; the conversation summaries
they cause are coalesced for a short window (one read and one `conversation_updated` per member per
window under load); any other change publishes what waits with it, in order; a flush publishes
everything queued before it."""

import threading
import time
from typing import Any

import pytest

from projections.broadcast_thread import COALESCE_SECONDS, BroadcastThread
from projections.changes import Change, ConversationChanged, Departed, MessageAdded


class Published:
    def __init__(self) -> None:
        self.calls: list[tuple[float, list[Change]]] = []
        self.lock = threading.Lock()

    def __call__(self, changes: list[Change]) -> None:
        with self.lock:
            self.calls.append((time.monotonic(), list(changes)))

    def lists(self) -> list[list[Change]]:
        with self.lock:
            return [changes for _, changes in self.calls]


def message(n: int) -> MessageAdded:
    payload: Any = {"id": f"m{n}", "conversation_id": "c", "seq": n}
    return MessageAdded(payload)


def test_summaries_are_coalesced_for_a_window_while_messages_go_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("projections.broadcast_thread.COALESCE_SECONDS", 0.5)  # puts below are well within it
    published = Published()
    thread = BroadcastThread(published)
    started = time.monotonic()
    for n in range(1, 4):
        thread.put([message(n), ConversationChanged("c")])
    deadline = time.monotonic() + 5
    while not any(ConversationChanged("c") in changes for changes in published.lists()):
        assert time.monotonic() < deadline
        time.sleep(0.005)
    thread.close()
    summaries = [(at, changes) for at, changes in published.calls if ConversationChanged("c") in changes]
    messages = [(at, c) for at, changes in published.calls for c in changes if isinstance(c, MessageAdded)]
    assert [c.message["seq"] for _, c in messages] == [1, 2, 3]  # all of them, in order
    assert len(summaries) == 1 and summaries[0][1] == [ConversationChanged("c")] * 3  # one publication
    assert all(at < summaries[0][0] for at, _ in messages)  # the messages did not wait for the window
    assert summaries[0][0] - started >= 0.25


def test_an_idle_window_closes_by_itself() -> None:
    published = Published()
    thread = BroadcastThread(published)
    thread.put([message(1), ConversationChanged("c")])
    deadline = time.monotonic() + 5
    while len(published.lists()) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    times = [at for at, _ in published.calls]
    lists = published.lists()
    thread.close()
    assert lists == [[message(1)], [ConversationChanged("c")]]
    assert times[1] - times[0] >= COALESCE_SECONDS * 0.5  # it waited for the window, then went alone


def test_any_other_change_publishes_what_waits_with_it_in_order() -> None:
    published = Published()
    hold = threading.Event()
    first = threading.Event()

    def slow(changes: list[Change]) -> None:
        first.set()
        hold.wait(5)
        published(changes)

    thread = BroadcastThread(slow)
    thread.put([message(1)])
    assert first.wait(5)  # the thread is busy: what follows queues up and is taken together
    thread.put([ConversationChanged("c")])
    thread.put([Departed("c", "u")])
    hold.set()
    assert thread.flush(5)
    thread.close()
    assert published.lists() == [[message(1)], [ConversationChanged("c"), Departed("c", "u")]]
