"""Inbound authentication and size checks: pure functions over headers and the raw body.

Why not `standardwebhooks.Webhook.verify` (1.0.0) directly: it takes one secret (we must accept any
of several during rotation), reads the wall clock with a fixed tolerance (tests and callers inject
`now`), raises ValueError/binascii.Error on a malformed signature header (a 500 instead of a 401),
decodes the body as UTF-8 and json.loads it (so a signed but non-JSON body fails as "unauthorized"),
and signs the *floored* timestamp rather than the header text. We therefore compute the same
HMAC-SHA256 over the raw bytes here and compare with `hmac.compare_digest`; the tests sign with the
real `standardwebhooks` signer so the two stay interoperable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from handlers.errors import (
    BadJSON,
    InboundError,
    NotAnEvent,
    PayloadTooLarge,
    TooManyEvents,
    Unauthorized,
)

__all__ = [
    "MAX_BODY_BYTES",
    "BadJSON",
    "InboundError",
    "NotAnEvent",
    "PayloadTooLarge",
    "TooManyEvents",
    "Unauthorized",
    "check_size",
    "decode_secret",
    "verify_api_key",
    "verify_standard_webhook",
]

MAX_BODY_BYTES = 1024 * 1024
SECRET_PREFIX = "whsec_"
# The id becomes the inbox idempotency key (column holds 200), so keep it short and printable.
_WEBHOOK_ID = re.compile(r"[\x21-\x7e]{1,200}")
# Seconds since the epoch as plain digits: anything else (floats, exponents, signs) would be signed
# differently by different senders, so it is refused rather than guessed at.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# Bounds the HMAC work a forged request can cause.
_MAX_SIGNATURES = 16


def check_size(content_length: int | None, limit: int = MAX_BODY_BYTES) -> None:
    """Refuse a body above `limit` bytes. None (chunked) passes: the caller must bound its read."""
    if content_length is not None and content_length > limit:
        raise PayloadTooLarge(f"body exceeds {limit} bytes")


def decode_secret(secret: str) -> bytes:
    """Key bytes of a `whsec_<base64>` secret; ValueError for a bad one (a config error, not a 401).

    Config loading should call this at startup so a bad secret fails fast, not per request.
    """
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw, validate=True)
    except binascii.Error as exc:
        raise ValueError("webhook secret is not valid base64") from exc
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def verify_standard_webhook(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    now: datetime | None = None,
    tolerance: timedelta = timedelta(minutes=5),
) -> str:
    """Check a Standard Webhooks signature; return the `webhook-id` (the delivery id)."""
    lowered = _lookup(headers)
    msg_id = _header(lowered, "webhook-id", _WEBHOOK_ID)
    timestamp = _header(lowered, "webhook-timestamp", _TIMESTAMP)
    _check_timestamp(int(timestamp), now=now or datetime.now(UTC), tolerance=tolerance)
    offered = _offered_signatures(_header(lowered, "webhook-signature", None))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    if not _any_signature_matches(signed, offered, [decode_secret(s) for s in secrets]):
        raise Unauthorized("no matching signature")
    return msg_id


def verify_api_key(headers: Mapping[str, str], keys: Sequence[str]) -> None:
    """Accept `Authorization: Bearer <key>` or `x-api-key: <key>` matching any configured key."""
    lowered = _lookup(headers)
    presented = [k for k in (_bearer(lowered.get("authorization")), lowered.get("x-api-key")) if k]
    if not presented:
        raise Unauthorized("missing API key")
    matched = False
    # Compare every pair without an early exit, so timing does not reveal which key is close.
    for candidate in presented:
        for key in keys:
            if key and hmac.compare_digest(candidate.encode(), key.encode()):
                matched = True
    if not matched:
        raise Unauthorized("invalid API key")


def _lookup(headers: Mapping[str, str]) -> Mapping[str, str]:
    """Something whose .get() takes lower-case names. Werkzeug's headers already ignore case
    (and lowering all of them cost more than the HMAC); plain dicts (tests, other adapters)
    are lowered once."""
    if isinstance(headers, dict):
        return {str(k).lower(): v for k, v in headers.items() if isinstance(v, str)}
    return headers


def _header(headers: Mapping[str, str], name: str, pattern: re.Pattern[str] | None) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise Unauthorized(f"missing {name} header")
    if pattern is not None and not pattern.fullmatch(value):
        raise Unauthorized(f"malformed {name} header")
    return value


def _check_timestamp(seconds: int, *, now: datetime, tolerance: timedelta) -> None:
    # Compared as numbers: a far-future header must be a 401, not an OverflowError from datetime.
    skew = seconds - now.timestamp()
    if skew < -tolerance.total_seconds():
        raise Unauthorized("webhook-timestamp too old")
    if skew > tolerance.total_seconds():
        raise Unauthorized("webhook-timestamp too far in the future")


def _offered_signatures(header: str) -> list[bytes]:
    """The decodable `v1,` signatures; other versions (e.g. v1a) and junk entries are skipped."""
    entries = header.split()
    if len(entries) > _MAX_SIGNATURES:
        raise Unauthorized("too many signatures")
    signatures = []
    for entry in entries:
        version, _, encoded = entry.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            signatures.append(base64.b64decode(encoded, validate=True))
        except binascii.Error:
            continue
    if not signatures:
        raise Unauthorized("malformed webhook-signature header")
    return signatures


def _any_signature_matches(signed: bytes, offered: list[bytes], keys: list[bytes]) -> bool:
    expected = [hmac.new(key, signed, hashlib.sha256).digest() for key in keys]
    # No early exit: a match on the first secret takes as long as one on the last.
    results = [hmac.compare_digest(e, o) for e in expected for o in offered]
    return any(results)


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
