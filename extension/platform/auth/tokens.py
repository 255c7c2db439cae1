"""API bearer tokens: HS256 JWTs signed with the app's SECRET_KEY.

Claims: ``iss`` ("coachwire"), ``tid`` (tenant), ``sub`` (person id), ``role``, ``iat``, ``exp``.
Pure functions of (secret, claims, clock) so panels, the CLI and tests mint and check tokens the
same way; the Flask side lives in :mod:`extension.platform.auth.guard`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ISSUER = "coachwire"
ALGORITHM = "HS256"
ROLES = ("agent", "supervisor", "qa_analyst", "manager", "admin")
DEFAULT_TTL = timedelta(hours=1)
_REQUIRED = ["iss", "tid", "sub", "role", "exp"]


class TokenError(ValueError):
    """The token is missing, malformed, expired, or signed with another key (always a 401)."""


@dataclass(frozen=True)
class Claims:
    tenant_id: str
    person_id: str
    role: str
    expires_at: datetime


def issue(secret: str, *, tenant_id: str, person_id: str, role: str,
          ttl: timedelta = DEFAULT_TTL, now: datetime | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
    now = now or datetime.now(UTC)
    claims = {"iss": ISSUER, "tid": tenant_id, "sub": person_id, "role": role,
              "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(secret: str, token: str, *, now: datetime | None = None) -> Claims:
    """The token's claims, or TokenError; ``now`` lets tests check expiry without sleeping."""
    options = {"require": _REQUIRED, "verify_exp": now is None}
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options=options)
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    expires_at = datetime.fromtimestamp(payload["exp"], UTC)
    if now is not None and expires_at <= now:
        raise TokenError("Signature has expired")
    return _claims(payload, expires_at)


def _claims(payload: dict, expires_at: datetime) -> Claims:
    tenant_id, role = payload["tid"], payload["role"]
    if not isinstance(tenant_id, str) or not tenant_id:
        raise TokenError("tid must be a non-empty string")
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r}")
    return Claims(tenant_id=tenant_id, person_id=payload["sub"], role=role, expires_at=expires_at)
