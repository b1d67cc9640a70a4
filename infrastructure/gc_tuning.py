"""Garbage collection tuned for a long-running server process.

A server's heap is mostly what it built at start-up (modules, the application, its caches), and then
many short-lived objects per request. CPython's defaults collect the young generation every 700 net
allocations and now and then walk the older ones, and every collection stops every thread: in the send
benchmark at 600 sends/s those pauses were the p99 tail (send -> `message_new` p99 85-106 ms, against
42-66 ms tuned; p50 unchanged at 27 ms; benchmarks/README.md). So, once started:

- `gc.freeze()` moves everything alive to a permanent generation that no collection walks again;
- young collections wait for 50,000 net allocations rather than 700 (cycles of garbage then live a
  little longer: a few MB, not a leak: every one is still collected).

Reference counting frees everything that is not in a cycle at once, whatever these settings.
"""

import gc

YOUNG_THRESHOLD = 50_000
MIDDLE_THRESHOLD = 50  # young collections between two of the middle generation
OLD_THRESHOLD = 100  # middle collections between two full ones (CPython also waits for 25% growth)


def tune_for_serving() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
