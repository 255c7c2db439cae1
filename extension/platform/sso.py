"""Sign-on of a person inside the Genesys frame: Authorization Code with PKCE, run by the server.

``start``: the tenant (from the panel path, so its login host comes from our record, never from
the user-editable ``gcHostOrigin``/``gcTargetEnv``) gets a one-time state row (state and browser
binding kept as hashes, the PKCE verifier sealed) and the browser goes to the tenant's
``/oauth/authorize``. ``finish`` (the callback): the state is taken once, the browser binding is
checked (a code started in another browser cannot sign this one in), the code is exchanged,
``tokens/me`` must name the tenant's organisation and sign-on client, ``users/me`` names the
person, who must be a stored, active Coachwire person. The tenant's role mapping is applied to
what ``users/me`` says (:mod:`extension.platform.roles`; an admin's override is kept) and stored:
the *stored* role is what counts on every request. Host
calls run with no transaction open; each outcome after the state is known is audited.

No Flask here (the web side is :mod:`extension.platform.shell`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

from sqlalchemy import delete, update

from connectors.errors import AuthExpired, ConnectorError, Forbidden, Invalid, Transient
from connectors.genesys import sso as host_sso
from extension.platform import audit, roles
from extension.platform.crypto import SecretBox
from extension.platform.errors import DomainError
from extension.platform.models.people import Person
from extension.platform.models.sessions import PanelSession, SsoState
from extension.platform.models.tenants import Tenant

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)
SESSION_IDLE = timedelta(hours=8)  # a shift with the panel open but untouched
SESSION_MAX = timedelta(hours=12)
DEFAULT_VIEW = "home"
MAX_NEXT = 2000


class SignOnRefused(DomainError):
    """A sign-in that cannot go on: ``reason`` is a short code (audit, problem type)."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason = status, reason
        self.audit_details: dict = {}  # more for the audit row (never shown to the caller)
        self.tenant_id: str | None = None  # when known: the error page may be framed by it
        self.title = _TITLES.get(status, "Sign-in refused")


_TITLES = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           502: "Bad Gateway"}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def panel_prefix(tenant_id: str) -> str:
    return f"/t/{tenant_id}/panels/"


def safe_next(tenant_id: str, raw: str | None) -> str:
    """The panel path to return to: a relative path under ``/t/<tenant>/panels/`` (with its
    query), else SignOnRefused 400. Nothing that a browser could read as another site
    (``//host``, a scheme, backslashes, control characters) or that climbs out (``..``)."""
    if not raw:
        return panel_prefix(tenant_id) + DEFAULT_VIEW
    refuse = SignOnRefused(400, "bad_next", "The page to return to must be a Coachwire panel "
                                            "of this tenant (a relative /t/<tenant>/panels/ path).")
    # printable ASCII only (a browser sends the rest percent-encoded): no header games
    if len(raw) > MAX_NEXT or "\\" in raw or any(not 0x21 <= ord(c) <= 0x7e for c in raw):
        raise refuse
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or parts.fragment or not raw.startswith("/"):
        raise refuse
    path = parts.path
    lowered = path.lower()
    decoded = unquote(path)
    if ("//" in path or "%2f" in lowered or "%5c" in lowered or "%2e" in lowered
            or any(segment in (".", "..") for segment in decoded.split("/"))):
        raise refuse
    if not path.startswith(panel_prefix(tenant_id)) or path == panel_prefix(tenant_id):
        raise refuse
    return raw


@dataclass(frozen=True)
class Started:
    authorize_url: str


def start(db, box: SecretBox, *, tenant_id: str, next_raw: str | None, browser_secret: str,
          redirect_uri: str, now: datetime | None = None) -> Started:
    """Record a sign-in in flight and name the tenant's authorize URL (no host call)."""
    now = now or datetime.now(UTC)
    with db.session() as session:
        tenant = session.get(Tenant, tenant_id)
        _check_tenant(tenant)
        assert tenant is not None and tenant.sso_client_id  # _check_tenant refused otherwise
        next_path = safe_next(tenant.id, next_raw)
        state, verifier = new_secret(), host_sso.new_verifier()
        session.execute(delete(SsoState).where(SsoState.expires_at < now))
        session.add(SsoState(state_hash=digest(state), tenant_id=tenant.id,
                             browser_hash=digest(browser_secret), client_id=tenant.sso_client_id,
                             code_verifier_enc=box.seal(verifier), next_path=next_path,
                             created_at=now, expires_at=now + STATE_TTL))
        url = host_sso.authorize_url(
            login_base=tenant.login_base, client_id=tenant.sso_client_id,
            redirect_uri=redirect_uri, state=state,
            code_challenge=host_sso.challenge_for(verifier))
    return Started(url)


