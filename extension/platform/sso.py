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

No Flask here (the web side is :mod:`extension.platform.shell`); what a person reads is marked
with Flask-Babel's ``lazy_gettext`` (translated when the page or problem is rendered).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

from flask_babel import lazy_gettext
from sqlalchemy import delete, select, update

from connectors.errors import AuthExpired, ConnectorError, Forbidden, Invalid, Transient
from connectors.genesys import sso as host_sso
from extension.platform import audit, roles
from extension.platform.crypto import SecretBox
from extension.platform.errors import DomainError
from extension.platform.models.people import Person
from extension.platform.models.sessions import PanelSession, SsoHandover, SsoState
from extension.platform.models.tenants import Tenant

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)
HANDOVER_TTL = timedelta(minutes=10)  # a popup sign-in, from the frame's button to its handover
SESSION_IDLE = timedelta(hours=8)  # a shift with the panel open but untouched
SESSION_MAX = timedelta(hours=12)
DEFAULT_VIEW = "home"
MAX_NEXT = 2000


class SignOnRefused(DomainError):
    """A sign-in that cannot go on: ``reason`` is a short code (audit, problem type)."""

    def __init__(self, status: int, reason: str, detail) -> None:
        super().__init__(detail)
        self.status, self.reason = status, reason
        self.audit_details: dict = {}  # more for the audit row (never shown to the caller)
        self.tenant_id: str | None = None  # when known: the error page may be framed by it
        self.next_path: str | None = None  # when known: the panel (its gcLangTag: the language)
        self.title = _TITLES.get(status, lazy_gettext("Sign-in refused"))


_TITLES = {400: lazy_gettext("Bad Request"), 401: lazy_gettext("Unauthorized"),
           403: lazy_gettext("Forbidden"),
           404: lazy_gettext("Not Found"), 409: lazy_gettext("Conflict"),
           429: lazy_gettext("Too Many Requests"), 502: lazy_gettext("Bad Gateway")}


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
    refuse = SignOnRefused(400, "bad_next", lazy_gettext(
        "The page to return to must be a Coachwire panel of this tenant (a relative /t/<tenant>/panels/ "
        "path)."))
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
        return _begin(session, box, tenant, next_path=next_path, browser_secret=browser_secret,
                      redirect_uri=redirect_uri, now=now)


def _begin(session, box: SecretBox, tenant: Tenant, *, next_path: str, browser_secret: str,
           redirect_uri: str, now: datetime, handover_hash: str | None = None) -> Started:
    assert tenant.sso_client_id
    state, verifier = new_secret(), host_sso.new_verifier()
    session.execute(delete(SsoState).where(SsoState.expires_at < now))
    session.add(SsoState(state_hash=digest(state), tenant_id=tenant.id,
                         browser_hash=digest(browser_secret), client_id=tenant.sso_client_id,
                         code_verifier_enc=box.seal(verifier), next_path=next_path,
                         created_at=now, expires_at=now + STATE_TTL, handover_hash=handover_hash))
    url = host_sso.authorize_url(
        login_base=tenant.login_base, client_id=tenant.sso_client_id,
        redirect_uri=redirect_uri, state=state, code_challenge=host_sso.challenge_for(verifier))
    return Started(url)


# --- the popup variant (gcUsePopupAuth) -------------------------------------------------------
#
# Some identity providers refuse to be framed; Genesys then sets gcUsePopupAuth=true. The frame
# cannot take the popup's cookie (the frame's jar is partitioned by the console's site, the
# popup's is not, PANELS.md section 3), so: the frame gets a ticket bound to its own binding
# cookie and a button; the popup runs the same PKCE flow with a separate one-time key; its
# callback signs the person in, seals the new session id on the handover and gives the popup a
# one-time code, which the popup posts to window.opener (our origin only, with the frame's
# nonce); the frame posts ticket + code back and gets the session cookie in its own partition.

def popup_requested(next_path: str) -> bool:
    """The panel was framed with ``gcUsePopupAuth=true`` (a display choice, not a trust one)."""
    query = parse_qs(urlsplit(next_path).query)
    return query.get("gcUsePopupAuth", [""])[0].lower() == "true"


@dataclass(frozen=True)
class PopupOffer:
    ticket: str  # stays in the frame; posted back with the code
    popup_key: str  # in the popup's URL; good once
    nonce: str  # the frame checks the popup's message carries it
    next_path: str


