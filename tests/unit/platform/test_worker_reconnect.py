"""The RQ worker's wait before it reconnects: the whole backoff while Redis answers (a worker
crashing for another reason must not spin), but back within a second of Redis answering again
after an outage (the 30 s backoff cap once delayed every event queued after a Redis restart)."""

from __future__ import annotations

import threading
import time

from extension.platform.worker import _wait_to_reconnect


class Redis:
    """A dispatcher whose ping fails ``down`` times, then answers."""

    def __init__(self, down: int) -> None:
        self.down, self.pings = down, 0

    def ping(self) -> bool:
        self.pings += 1
        if self.pings <= self.down:
            raise ConnectionError("Connection refused")
        return True


def test_after_an_outage_the_worker_reconnects_as_soon_as_redis_answers():
    redis = Redis(down=2)
    started = time.monotonic()
    _wait_to_reconnect(redis, threading.Event(), delay=60.0)
    assert redis.pings == 3  # asked once a second; the third answered
    assert time.monotonic() - started < 10  # not the 60 s backoff


def test_while_redis_answers_the_whole_backoff_is_kept():
    redis = Redis(down=0)
    started = time.monotonic()
    _wait_to_reconnect(redis, threading.Event(), delay=0.5)
    assert redis.pings == 1 and time.monotonic() - started >= 0.5


def test_a_stop_request_ends_the_wait():
    redis, stop = Redis(down=1000), threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    _wait_to_reconnect(redis, stop, delay=60.0)
    assert time.monotonic() - started < 5 and redis.pings <= 2
