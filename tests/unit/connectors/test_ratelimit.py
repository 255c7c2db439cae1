import threading

import pytest

from connectors.ratelimit import (
    GENESYS_SPEC,
    BucketSpec,
    InMemoryTokenBucket,
    RateLimitTimeout,
    RedisTokenBucket,
)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_genesys_default_never_allows_more_than_300_per_minute():
    # Worst case in any 60 s window: a full bucket plus 60 s of refill.
    assert GENESYS_SPEC.capacity + 60 * GENESYS_SPEC.per_second <= 300


def test_memory_bucket_grants_capacity_then_says_how_long_to_wait():
    clock = Clock()
    bucket = InMemoryTokenBucket(BucketSpec(capacity=3, per_second=0.5), clock=clock)
    assert [bucket.acquire("t") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.acquire("t") == pytest.approx(2.0)
    clock.now += 2.0
    assert bucket.acquire("t") == 0.0


def test_memory_bucket_keys_are_independent():
    bucket = InMemoryTokenBucket(BucketSpec(capacity=1, per_second=1), clock=Clock())
    assert bucket.acquire("tenant-a") == 0.0
    assert bucket.acquire("tenant-b") == 0.0
    assert bucket.acquire("tenant-a") > 0


def test_a_refused_acquire_takes_nothing():
    clock = Clock()
    bucket = InMemoryTokenBucket(BucketSpec(capacity=2, per_second=1), clock=clock)
    bucket.acquire("t", 2)
    assert bucket.acquire("t", 2) == pytest.approx(2.0)
    assert bucket.acquire("t", 2) == pytest.approx(2.0)  # unchanged: the refusal took nothing


def test_take_sleeps_until_granted():
    clock = Clock()
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        clock.now += seconds

    bucket = InMemoryTokenBucket(BucketSpec(capacity=1, per_second=2), clock=clock)
    bucket.take("t", sleep=sleep)
    assert bucket.take("t", sleep=sleep) == pytest.approx(0.5)
    assert waits == [pytest.approx(0.5)]


def test_take_refuses_to_wait_longer_than_max_wait():
    bucket = InMemoryTokenBucket(BucketSpec(capacity=1, per_second=0.01), clock=Clock())
    bucket.acquire("t")
    with pytest.raises(RateLimitTimeout):
        bucket.take("t", sleep=lambda s: None, max_wait=5)


def test_asking_for_more_than_capacity_is_an_error_not_an_endless_wait():
    bucket = InMemoryTokenBucket(BucketSpec(capacity=2, per_second=1))
    with pytest.raises(ValueError):
        bucket.acquire("t", 3)


def test_redis_bucket_limits_and_reports_the_wait(redis_ns):
    bucket = RedisTokenBucket(
        redis_ns.client, BucketSpec(capacity=3, per_second=0.05), prefix=redis_ns.prefix
    )
    assert [bucket.acquire("t") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = bucket.acquire("t")
    assert 19 < wait <= 20  # one token at 0.05/s, minus the few ms since the first acquire


def test_redis_bucket_is_shared_by_every_process(redis_ns):
    spec = BucketSpec(capacity=2, per_second=0.01)
    web = RedisTokenBucket(redis_ns.client, spec, prefix=redis_ns.prefix)
    worker = RedisTokenBucket(redis_ns.client, spec, prefix=redis_ns.prefix)
    assert web.acquire("tenant") == 0.0
    assert worker.acquire("tenant") == 0.0
    assert web.acquire("tenant") > 0
    assert worker.acquire("tenant") > 0


def test_redis_bucket_is_atomic_under_concurrency(redis_ns):
    bucket = RedisTokenBucket(
        redis_ns.client, BucketSpec(capacity=10, per_second=0.001), prefix=redis_ns.prefix
    )
    results, lock = [], threading.Lock()

    def worker():
        for _ in range(5):
            wait = bucket.acquire("hot")
            with lock:
                results.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 40
    assert results.count(0.0) == 10


def test_redis_bucket_keys_expire_so_idle_tenants_leave_nothing(redis_ns):
    bucket = RedisTokenBucket(
        redis_ns.client, BucketSpec(capacity=10, per_second=1), prefix=redis_ns.prefix
    )
    bucket.acquire("idle")
    ttl = redis_ns.client.ttl(redis_ns.prefix + "idle")
    assert 0 < ttl <= 11