def offer_popup(db, *, tenant_id: str, next_raw: str | None, frame_secret: str,
                now: datetime | None = None) -> PopupOffer:
    """The frame's side of a popup sign-in: a handover waiting for the popup (no host call)."""
    now = now or datetime.now(UTC)
    with db.session() as session:
        tenant = session.get(Tenant, tenant_id)
        _check_tenant(tenant)
        assert tenant is not None
        next_path = safe_next(tenant.id, next_raw)
        offer = PopupOffer(ticket=new_secret(), popup_key=new_secret(),
                           nonce=secrets.token_urlsafe(18), next_path=next_path)
        session.execute(delete(SsoHandover).where(SsoHandover.expires_at < now))
        session.add(SsoHandover(ticket_hash=digest(offer.ticket), tenant_id=tenant.id,
                                frame_hash=digest(frame_secret),
                                popup_hash=digest(offer.popup_key), nonce=offer.nonce,
                                next_path=next_path, created_at=now,
                                expires_at=now + HANDOVER_TTL))
    return offer


_POPUP_GONE = lazy_gettext("This sign-in window has expired or was already used; close it "
                           "and press Sign in in the panel again.")


def start_popup(db, box: SecretBox, *, tenant_id: str, popup_key: str | None,
                browser_secret: str, redirect_uri: str,
                now: datetime | None = None) -> Started:
    """The popup's side: its key is good once; then the same PKCE flight as the frame's."""
    now = now or datetime.now(UTC)
    if not popup_key or len(popup_key) > 100:
        raise SignOnRefused(400, "unknown_popup", _POPUP_GONE)
    with db.session() as session:
        tenant = session.get(Tenant, tenant_id)
        _check_tenant(tenant)
        assert tenant is not None
        row = session.scalars(select(SsoHandover).where(
            SsoHandover.popup_hash == digest(popup_key))).one_or_none()
        if row is None or row.tenant_id != tenant.id or row.expires_at <= now:
            raise SignOnRefused(400, "unknown_popup", _POPUP_GONE)
        taken = session.execute(update(SsoHandover).where(
            SsoHandover.ticket_hash == row.ticket_hash, SsoHandover.popup_used_at.is_(None))
            .values(popup_used_at=now))
        if getattr(taken, "rowcount", 0) != 1:
            raise SignOnRefused(400, "popup_replayed", _POPUP_GONE)
        return _begin(session, box, tenant, next_path=row.next_path,
                      browser_secret=browser_secret, redirect_uri=redirect_uri, now=now,
                      handover_hash=row.ticket_hash)


@dataclass(frozen=True)
class HandedOver:
    tenant_id: str
    person_id: str
    next_path: str
    session_secret: str


def claim_handover(db, box: SecretBox, *, tenant_id: str, ticket: str | None, code: str | None,
                   frame_secret: str | None, old_session_secret: str | None = None,
                   now: datetime | None = None) -> HandedOver:
    """The frame posts its ticket and the popup's code: the session becomes the frame's, once.
    Only the frame that asked (its partitioned binding cookie) can claim it."""
    now = now or datetime.now(UTC)
    gone = SignOnRefused(400, "unknown_handover", lazy_gettext(
        "This sign-in is unknown, was already used or has expired; open the panel again."))
    if not ticket or not code or len(ticket) > 100 or len(code) > 100:
        raise gone
    with db.session() as session:
        row = session.get(SsoHandover, digest(ticket))
        if (row is None or row.tenant_id != tenant_id or row.expires_at <= now
                or row.code_hash is None or row.session_enc is None):
            raise gone
        bound = frame_secret is not None and secrets.compare_digest(digest(frame_secret),
                                                                    row.frame_hash)
        if not secrets.compare_digest(digest(code), row.code_hash) or not bound:
            gone.tenant_id = tenant_id
            raise gone
        secret, next_path = box.open(row.session_enc), row.next_path
        taken = session.execute(update(SsoHandover).where(
            SsoHandover.ticket_hash == row.ticket_hash, SsoHandover.used_at.is_(None))
            .values(used_at=now, session_enc=None))
        if getattr(taken, "rowcount", 0) != 1 or not isinstance(secret, str):
            raise gone
        live = session.get(PanelSession, digest(secret))
        if live is None or live.revoked_at is not None:
            raise gone
        if old_session_secret and old_session_secret != secret:
            session.execute(update(PanelSession)
                            .where(PanelSession.id_hash == digest(old_session_secret),
                                   PanelSession.revoked_at.is_(None))
                            .values(revoked_at=now, revoked_reason="rotated"))
        audit.record(session, tenant_id=tenant_id, actor=f"person:{live.person_id}",
                     action="sso.handed_over", subject_type="person", subject_id=live.person_id,
                     details={"session": digest(secret)[:12]})
        return HandedOver(tenant_id=tenant_id, person_id=live.person_id,
                          next_path=next_path, session_secret=secret)


