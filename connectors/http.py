"""The one shared outbound transport: session, timeouts, rate limiting, retries, paging.

Every connector talks HTTP through a `Transport`, so the rules in ARCHITECTURE.md (timeouts
always, retry only transient errors, honour Retry-After, bounded attempts, one token refresh
on 401, per-tenant bucket) live in one place.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import requests
import tenacity

from connectors.errors import (
    AuthExpired,
    ConnectorError,
    Forbidden,
    Invalid,
    NotFound,
    NotSent,
    RateLimited,
    Transient,
    decipher,
    parse_retry_after,
)
from connectors.metrics import count_host_answer
from connectors.ratelimit import InMemoryTokenBucket, RateLimitTimeout, RedisTokenBucket, TokenBucket

__all__ = [
    "AuthExpired",
    "ConnectorError",
    "Forbidden",
    "InMemoryTokenBucket",
    "Invalid",
    "NotFound",
    "NotSent",
    "RateLimitTimeout",
    "RateLimited",
    "RedisTokenBucket",
    "TokenBucket",
    "TokenProvider",
    "Transient",
    "Transport",
    "bucket_wait_limit",
    "decipher",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 10)  # (connect, read) seconds
MAX_PAGES = 10_000  # a host that keeps answering nextUri must not loop us forever
_BUCKET_MAX_WAIT: ContextVar[float | None] = ContextVar("bucket_max_wait", default=None)


@contextmanager
def bucket_wait_limit(seconds: float) -> Iterator[None]:
    """Within this block a request whose tenant bucket would make it wait longer than `seconds`
    raises RateLimitTimeout (with the wait) instead of sleeping: a job re-enqueues itself with
    that delay rather than hold a worker that other tenants' jobs need."""
    token = _BUCKET_MAX_WAIT.set(seconds)
    try:
        yield
    finally:
        _BUCKET_MAX_WAIT.reset(token)


class TokenProvider(Protocol):
    """Returns a bearer token; `refresh=True` discards any cached one first."""

    def __call__(self, *, refresh: bool = False) -> str: ...