def _check_tenant(tenant: Tenant | None) -> None:
    if tenant is None:
        raise SignOnRefused(404, "unknown_tenant", "No such Coachwire tenant.")
    if tenant.status != "active":
        raise SignOnRefused(403, "tenant_inactive", "Coachwire is not active for this organisation.")
    if not tenant.sso_client_id or not tenant.host_org_id:
        raise SignOnRefused(409, "not_configured",
                            "Sign-on is not set up for this organisation yet (its OAuth sign-on "
                            "client and organisation id are needed); ask your Coachwire admin.")


@dataclass(frozen=True)
class SignedIn:
    tenant_id: str
    person_id: str
    person_name: str
    role: str
    next_path: str
    session_secret: str  # goes into the cookie; only its hash is stored


@dataclass(frozen=True)
class _Flight:
    tenant_id: str
    client_id: str
    verifier: str
    next_path: str
    login_base: str
    api_base: str


def finish(db, box: SecretBox, *, state: str | None, code: str | None, host_error: str | None,
           browser_secret: str | None, redirect_uri: str, old_session_secret: str | None = None,
           now: datetime | None = None) -> SignedIn:
    """The callback's work; SignOnRefused with the status to answer when it cannot sign in."""
    now = now or datetime.now(UTC)
    flight = _take_state(db, box, state=state, browser_secret=browser_secret, now=now)
    try:
        if host_error:  # an RFC 6749 error code; anything else is not echoed back
            shown = host_error if re.fullmatch(r"[a-z_]{1,40}", host_error) else "error"
            raise SignOnRefused(403, "host_refused", f"Genesys Cloud did not sign you in ({shown}).")
        if not code:
            raise SignOnRefused(400, "no_code", "The sign-in answer carries no code.")
        token, info, me = _ask_host(flight, code=code, redirect_uri=redirect_uri)
        return _sign_in(db, box, flight, token=token, info=info, me=me,
                        old_session_secret=old_session_secret, now=now)
    except SignOnRefused as refused:
        refused.tenant_id = flight.tenant_id
        _audit_refusal(db, flight.tenant_id, refused)
        raise


def _take_state(db, box: SecretBox, *, state: str | None, browser_secret: str | None,
                now: datetime) -> _Flight:
    """Use the state once (a conditional update: of two callbacks racing, one wins)."""
    if not state:
        raise SignOnRefused(400, "no_state", "The sign-in answer carries no state.")
    hashed = digest(state)
    with db.session() as session:
        row = session.get(SsoState, hashed)
        if row is None or row.expires_at <= now:
            log.info("sign-in callback with an unknown or expired state")
            raise SignOnRefused(400, "unknown_state",
                                "This sign-in is unknown or has expired; open the panel again.")
        taken = session.execute(update(SsoState).where(SsoState.state_hash == hashed,
                                                       SsoState.used_at.is_(None))
                                .values(used_at=now))
        tenant = session.get(Tenant, row.tenant_id)
        used = getattr(taken, "rowcount", 0) != 1
        active = tenant is not None and tenant.status == "active"
        bound = browser_secret is not None and secrets.compare_digest(
            digest(browser_secret), row.browser_hash)
        flight = _Flight(tenant_id=row.tenant_id, client_id=row.client_id,
                         verifier=box.open(row.code_verifier_enc), next_path=row.next_path,
                         login_base=tenant.login_base if tenant else "",
                         api_base=tenant.api_base if tenant else "")
    if used:
        refused = SignOnRefused(400, "state_replayed",
                                "This sign-in answer was already used; open the panel again.")
    elif not bound:
        refused = SignOnRefused(400, "browser_mismatch",
                                "This sign-in was started in another browser or frame; "
                                "open the panel again.")
    elif not active:  # no host call for a tenant that was disabled meanwhile
        refused = SignOnRefused(403, "tenant_inactive",
                                "Coachwire is not active for this organisation.")
    else:
        return flight
    refused.tenant_id = flight.tenant_id
    _audit_refusal(db, flight.tenant_id, refused)
    raise refused


def _ask_host(flight: _Flight, *, code: str, redirect_uri: str) -> tuple[dict, dict, dict]:
    """Token exchange, tokens/me, users/me: no transaction is open here."""
    host = host_sso.PersonSignOn(login_base=flight.login_base, api_base=flight.api_base)
    try:
        token = host.exchange_code(client_id=flight.client_id, code=code,
                                   redirect_uri=redirect_uri, code_verifier=flight.verifier)
    except (Invalid, AuthExpired, Forbidden) as exc:
        log.info("sign-in code refused by the host: %s", exc)
        raise SignOnRefused(400, "code_refused", "Genesys Cloud refused the sign-in code or its "
                                                 "proof; open the panel again.") from None
    except ConnectorError as exc:
        raise _unavailable(exc) from None
    try:
        info = host.token_info(token["access_token"])
        me = host.user_me(token["access_token"])
    except (AuthExpired, Forbidden, Invalid) as exc:
        log.info("person token refused by the host: %s", exc)
        raise SignOnRefused(403, "token_refused",
                            "Genesys Cloud did not accept the new sign-in.") from None
    except ConnectorError as exc:
        raise _unavailable(exc) from None
    return token, info, me