def _check_tenant_active(tenant: Tenant | None) -> None:
    if tenant is None:
        raise SignOnRefused(404, "unknown_tenant", lazy_gettext(
            "No such Coachwire tenant."))
    if tenant.status != "active":
        raise SignOnRefused(403, "tenant_inactive", lazy_gettext(
            "Coachwire is not active for this organisation."))


def _check_tenant(tenant: Tenant | None) -> None:
    _check_tenant_active(tenant)
    assert tenant is not None
    if not tenant.sso_client_id or not tenant.host_org_id:
        raise SignOnRefused(409, "not_configured", lazy_gettext(
            "Sign-on is not set up for this organisation yet (its OAuth sign-on client and organisation "
            "id are needed); ask your Coachwire admin."))


@dataclass(frozen=True)
class SignedIn:
    tenant_id: str
    person_id: str
    person_name: str
    role: str
    next_path: str
    session_secret: str  # goes into the cookie; only its hash is stored
    # a popup sign-in: the one-time code and the frame's nonce the popup hands to its opener
    # (the session secret then goes to the frame through the handover, not into a cookie here)
    handover_code: str | None = None
    handover_nonce: str | None = None


@dataclass(frozen=True)
class _Flight:
    tenant_id: str
    client_id: str
    verifier: str
    next_path: str
    login_base: str
    api_base: str
    handover_hash: str | None = None


def finish(db, box: SecretBox, *, state: str | None, code: str | None, host_error: str | None,
           browser_secret: str | None, redirect_uri: str, old_session_secret: str | None = None,
           now: datetime | None = None) -> SignedIn:
    """The callback's work; SignOnRefused with the status to answer when it cannot sign in."""
    now = now or datetime.now(UTC)
    flight = _take_state(db, box, state=state, browser_secret=browser_secret, now=now)
    try:
        if host_error:  # an RFC 6749 error code; anything else is not echoed back
            shown = host_error if re.fullmatch(r"[a-z_]{1,40}", host_error) else "error"
            raise SignOnRefused(403, "host_refused", lazy_gettext(
                "Genesys Cloud did not sign you in (%(code)s).", code=shown))
        if not code:
            raise SignOnRefused(400, "no_code", lazy_gettext(
                "The sign-in answer carries no code."))
        token, info, me = _ask_host(flight, code=code, redirect_uri=redirect_uri)
        signed = _sign_in(db, box, flight, token=token, info=info, me=me,
                          old_session_secret=None if flight.handover_hash else old_session_secret,
                          now=now)
        return _hand_over(db, box, flight, signed, now=now) if flight.handover_hash else signed
    except SignOnRefused as refused:
        refused.tenant_id, refused.next_path = flight.tenant_id, flight.next_path
        _audit_refusal(db, flight.tenant_id, refused)
        raise


def _take_state(db, box: SecretBox, *, state: str | None, browser_secret: str | None,
                now: datetime) -> _Flight:
    """Use the state once (a conditional update: of two callbacks racing, one wins)."""
    if not state:
        raise SignOnRefused(400, "no_state", lazy_gettext(
            "The sign-in answer carries no state."))
    hashed = digest(state)
    with db.session() as session:
        row = session.get(SsoState, hashed)
        if row is None or row.expires_at <= now:
            log.info("sign-in callback with an unknown or expired state")
            raise SignOnRefused(400, "unknown_state", lazy_gettext(
                "This sign-in is unknown or has expired; open the panel again."))
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
                         api_base=tenant.api_base if tenant else "",
                         handover_hash=row.handover_hash)
    if used:
        refused = SignOnRefused(400, "state_replayed", lazy_gettext(
            "This sign-in answer was already used; open the panel again."))
    elif not bound:
        refused = SignOnRefused(400, "browser_mismatch", lazy_gettext(
            "This sign-in was started in another browser or frame; open the panel again."))
    elif not active:  # no host call for a tenant that was disabled meanwhile
        refused = SignOnRefused(403, "tenant_inactive", lazy_gettext(
            "Coachwire is not active for this organisation."))
    else:
        return flight
    refused.tenant_id, refused.next_path = flight.tenant_id, flight.next_path
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
        raise SignOnRefused(400, "code_refused", lazy_gettext(
            "Genesys Cloud refused the sign-in code or its proof; open the panel again.")) from None
    except ConnectorError as exc:
        raise _unavailable(exc) from None
    try:
        info = host.token_info(token["access_token"])
        me = host.user_me(token["access_token"])
    except (AuthExpired, Forbidden, Invalid) as exc:
        log.info("person token refused by the host: %s", exc)
        raise SignOnRefused(403, "token_refused", lazy_gettext(
            "Genesys Cloud did not accept the new sign-in.")) from None
    except ConnectorError as exc:
        raise _unavailable(exc) from None
    return token, info, me


