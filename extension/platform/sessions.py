"""Panel sessions: the cookie's random id -> a row -> the person and their *stored* role.

Checked on every panel request the way bearer tokens are (``auth.guard``): a revoked, expired or
idle session, a person no longer stored or active, tokens revoked for the person
(``flask tokens revoke --person`` sets ``tokens_not_before``, which ends their sessions too), or
a session of another tenant is no session. A disabled tenant is a 403. Every ``HOST_RECHECK``
the person's Genesys token is shown to ``tokens/me`` again (no transaction open); a token the
host no longer accepts, or that names another organisation or client, ends the session
(sessions made from a host-signed JWT, ``via="jwt"``, have no host token: their expiry is the
token's, at most ``SESSION_MAX``).

No Flask here (the web side is :mod:`extension.platform.shell`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from connectors.errors import AuthExpired, ConnectorError, Forbidden, Invalid
from connectors.genesys import sso as host_sso
from extension.platform import audit
from extension.platform.auth.permissions import Principal
from extension.platform.crypto import SecretBox
from extension.platform.errors import Forbidden as ForbiddenError
from extension.platform.models.people import Person
from extension.platform.models.sessions import PanelSession
from extension.platform.models.tenants import Tenant
from extension.platform.queue import job
from extension.platform.sso import SESSION_IDLE, digest

log = logging.getLogger(__name__)

TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
HOST_RECHECK = timedelta(hours=1)


@dataclass(frozen=True)
class Current:
    principal: Principal
    person_name: str
    id_hash: str


def load(db, box: SecretBox, *, secret: str | None, tenant_id: str,
         now: datetime | None = None) -> Current | None:
    """The signed-in person of this tenant, or None (then the panel signs them in again)."""
    if not secret:
        return None
    now = now or datetime.now(UTC)
    hashed = digest(secret)
    with db.session() as session:
        row = session.get(PanelSession, hashed)
        if row is None or row.tenant_id != tenant_id or not _live(row, now):
            return None
        tenant = session.get(Tenant, tenant_id)
        person = session.get(Person, (tenant_id, row.person_id))
        if tenant is None or person is None or not person.active:
            return None
        if person.tokens_not_before is not None and row.created_at < person.tokens_not_before:
            return None
        if tenant.status != "active":
            raise ForbiddenError("Coachwire is not active for this organisation.")
        current = Current(Principal(tenant_id=tenant_id, person_id=person.id, role=person.role),
                          person_name=person.name, id_hash=hashed)
        # a host-signed JWT sign-in (/sso/jwt) leaves no host token to show tokens/me
        recheck_due = row.via != "jwt" and now - row.host_checked_at >= HOST_RECHECK
        touch_due = now - row.last_seen_at >= TOUCH_EVERY
        token_enc, org_id, client_id = row.host_token_enc, tenant.host_org_id, tenant.sso_client_id
        login_base, api_base = tenant.login_base, tenant.api_base
    if recheck_due and not _host_still_agrees(db, box, hashed, token_enc, org_id=org_id,
                                              client_id=client_id, login_base=login_base,
                                              api_base=api_base, now=now):
        return None
    if touch_due or recheck_due:
        with db.session() as session:
            values: dict = {"last_seen_at": now}
            if recheck_due:
                values["host_checked_at"] = now
            session.execute(update(PanelSession).where(PanelSession.id_hash == hashed)
                            .values(**values))
    return current


def _count(result) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _live(row: PanelSession, now: datetime) -> bool:
    return (row.revoked_at is None and row.expires_at > now
            and now - row.last_seen_at < SESSION_IDLE)


def _host_still_agrees(db, box: SecretBox, hashed: str, token_enc: str | None, *, org_id,
                       client_id, login_base: str, api_base: str, now: datetime) -> bool:
    """tokens/me with the person's token (no transaction open). A host that does not answer
    keeps the session (the check runs again on the next request); a refusal ends it."""
    token = box.open(token_enc) if token_enc else None
    reason = None
    if not token:
        reason = "host_token_missing"
    else:
        try:
            info = host_sso.PersonSignOn(login_base=login_base, api_base=api_base).token_info(token)
        except (AuthExpired, Forbidden, Invalid):
            reason = "host_token_ended"
        except ConnectorError as exc:
            log.warning("tokens/me re-check did not answer: %s", exc)
            return True
        else:
            org = (info.get("organization") or {}).get("id")
            client = (info.get("OAuthClient") or {}).get("id")
            if org != org_id or client != client_id:
                reason = "host_token_mismatch"
    if reason is None:
        return True
    revoke(db, hashed, reason=reason, now=now)
    return False


def revoke(db, hashed: str, *, reason: str, actor: str = "system:sso",
           now: datetime | None = None) -> bool:
    """End one session (by its hash); audited. False when it was already ended or unknown."""
    now = now or datetime.now(UTC)
    with db.session() as session:
        row = session.get(PanelSession, hashed)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at, row.revoked_reason = now, reason
        audit.record(session, tenant_id=row.tenant_id, actor=actor, action="sso.session_ended",
                     subject_type="person", subject_id=row.person_id,
                     details={"reason": reason, "session": hashed[:12]})
        return True


def revoke_person(db, tenant_id: str, person_id: str, *, reason: str,
                  actor: str = "system:cli", now: datetime | None = None) -> int:
    """End every live session of one person; audited once."""
    now = now or datetime.now(UTC)
    with db.session() as session:
        ended = _count(session.execute(
            update(PanelSession).where(PanelSession.tenant_id == tenant_id,
                                       PanelSession.person_id == person_id,
                                       PanelSession.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)))
        if ended:
            audit.record(session, tenant_id=tenant_id, actor=actor, action="sso.sessions_ended",
                         subject_type="person", subject_id=person_id,
                         details={"reason": reason, "count": ended})
        return ended


PURGE_EVERY_SECONDS = 3600
KEEP_ENDED = timedelta(days=1)


@job(queue="default", retries=0, timeout=600)
def purge_expired() -> dict[str, int]:
    """The periodic job: drop sign-in states, popup handovers and used JWT ids past their
    expiry, and sessions ended a day ago."""
    from sqlalchemy import delete, or_

    from extension.platform.db import get_db
    from extension.platform.models.sessions import SsoHandover, SsoJwtId, SsoState

    now = datetime.now(UTC)
    cutoff = now - KEEP_ENDED
    with get_db().session() as session:
        states = _count(session.execute(delete(SsoState).where(SsoState.expires_at < now)))
        states += _count(session.execute(delete(SsoHandover).where(SsoHandover.expires_at < now)))
        states += _count(session.execute(delete(SsoJwtId).where(SsoJwtId.expires_at < now)))
        ended = _count(session.execute(delete(PanelSession).where(or_(
            PanelSession.expires_at < cutoff, PanelSession.revoked_at < cutoff,
            PanelSession.last_seen_at < cutoff - SESSION_IDLE))))
    return {"states": states, "sessions": ended}
