"""Typed errors for every outbound call, and the pure status-to-error mapping.

Callers decide what to do by the error's type (retry, refresh, give up), never by parsing
messages. Errors carry the status and a short body excerpt with credentials scrubbed, because
the excerpt ends up in logs and job failure records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypedDict
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

EXCERPT_CHARS = 200

# Response bodies of token endpoints and echo-style errors may contain credentials.
_SECRET_PATTERNS = (
    re.compile(
        r'("?(?:access_token|refresh_token|id_token|client_secret|password|assertion)"?\s*[:=]\s*)'
        r'("[^"]*"|[^\s,&}]+)',
        re.IGNORECASE,
    ),
    re.compile(r"(Bearer\s+|Basic\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
)


class ConnectorError(Exception):
    """Base of every outbound failure: status (None for network errors) and a safe excerpt."""

    def __init__(self, message: str = "", *, status: int | None = None, excerpt: str = ""):
        super().__init__(message or self.__class__.__name__)
        self.status = status
        self.excerpt = excerpt

    def __str__(self) -> str:
        status = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{self.args[0]}{status}"


class Transient(ConnectorError):
    """Connection failure, timeout or 5xx: worth retrying later."""


class NotSent(Transient):
    """The connection was never made (connect timeout): the host cannot have acted on the
    request, so even a create may be sent again at once."""


class RateLimited(Transient):
    """429. A kind of Transient, so code that retries transient errors also backs off here."""

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class AuthExpired(ConnectorError):
    """401: the token is missing, expired or revoked; refresh once, then give up."""


class Forbidden(ConnectorError):
    """403: the client lacks a permission; retrying will not help."""


class NotFound(ConnectorError):
    """404: the entity does not exist (or is not visible to this client)."""


class Invalid(ConnectorError):
    """Another 4xx: the request itself is wrong. `detail` is the host's message, if any."""

    def __init__(self, message: str = "", *, detail: str = "", **kwargs):
        super().__init__(message, **kwargs)
        self.detail = detail


def scrub(text: str) -> str:
    """Remove credentials from text that may be logged."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text


def excerpt(body: bytes) -> str:
    return scrub(body[: EXCERPT_CHARS * 2].decode("utf-8", "replace"))[:EXCERPT_CHARS]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After in delta-seconds or as an HTTP-date (RFC 9110 10.2.3); None if absent/bad."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def decipher(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    request_url: str | None = None,
) -> tuple[object, str | None]:
    """Turn one HTTP response into (data, next page URI or None), or raise the typed error.

    Pure: no I/O, so the mapping is tested without a network. `request_url` lets listings that
    only carry pageNumber/pageCount (no nextUri) still name their next page.
    """
    if 200 <= status < 300:
        data = _parse_body(headers, body)
        return data, _next_page(data, request_url)
    raise _error_for(status, headers, body)


class _ErrorFields(TypedDict):
    """The keyword arguments every ConnectorError of a response gets."""

    status: int
    excerpt: str


def _error_for(status: int, headers: Mapping[str, str], body: bytes) -> ConnectorError:
    kwargs: _ErrorFields = {"status": status, "excerpt": excerpt(body)}
    if status == 429:
        retry_after = parse_retry_after(_header(headers, "Retry-After"))
        return RateLimited("rate limited", retry_after=retry_after, **kwargs)
    if status >= 500:
        return Transient("server error", **kwargs)
    simple = {401: AuthExpired, 403: Forbidden, 404: NotFound}
    if status in simple:
        return simple[status](simple[status].__name__, **kwargs)
    if 400 <= status < 500:
        return Invalid("request rejected", detail=_host_message(body), **kwargs)
    return ConnectorError("unexpected status", **kwargs)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # requests gives a case-insensitive mapping, but decipher must also accept plain dicts.
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _parse_body(headers: Mapping[str, str], body: bytes) -> object:
    if not body:
        return None
    content_type = (_header(headers, "Content-Type") or "").lower()
    text = body.decode("utf-8", "replace")
    if "json" in content_type or text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            if "json" in content_type:
                raise Invalid("malformed JSON response", excerpt=excerpt(body)) from None
    return text


def _host_message(body: bytes) -> str:
    """The `message` of a Genesys ErrorBody (or the excerpt when the body is not one)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return excerpt(body)
    if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        return scrub(parsed["message"])[:EXCERPT_CHARS]
    return excerpt(body)


def _next_page(data: object, request_url: str | None) -> str | None:
    if not isinstance(data, dict):
        return None
    if data.get("nextUri"):
        return data["nextUri"]
    page, count = data.get("pageNumber"), data.get("pageCount")
    if request_url and isinstance(page, int) and isinstance(count, int) and page < count:
        return _with_page(request_url, page + 1)
    return None


def _with_page(url: str, page: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "pageNumber"]
    query.append(("pageNumber", str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))
