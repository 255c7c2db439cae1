"""Token buckets that keep each tenant under the host's request limit.

Genesys allows 300 requests per minute per client-credentials token. A bucket of capacity C
refilled at r tokens/s lets at most C + 60*r requests through in any 60-second window, so the
Genesys default below (C=50, r=250/60) never exceeds 300 while still absorbing short bursts.

Two implementations share one interface: `acquire(key, tokens=1) -> seconds to wait` (0.0 means
the tokens were taken; a positive value means none were taken and the caller should wait that
long and ask again). `take()` is the blocking helper built on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class BucketSpec:
    capacity: float
    per_second: float


GENESYS_SPEC = BucketSpec(capacity=50, per_second=250 / 60)


class RateLimitTimeout(Exception):
    """The bucket would make the caller wait longer than it agreed to; `wait` is how long (s)."""

    def __init__(self, message: str, wait: float = 0.0):
        super().__init__(message)
        self.wait = wait


class TokenBucket:
    """Shared behaviour: validation and the blocking helper."""

    def __init__(self, spec: BucketSpec = GENESYS_SPEC):
        if spec.capacity <= 0 or spec.per_second <= 0:
            raise ValueError("capacity and rate must be positive")
        self.spec = spec

    def acquire(self, key: str, tokens: float = 1) -> float:
        raise NotImplementedError

    def level(self, key: str) -> float:
        """Tokens left in the bucket now (refilled to the present), without taking any."""
        raise NotImplementedError

    def take(
        self,
        key: str,
        tokens: float = 1,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float | None = None,
    ) -> float:
        """Block (through `sleep`) until the tokens are taken; returns the total time waited."""
        waited = 0.0
        while (wait := self.acquire(key, tokens)) > 0:
            if max_wait is not None and waited + wait > max_wait:
                raise RateLimitTimeout(f"would wait {waited + wait:.1f}s for {key!r}", wait)
            sleep(wait)
            waited += wait
        return waited

    def _check(self, tokens: float) -> None:
        # More than the capacity could never be granted: fail instead of waiting forever.
        if not 0 < tokens <= self.spec.capacity:
            raise ValueError(f"tokens must be in (0, {self.spec.capacity}]")


class InMemoryTokenBucket(TokenBucket):
    """Per-process bucket: for development, tests and single-process deployments."""

    def __init__(
        self, spec: BucketSpec = GENESYS_SPEC, *, clock: Callable[[], float] = time.monotonic
    ):
        super().__init__(spec)
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def acquire(self, key: str, tokens: float = 1) -> float:
        self._check(tokens)
        with self._lock:
            now = self._clock()
            level, stamp = self._state.get(key, (self.spec.capacity, now))
            level = min(self.spec.capacity, level + max(0.0, now - stamp) * self.spec.per_second)
            wait = 0.0 if level >= tokens else (tokens - level) / self.spec.per_second
            self._state[key] = (level - tokens if wait == 0 else level, now)
            return wait

    def level(self, key: str) -> float:
        with self._lock:
            level, stamp = self._state.get(key, (self.spec.capacity, self._clock()))
            return min(self.spec.capacity,
                       level + max(0.0, self._clock() - stamp) * self.spec.per_second)


# Runs atomically inside Redis, with Redis' own clock, so every process and host shares one
# bucket per key without clock skew. A full bucket is the same as no key, hence the EXPIRE.
_ACQUIRE_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local requested = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'level', 'stamp')
local level = tonumber(state[1]) or capacity
local stamp = tonumber(state[2]) or now
level = math.min(capacity, level + math.max(0, now - stamp) * rate)
local wait = 0
if level >= requested then
  level = level - requested
else
  wait = (requested - level) / rate
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'stamp', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return tostring(wait)
"""


class RedisTokenBucket(TokenBucket):
    """Bucket shared by every web and worker process through one Redis."""

    def __init__(
        self,
        client: redis.Redis,
        spec: BucketSpec = GENESYS_SPEC,
        *,
        prefix: str = "coachwire:ratelimit:",
    ):
        super().__init__(spec)
        self._prefix = prefix
        self._client = client
        self._script = client.register_script(_ACQUIRE_LUA)

    def acquire(self, key: str, tokens: float = 1) -> float:
        self._check(tokens)
        args = [repr(float(self.spec.capacity)), repr(float(self.spec.per_second)), repr(tokens)]
        # Lua numbers come back from Redis truncated to integers; the script returns a string.
        return float(self._script(keys=[self._prefix + key], args=args))

    def level(self, key: str) -> float:
        # Read with Redis' clock, as the script refills; a missing key is a full bucket.
        with self._client.pipeline(transaction=False) as pipe:
            pipe.hmget(self._prefix + key, ["level", "stamp"])
            pipe.time()
            (level, stamp), (seconds, micros) = pipe.execute()
        if level is None or stamp is None:
            return float(self.spec.capacity)
        elapsed = max(0.0, seconds + micros / 1_000_000 - float(stamp))
        return min(float(self.spec.capacity), float(level) + elapsed * self.spec.per_second)
