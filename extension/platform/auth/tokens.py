"""API bearer tokens: HS256 JWTs signed with the app's SECRET_KEY.

Claims: ``iss`` ("coachwire"), ``tid`` (tenant), ``sub`` (person id), ``role``, ``iat``, ``exp``,
``jti`` (the token's id, so one token can be revoked). Every claim is checked for type and range:
anything malformed is a TokenError (401), never an exception further down.
Pure functions of (secret, claims, clock) so panels, the CLI and tests mint and check tokens the
same way; the Flask side lives in :mod:`extension.platform.auth.guard`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ISSUER = "coachwire"
ALGORITHM = "HS256"
ROLES = ("agent", "supervisor", "qa_analyst", "manager", "admin")
DEFAULT_TTL = timedelta(hours=1)
MAX_TTL = timedelta(days=30)  # what `flask tokens issue` allows; a longer-lived token is refused
_REQUIRED = ["iss", "tid", "sub", "role", "exp", "iat", "jti"]
# ids as the database stores them: at most 64 printable characters, no NUL or control characters
_ID = re.compile(r"[\x21-\x7e]{1,64}")


class TokenError(ValueError):
    """The token is missing, malformed, expired, or signed with another key (always a 401)."""


@dataclass(frozen=True)
class Claims:
    tenant_id: str
    person_id: str
    role: str
    expires_at: datetime
    issued_at: datetime
    token_id: str


def issue(secret: str, *, tenant_id: str, person_id: str, role: str,
          ttl: timedelta = DEFAULT_TTL, now: datetime | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
    now = now or datetime.now(UTC)
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError(f"ttl must be positive and at most {MAX_TTL}")
    claims = {"iss": ISSUER, "tid": tenant_id, "sub": person_id, "role": role,
              "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp()),
              "jti": uuid.uuid4().hex}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(secret: str, token: str, *, now: datetime | None = None) -> Claims:
    """The token's claims, or TokenError; ``now`` lets tests check expiry without sleeping."""
    options = {"require": _REQUIRED, "verify_exp": now is None}
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options=options)
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    except (TypeError, ValueError, OverflowError) as exc:  # e.g. a claim PyJWT cannot compare
        raise TokenError("malformed claims") from exc
    claims = _claims(payload)
    if now is not None and claims.expires_at <= now:
        raise TokenError("Signature has expired")
    return claims


def _timestamp(payload: dict, name: str) -> datetime:
    value = payload[name]
    # bool is an int to Python; a float would let precision games through; anything out of
    # datetime's range (e.g. 10**20) would overflow below
    if type(value) is not int or not 0 <= value <= 253402300799:
        raise TokenError(f"{name} must be an integer timestamp")
    return datetime.fromtimestamp(value, UTC)


def _claims(payload: dict) -> Claims:
    issued_at, expires_at = _timestamp(payload, "iat"), _timestamp(payload, "exp")
    if not timedelta(0) < expires_at - issued_at <= MAX_TTL:
        raise TokenError(f"exp must be after iat and at most {MAX_TTL.days} days later")
    for name in ("tid", "sub", "jti"):
        if not isinstance(payload[name], str) or not _ID.fullmatch(payload[name]):
            raise TokenError(f"{name} must be an id of 1 to 64 printable characters")
    role = payload["role"]
    if not isinstance(role, str) or role not in ROLES:
        raise TokenError(f"unknown role {role!r}")
    return Claims(tenant_id=payload["tid"], person_id=payload["sub"], role=role,
                  expires_at=expires_at, issued_at=issued_at, token_id=payload["jti"])
