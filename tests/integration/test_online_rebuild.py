"""Verify finds what is wrong; an online rebuild under live sending loses and duplicates nothing."""

import threading
import time
from collections.abc import Callable
from uuid import uuid4

from interfaces.bootstrap import Container
from projections.rebuild import rebuild
from projections.tables import LIVE_PREFIX
from projections.verify import verify
from tests.support.waiting import until_sync
from tests.support.workload import run_workload


def test_verify_passes_on_true_read_models_and_detects_a_corrupted_row(container: Container) -> None:
    run_workload(container.app, users=6, messages=60)
    container.projector.catch_up()
    assert verify(container.app, container.db).ok
    with container.db.transaction(commit=True) as cur:
        cur.execute(
            f"UPDATE {LIVE_PREFIX}members SET unread_count = unread_count + 7 WHERE user_id IN "
            f"(SELECT user_id FROM {LIVE_PREFIX}members LIMIT 1)"
        )
        cur.execute(f"DELETE FROM {LIVE_PREFIX}messages WHERE seq = 1")
    result = verify(container.app, container.db)
    assert not result.ok
    tables = {d.table: d for d in result.differences}
    assert set(tables) == {"members", "messages"}
    assert tables["messages"].only_in_rebuilt and not tables["messages"].only_in_live
    assert tables["members"].only_in_live and tables["members"].only_in_rebuilt
    # the scratch tables are gone afterwards
    with container.db.transaction(commit=False) as cur:
        assert cur.execute(f"SELECT COUNT(*) AS n FROM {LIVE_PREFIX}users").fetchone()["n"] == 6


def test_an_online_rebuild_under_live_sending_loses_and_duplicates_nothing(
    make_container: Callable[[], Container],
) -> None:
    server = make_container()  # plays the running server: projects live in its thread
    server.start()
    work = run_workload(server.app, users=6, messages=150)
    conversation = work.conversations[-1]
    member = server.app.repository.get(conversation).member_ids[0]
    stop = threading.Event()
    sent: list[int] = []
    empty_reads: list[int] = []
    reads: list[int] = []
    failed_reads: list[Exception] = []

    def send() -> None:
        while not stop.is_set():
            result = server.app.send_message(conversation, member, uuid4(), "during the rebuild")
            server.queries.wait_for(result.position)
            sent.append(result.seq)

    def read() -> None:
        while not stop.is_set():
            try:
                page, _ = server.queries.conversations(member, 50, None)
            except Exception as error:  # a client would have got an error during the rebuild
                failed_reads.append(error)
                continue
            reads.append(1)
            if not page:
                empty_reads.append(1)
            time.sleep(0.005)

    threads = [threading.Thread(target=send), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    try:
        operator = make_container()  # plays `parley projections rebuild` in another process
        until_sync(lambda: len(sent) >= 5 and len(reads) >= 5, "clients sending and reading before the rebuild")
        rebuild(operator.app, operator.db, batch_size=50)
        swapped = len(sent), len(reads)
        until_sync(lambda: len(sent) >= swapped[0] + 5 and len(reads) >= swapped[1] + 5, "... and after the swap")
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert sent and not empty_reads, "clients saw an empty read model during the rebuild"
    assert not failed_reads, failed_reads
    assert server.projector.wait(server.projector.head(), 10)
    seqs: list[int] = []  # every message after those of the workload, page by page
    while True:
        page, has_more = server.queries.messages(conversation, member, None, sent[0] - 1 + len(seqs), 100)
        seqs += [m["seq"] for m in page]
        if not has_more:
            break
    assert seqs == sent
    assert verify(operator.app, operator.db).ok
