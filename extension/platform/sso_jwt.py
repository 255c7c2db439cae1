"""Sign-on from another host: a host-signed JWT (``GET /t/<tenant>/sso/jwt?jwt=...&next=...``).

A host that is not Genesys Cloud (a CRM, an intranet) frames a panel and signs its user in by
handing over a short-lived JWT it signed. The tenant's settings (``tenants.jwt_config_enc``,
sealed like every tenant secret; ``flask tenants jwt ...``) name the issuer, the audience and the
key: RS256 with the host's JWKS URL (:mod:`connectors.jwks`, fetched with no transaction open)
or HS256 with a shared secret. Checked: signature with that one algorithm (never ``none``, never
the token's own choice), ``iss``, ``aud``, ``exp``, ``iat`` (not in the future, not older than
``MAX_AGE``), ``nbf`` when present, a lifetime of at most ``MAX_LIFETIME``, and ``jti`` once
(``sso_jwt_ids``, kept until the token's expiry). ``sub`` is the person's host user id (a stored,
active Coachwire person); ``roles``/``permissions``/``groups`` claims go through the tenant's
role mapping as ``users/me`` does (an admin's override is kept). Then the same rotated panel
session as the Genesys callback, ``via="jwt"`` (no host token to re-check).

No Flask here (the web side is :mod:`extension.platform.shell`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from flask_babel import lazy_gettext
from sqlalchemy.exc import IntegrityError

from connectors import jwks
from connectors.errors import ConnectorError
from connectors.errors import Invalid as HostInvalid
from extension.platform import audit, roles
from extension.platform.crypto import SecretBox
from extension.platform.errors import Invalid
from extension.platform.models.people import Person
from extension.platform.models.sessions import SsoJwtId
from extension.platform.models.tenants import Tenant
from extension.platform.sso import (
    SignedIn,
    SignOnRefused,
    _audit_refusal,
    _check_tenant_active,
    digest,
    new_session,
    safe_next,
)

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "HS256")
LEEWAY = 30  # seconds of clock skew allowed on exp/nbf/iat
MAX_AGE = timedelta(minutes=5)  # iat no older than this: a token is handed over at once
MAX_LIFETIME = timedelta(minutes=15)  # exp - iat: short-lived tokens only
MIN_SECRET = 32  # HS256 secrets: at least 256 bits
MAX_TOKEN = 8000


@dataclass(frozen=True)
class JwtConfig:
    issuer: str
    audience: str
    algorithm: str
    jwks_url: str | None = None
    secret: str | None = None

    def public(self) -> dict[str, Any]:
        """What may be shown (never the secret)."""
        return {"issuer": self.issuer, "audience": self.audience, "algorithm": self.algorithm,
                "jwks_url": self.jwks_url, "secret_set": bool(self.secret)}


def validate_config(*, issuer: str, audience: str, algorithm: str, jwks_url: str | None,
                    secret: str | None) -> JwtConfig:
    errors = []
    if not issuer or len(issuer) > 300:
        errors.append({"field": "issuer", "reason": "required, at most 300 characters"})
    if not audience or len(audience) > 300:
        errors.append({"field": "audience", "reason": "required, at most 300 characters"})
    if algorithm not in ALGORITHMS:
        errors.append({"field": "algorithm", "reason": f"one of {', '.join(ALGORITHMS)}"})
    if algorithm == "RS256":
        if secret:
            errors.append({"field": "secret", "reason": "RS256 takes a JWKS URL, not a secret"})
        try:
            jwks.client_for(jwks_url or "")
        except HostInvalid:
            errors.append({"field": "jwks_url", "reason": "an https URL (http on loopback)"})
    if algorithm == "HS256":
        if jwks_url:
            errors.append({"field": "jwks_url", "reason": "HS256 takes a secret, not a JWKS URL"})
        if not secret or len(secret) < MIN_SECRET:
            errors.append({"field": "secret", "reason": f"at least {MIN_SECRET} characters"})
    if errors:
        raise Invalid("The JWT sign-on settings are not valid.", errors=errors)
    return JwtConfig(issuer=issuer, audience=audience, algorithm=algorithm,
                     jwks_url=jwks_url if algorithm == "RS256" else None,
                     secret=secret if algorithm == "HS256" else None)


def configure(session, box: SecretBox, tenant: Tenant, config: JwtConfig | None, *,
              actor: str = "system:cli") -> None:
    """Store (sealed) or clear the tenant's JWT sign-on settings; audited without the secret."""
    tenant.jwt_config_enc = box.seal(config.__dict__) if config else None
    audit.record(session, tenant_id=tenant.id, actor=actor,
                 action="tenant.jwt_configured" if config else "tenant.jwt_cleared",
                 subject_type="tenant", subject_id=tenant.id,
                 details=config.public() if config else {})


def config_of(box: SecretBox, tenant: Tenant) -> JwtConfig | None:
    data = box.open(tenant.jwt_config_enc) if tenant.jwt_config_enc else None
    return JwtConfig(**data) if isinstance(data, dict) else None


