from infrastructure.rate_limit import TokenBuckets


def test_a_burst_is_allowed_then_the_sustained_rate() -> None:
    buckets = TokenBuckets(rate_per_second=10, burst=3)
    assert [buckets.take("alice", now=0.0) for _ in range(3)] == [0, 0, 0]
    assert buckets.take("alice", now=0.0) == 100  # the next token comes in 100 ms
    assert buckets.take("alice", now=0.05) == 50
    assert buckets.take("alice", now=0.1) == 0
    assert buckets.take("bob", now=0.1) == 0  # each key has its own bucket


def test_a_zero_rate_disables_limiting() -> None:
    buckets = TokenBuckets(rate_per_second=0, burst=1)
    assert all(buckets.take("alice", now=0.0) == 0 for _ in range(1000))


def test_memory_stays_bounded_by_forgetting_refilled_buckets() -> None:
    buckets = TokenBuckets(rate_per_second=1, burst=1, max_keys=100)
    for i in range(1000):
        buckets.take(i, now=float(i))
    assert len(buckets._buckets) <= 101
