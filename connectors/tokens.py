"""Access-token caching shared by the OAuth client-credentials connectors.

A new token per call would hit the identity provider on every request (and its own limits),
so tokens are kept until shortly before they expire: in process memory, and optionally in
Redis so every worker reuses one token. Only the short-lived access token is stored, never
the client secret.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import redis


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float  # epoch seconds

    def valid(self, *, now: float, margin: float) -> bool:
        return now < self.expires_at - margin


class MemoryTokenCache:
    def __init__(self) -> None:
        self._tokens: dict[str, AccessToken] = {}

    def get(self, key: str) -> AccessToken | None:
        return self._tokens.get(key)

    def put(self, key: str, token: AccessToken) -> None:
        self._tokens[key] = token

    def delete(self, key: str) -> None:
        self._tokens.pop(key, None)


class RedisTokenCache:
    """Tokens in Redis with a TTL equal to their lifetime, so stale ones vanish by themselves."""

    def __init__(self, client: redis.Redis, *, prefix: str = "coachwire:token:", clock=time.time):
        self._client, self._prefix, self._clock = client, prefix, clock

    def get(self, key: str) -> AccessToken | None:
        # a synchronous client: the value itself, never an awaitable
        raw = cast("bytes | str | None", self._client.get(self._prefix + key))
        if raw is None:
            return None
        stored = json.loads(raw)
        return AccessToken(stored["value"], float(stored["expires_at"]))

    def put(self, key: str, token: AccessToken) -> None:
        ttl = int(token.expires_at - self._clock())
        if ttl > 0:
            payload = json.dumps({"value": token.value, "expires_at": token.expires_at})
            self._client.set(self._prefix + key, payload, ex=ttl)

    def delete(self, key: str) -> None:
        self._client.delete(self._prefix + key)


def cache_key(*parts: str) -> str:
    """A stable, non-reversible key per (issuer, client id): ids stay out of Redis key scans."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class CachedTokenProvider:
    """A TokenProvider: returns a cached token, fetching a new one when missing or expiring.

    `fetch()` returns (access_token, expires_in_seconds).
    """

    def __init__(
        self,
        fetch: Callable[[], tuple[str, float]],
        *,
        key: str,
        cache: MemoryTokenCache | RedisTokenCache | None = None,
        margin: float = 60.0,
        clock: Callable[[], float] = time.time,
    ):
        self._fetch, self._key = fetch, key
        self._cache = cache if cache is not None else MemoryTokenCache()
        self._margin, self._clock = margin, clock
        self._local: AccessToken | None = None  # saves a Redis round trip per request
        self._lock = threading.Lock()

    def __call__(self, *, refresh: bool = False) -> str:
        with self._lock:
            if refresh:
                self._local = None
                self._cache.delete(self._key)
            return self._current().value

    def _current(self) -> AccessToken:
        now = self._clock()
        for token in (self._local, self._cache.get(self._key)):
            if token is not None and token.valid(now=now, margin=self._margin):
                self._local = token
                return token
        value, expires_in = self._fetch()
        self._local = AccessToken(value, now + float(expires_in))
        self._cache.put(self._key, self._local)
        return self._local