def _unavailable(exc: ConnectorError) -> SignOnRefused:
    log.warning("sign-in: the host did not answer: %s", exc)
    kind = "host_unavailable" if isinstance(exc, Transient) else "host_error"
    return SignOnRefused(502, kind, "Genesys Cloud did not answer the sign-in; try again.")


def _ref_id(body: dict, name: str) -> str | None:
    value = body.get(name)
    return value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), str) else None


def _sign_in(db, box: SecretBox, flight: _Flight, *, token: dict, info: dict, me: dict,
             old_session_secret: str | None, now: datetime) -> SignedIn:
    with db.session() as session:
        tenant = session.get(Tenant, flight.tenant_id)
        _check_tenant(tenant)
        assert tenant is not None
        # TokenInfo.organization and TokenInfo.OAuthClient (reference field names)
        if _ref_id(info, "organization") != tenant.host_org_id:
            raise SignOnRefused(403, "org_mismatch", "This Genesys Cloud organisation is not the "
                                                     "one Coachwire serves at this address.")
        if _ref_id(info, "OAuthClient") != tenant.sso_client_id:
            raise SignOnRefused(403, "client_mismatch", "The sign-in came through an OAuth client "
                                                        "this tenant does not use for sign-on.")
        user_id = me.get("id")
        person = session.get(Person, (tenant.id, user_id)) if isinstance(user_id, str) else None
        if person is None:
            refused = SignOnRefused(403, "unknown_person", "You are not set up in Coachwire "
                                                           "yet; ask your Coachwire admin.")
            refused.audit_details = {"host_user_id": str(user_id)[:64]}
            raise refused
        if not person.active or me.get("state", "active") != "active":
            refused = SignOnRefused(403, "inactive_person", "Your Coachwire access is not active.")
            refused.audit_details = {"host_user_id": person.id}
            raise refused
        # the tenant's role mapping, from what users/me says and the stored reporting lines
        # (an admin's override is kept); what is stored is what every later request reads
        facts = roles.facts_of(me, direct_reports=roles.reports_to(session, tenant.id, person.id))
        roles.apply(session, tenant, person, facts, actor=f"person:{person.id}", via="sign_in")
        if old_session_secret:
            session.execute(update(PanelSession)
                            .where(PanelSession.id_hash == digest(old_session_secret),
                                   PanelSession.revoked_at.is_(None))
                            .values(revoked_at=now, revoked_reason="rotated"))
        secret = new_secret()
        host_expires = _host_expiry(token, now)
        expires = min(now + SESSION_MAX, host_expires or now + SESSION_MAX)
        session.add(PanelSession(
            id_hash=digest(secret), tenant_id=tenant.id, person_id=person.id, created_at=now,
            last_seen_at=now, expires_at=expires, host_token_enc=box.seal(token["access_token"]),
            host_token_expires_at=host_expires, host_checked_at=now))
        audit.record(session, tenant_id=tenant.id, actor=f"person:{person.id}",
                     action="sso.signed_in", subject_type="person", subject_id=person.id,
                     details={"role": person.role, "session": digest(secret)[:12],
                              "host_roles": _role_names(me), "next": flight.next_path[:200]})
        return SignedIn(tenant_id=tenant.id, person_id=person.id, person_name=person.name,
                        role=person.role, next_path=flight.next_path, session_secret=secret)


def _host_expiry(token: dict, now: datetime) -> datetime | None:
    seconds = token.get("expires_in")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > 0:
        return now + timedelta(seconds=min(float(seconds), 400 * 86400))
    return None


def _role_names(me: dict) -> list[str]:
    roles = (me.get("authorization") or {}).get("roles") or []
    return sorted(str(r.get("name")) for r in roles if isinstance(r, dict) and r.get("name"))[:20]


def _audit_refusal(db, tenant_id: str, refused: SignOnRefused) -> None:
    try:
        with db.session() as session:
            if session.get(Tenant, tenant_id) is None:
                return
            audit.record(session, tenant_id=tenant_id, actor="system:sso", action="sso.refused",
                         subject_type="tenant", subject_id=tenant_id,
                         details={"reason": refused.reason, "status": refused.status,
                                  **refused.audit_details})
    except Exception:  # the refusal stands even if its audit row cannot be written
        log.exception("could not audit a refused sign-in")