class Transport:
    """HTTP to one base URL with the retry and limiting policy applied to every call."""

    def __init__(
        self,
        base_url: str,
        *,
        token_provider: TokenProvider | None = None,
        bucket: TokenBucket | None = None,
        bucket_key: str = "default",
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_attempts: int = 4,
        backoff: tuple[float, float] = (0.5, 30.0),
        max_retry_after: float = 120.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        classify: Callable[[requests.Response], ConnectorError | None] | None = None,
    ):
        """`classify` lets a provider type its own error answers (e.g. Google's 403 with a
        rate-limit reason is transient); it returns None to keep the generic mapping."""
        self._classify = classify
        self.base_url = base_url.rstrip("/") + "/"
        self._host = urlsplit(self.base_url).netloc
        self._token_provider = token_provider
        self._bucket, self._bucket_key = bucket, bucket_key
        self._timeout, self._max_attempts = timeout, max_attempts
        self._backoff = tenacity.wait_random_exponential(multiplier=backoff[0], max=backoff[1])
        self._max_retry_after = max_retry_after
        self.session = session or requests.Session()
        self._sleep = sleep

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        create: bool = False,
    ) -> Any:
        """Send one request (with retries) and return the decoded body.

        `create=True` marks a request the host must not receive twice (a POST that creates):
        it is retried only when the host cannot have acted on it (429, connect timeout). A 5xx,
        a read timeout or a dropped connection leave its outcome unknown; they are raised at
        once, so the caller can look on the host before sending it again.
        """
        data_out, _ = self._send(method, path, json=json, data=data, params=params,
                                 headers=headers, create=create)
        return data_out

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None, *, items_key: str = "entities"
    ) -> Iterator[Any]:
        """Yield the entities of a GET listing, following nextUri or pageNumber/pageCount."""
        url: str | None = path
        seen: set[str] = set()
        while url and len(seen) < MAX_PAGES:
            seen.add(url)
            page, url = self._send("GET", url, params=params)
            params = None  # the next page URI already carries the query
            yield from (page or {}).get(items_key) or []
            if url in seen:
                log.warning("pagination loop on %s; stopping", urlsplit(url).path)
                return

    def download(self, url: str) -> Any:
        """GET a pre-signed URL (downloadUrl, transcript url); never sends our bearer token."""
        return self.request("GET", url)

    def _send(self, method: str, path: str, *, create: bool = False,
              **kwargs: Any) -> tuple[Any, str | None]:
        if "://" not in path:
            _check_relative_path(path)
        url = urljoin(self.base_url, path.lstrip("/")) if "://" not in path else path
        try:
            return self._with_retries(method, url, create=create, **kwargs)
        except AuthExpired:
            if self._token_provider is None or not self._is_own_host(url):
                raise
            log.info("token rejected by %s; refreshing once", self._host)
            self._token_provider(refresh=True)
            return self._with_retries(method, url, create=create, **kwargs)

    def _with_retries(self, method: str, url: str, *, create: bool = False,
                      **kwargs: Any) -> tuple[Any, str | None]:
        should_retry = self._should_retry_create if create else self._should_retry
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(should_retry),
            stop=tenacity.stop_after_attempt(self._max_attempts),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(self._attempt, method, url, **kwargs)

    def _should_retry(self, error: BaseException) -> bool:
        if isinstance(error, RateLimited) and error.retry_after is not None:
            # A long Retry-After is better handled by re-queueing the job than by a sleeping worker.
            return error.retry_after <= self._max_retry_after
        return isinstance(error, Transient)

    def _should_retry_create(self, error: BaseException) -> bool:
        # Only errors that prove the host did not act: a 429 is refused before any work.
        return isinstance(error, RateLimited | NotSent) and self._should_retry(error)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        backoff = self._backoff(state)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return max(error.retry_after, backoff)
        return backoff

    def _attempt(self, method: str, url: str, *, headers=None, **kwargs: Any):
        budgeted = self._bucket is not None and self._is_own_host(url)  # counted in /metrics
        if self._bucket is not None and self._is_own_host(url):
            self._bucket.take(self._bucket_key, sleep=self._sleep, max_wait=_BUCKET_MAX_WAIT.get())
        try:
            response = self.session.request(
                method, url, headers=self._headers(url, headers), timeout=self._timeout, **kwargs
            )
        except requests.ConnectTimeout as exc:
            raise NotSent(f"{type(exc).__name__} calling {urlsplit(url).netloc}") from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            if budgeted:
                count_host_answer(self._bucket_key, "error")
            raise Transient(f"{type(exc).__name__} calling {urlsplit(url).netloc}") from None
        if budgeted:
            count_host_answer(self._bucket_key, response.status_code)
        log.debug("%s %s -> %s", method, urlsplit(url).path, response.status_code)
        if response.status_code >= 400 and self._classify is not None:
            typed = self._classify(response)
            if typed is not None:
                raise typed
        return decipher(
            response.status_code, response.headers, response.content, request_url=response.url
        )

    def _headers(self, url: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {"Accept": "application/json", **(extra or {})}
        if self._token_provider is not None and self._is_own_host(url):
            headers.setdefault("Authorization", f"Bearer {self._token_provider()}")
        return headers

    def _is_own_host(self, url: str) -> bool:
        # Pre-signed download URLs live on other hosts; our token must never travel there.
        return urlsplit(url).netloc == self._host

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0
        log.warning("retrying after %s (attempt %d, wait %.2fs)", error, state.attempt_number, wait)


def _check_relative_path(path: str) -> None:
    """An id put into a path must stay one segment: `.`/`..` segments (plain or %-encoded) and
    backslashes would make urljoin reach another endpoint with our token. (A query is allowed:
    the host's nextUri is a relative path with one.)"""
    route = path.split("?", 1)[0].lower()
    segments = route.replace("%2e", ".").replace("%2f", "/").replace("%5c", "/").split("/")
    if "\\" in route or "#" in route or any(seg in (".", "..") for seg in segments):
        raise ValueError(f"unsafe request path {path[:200]!r}: an id may not leave its segment")