def sign_in(db, box: SecretBox, *, tenant_id: str, token: str | None, next_raw: str | None,
            old_session_secret: str | None = None, now: datetime | None = None) -> SignedIn:
    """Check the host's token and open a panel session; SignOnRefused when it cannot."""
    now = now or datetime.now(UTC)
    with db.session() as session:
        tenant = session.get(Tenant, tenant_id)
        _check_tenant_active(tenant)
        assert tenant is not None
        config = config_of(box, tenant)
        if config is None:
            raise SignOnRefused(409, "jwt_not_configured", lazy_gettext(
                "Sign-on with a host token is not set up for this organisation; ask your "
                "Coachwire admin."))
        next_path = safe_next(tenant.id, next_raw)
    try:
        claims = _verified(config, token, now)  # the JWKS fetch: no transaction open
        return _open_session(db, box, tenant_id, claims, next_path=next_path,
                             old_session_secret=old_session_secret, now=now)
    except SignOnRefused as refused:
        refused.tenant_id = tenant_id
        _audit_refusal(db, tenant_id, refused)
        raise


def _bad(reason: str) -> SignOnRefused:
    refused = SignOnRefused(401, "jwt_invalid", lazy_gettext(
        "The sign-in token from your host is not valid; open the page again from your host."))
    refused.audit_details = {"why": reason[:120]}
    return refused


def _verified(config: JwtConfig, token: str | None, now: datetime) -> dict[str, Any]:
    if not token or len(token) > MAX_TOKEN:
        raise _bad("no token or too long")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _bad(f"header: {exc}") from None
    if header.get("alg") != config.algorithm:  # the tenant's algorithm, never the token's
        raise _bad(f"alg {str(header.get('alg'))[:10]} is not {config.algorithm}")
    try:
        if config.algorithm == "RS256":
            assert config.jwks_url
            key: Any = jwks.signing_key(config.jwks_url, token)
        else:
            key = config.secret
        claims = jwt.decode(token, key, algorithms=[config.algorithm], audience=config.audience,
                            issuer=config.issuer, leeway=LEEWAY,
                            options={"require": ["exp", "iat", "sub", "jti", "iss", "aud"],
                                     "verify_iat": True, "verify_nbf": True})
    except jwt.PyJWKClientConnectionError as exc:
        log.warning("JWKS not fetched: %s", exc)
        raise SignOnRefused(502, "jwks_unavailable", lazy_gettext(
            "Your host's signing keys could not be fetched; try again.")) from None
    except (jwt.PyJWTError, ConnectorError) as exc:
        raise _bad(f"{type(exc).__name__}: {exc}") from None
    iat, exp = claims["iat"], claims["exp"]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (iat, exp)):
        raise _bad("iat/exp not numbers")
    issued = datetime.fromtimestamp(iat, UTC)
    if issued < now - MAX_AGE - timedelta(seconds=LEEWAY):
        raise _bad("issued too long ago")
    if issued > now + timedelta(seconds=LEEWAY):
        raise _bad("issued in the future")
    if exp - iat > MAX_LIFETIME.total_seconds():
        raise _bad("lifetime too long")
    if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
        raise _bad("sub/jti not strings")
    return claims


def _facts(claims: dict[str, Any], *, stored_reports: bool | None) -> roles.HostFacts:
    """The role claims as the users/me body the role mapping reads (absent: unknown)."""
    me: dict[str, Any] = {}
    names = claims.get("roles")
    permissions = claims.get("permissions")
    if isinstance(names, list) or isinstance(permissions, list):
        me["authorization"] = {
            "roles": [{"name": str(n)} for n in names or [] if isinstance(n, str)],
            "permissions": [p for p in permissions or [] if isinstance(p, str)]}
    groups = claims.get("groups")
    if isinstance(groups, list):
        me["groups"] = [{"name": g} for g in groups if isinstance(g, str)]
    reports = claims.get("direct_reports")
    return roles.facts_of(me, direct_reports=reports if isinstance(reports, bool)
                          else stored_reports)


def _open_session(db, box: SecretBox, tenant_id: str, claims: dict[str, Any], *,
                  next_path: str, old_session_secret: str | None, now: datetime) -> SignedIn:
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    try:
        with db.session() as session:  # the jti is good once (a unique row)
            session.add(SsoJwtId(tenant_id=tenant_id, jti_hash=digest(claims["jti"]),
                                 expires_at=expires + timedelta(seconds=LEEWAY)))
    except IntegrityError:
        raise _replayed() from None
    with db.session() as session:
        tenant = session.get(Tenant, tenant_id)
        _check_tenant_active(tenant)
        assert tenant is not None
        person = session.get(Person, (tenant.id, claims["sub"]))
        if person is None:
            refused = SignOnRefused(403, "unknown_person", lazy_gettext(
                "You are not set up in Coachwire yet; ask your Coachwire admin."))
            refused.audit_details = {"host_user_id": claims["sub"][:64]}
            raise refused
        if not person.active:
            refused = SignOnRefused(403, "inactive_person", lazy_gettext(
                "Your Coachwire access is not active."))
            refused.audit_details = {"host_user_id": person.id}
            raise refused
        facts = _facts(claims, stored_reports=roles.reports_to(session, tenant.id, person.id))
        roles.apply(session, tenant, person, facts, actor=f"person:{person.id}", via="sign_in")
        secret = new_session(session, box, tenant_id=tenant.id, person_id=person.id, now=now,
                             via="jwt", old_session_secret=old_session_secret)
        audit.record(session, tenant_id=tenant.id, actor=f"person:{person.id}",
                     action="sso.signed_in", subject_type="person", subject_id=person.id,
                     details={"role": person.role, "session": digest(secret)[:12],
                              "via": "jwt", "next": next_path[:200]})
        return SignedIn(tenant_id=tenant.id, person_id=person.id, person_name=person.name,
                        role=person.role, next_path=next_path, session_secret=secret)


def _replayed() -> SignOnRefused:
    return SignOnRefused(401, "jwt_replayed", lazy_gettext(
        "This sign-in token was already used; open the page again from your host."))