def _unavailable(exc: ConnectorError) -> SignOnRefused:
    log.warning("sign-in: the host did not answer: %s", exc)
    kind = "host_unavailable" if isinstance(exc, Transient) else "host_error"
    return SignOnRefused(502, kind, lazy_gettext(
        "Genesys Cloud did not answer the sign-in; try again."))


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
            raise SignOnRefused(403, "org_mismatch", lazy_gettext(
                "This Genesys Cloud organisation is not the one Coachwire serves at this address."))
        if _ref_id(info, "OAuthClient") != tenant.sso_client_id:
            raise SignOnRefused(403, "client_mismatch", lazy_gettext(
                "The sign-in came through an OAuth client this tenant does not use for sign-on."))
        user_id = me.get("id")
        person = session.get(Person, (tenant.id, user_id)) if isinstance(user_id, str) else None
        if person is None:
            refused = SignOnRefused(403, "unknown_person", lazy_gettext(
                "You are not set up in Coachwire yet; ask your Coachwire admin."))
            refused.audit_details = {"host_user_id": str(user_id)[:64]}
            raise refused
        if not person.active or me.get("state", "active") != "active":
            refused = SignOnRefused(403, "inactive_person", lazy_gettext(
                "Your Coachwire access is not active."))
            refused.audit_details = {"host_user_id": person.id}
            raise refused
        # the tenant's role mapping, from what users/me says and the stored reporting lines
        # (an admin's override is kept); what is stored is what every later request reads
        facts = roles.facts_of(me, direct_reports=roles.reports_to(session, tenant.id, person.id))
        roles.apply(session, tenant, person, facts, actor=f"person:{person.id}", via="sign_in")
        host_expires = _host_expiry(token, now)
        secret = new_session(session, box, tenant_id=tenant.id, person_id=person.id, now=now,
                             host_token=token["access_token"], host_expires=host_expires,
                             old_session_secret=old_session_secret)
        audit.record(session, tenant_id=tenant.id, actor=f"person:{person.id}",
                     action="sso.signed_in", subject_type="person", subject_id=person.id,
                     details={"role": person.role, "session": digest(secret)[:12],
                              "host_roles": _role_names(me), "next": flight.next_path[:200],
                              **({"popup": True} if flight.handover_hash else {})})
        return SignedIn(tenant_id=tenant.id, person_id=person.id, person_name=person.name,
                        role=person.role, next_path=flight.next_path, session_secret=secret)


def new_session(session, box: SecretBox, *, tenant_id: str, person_id: str, now: datetime,
                host_token: str | None = None, host_expires: datetime | None = None,
                via: str = "genesys", old_session_secret: str | None = None) -> str:
    """A new panel session row (the old one, when named, revoked: rotation); its secret."""
    if old_session_secret:
        session.execute(update(PanelSession)
                        .where(PanelSession.id_hash == digest(old_session_secret),
                               PanelSession.revoked_at.is_(None))
                        .values(revoked_at=now, revoked_reason="rotated"))
    secret = new_secret()
    expires = min(now + SESSION_MAX, host_expires or now + SESSION_MAX)
    session.add(PanelSession(
        id_hash=digest(secret), tenant_id=tenant_id, person_id=person_id, created_at=now,
        last_seen_at=now, expires_at=expires,
        host_token_enc=box.seal(host_token) if host_token else None,
        host_token_expires_at=host_expires, host_checked_at=now, via=via))
    return secret


def _hand_over(db, box: SecretBox, flight: _Flight, signed: SignedIn, *,
               now: datetime) -> SignedIn:
    """A popup sign-in: seal the session on the handover and name a one-time code for it."""
    code = new_secret()
    with db.session() as session:
        row = session.get(SsoHandover, flight.handover_hash)
        if row is None or row.expires_at <= now or row.used_at is not None:
            session.execute(update(PanelSession)
                            .where(PanelSession.id_hash == digest(signed.session_secret))
                            .values(revoked_at=now, revoked_reason="handover_gone"))
            refused = SignOnRefused(400, "unknown_handover", lazy_gettext(
                "This sign-in took too long; press Sign in in the panel again."))
            refused.tenant_id, refused.next_path = flight.tenant_id, flight.next_path
            raise refused
        row.code_hash, row.session_enc = digest(code), box.seal(signed.session_secret)
        nonce = row.nonce
    return SignedIn(tenant_id=signed.tenant_id, person_id=signed.person_id,
                    person_name=signed.person_name, role=signed.role,
                    next_path=signed.next_path, session_secret=signed.session_secret,
                    handover_code=code, handover_nonce=nonce)


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
