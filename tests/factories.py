"""Model factories for the test world: tenants, people, bearer tokens.

The two-tenant world (acme and globex with the same person ids, so a leak across tenants shows)
is built from these by the fixtures that need it, instead of each suite writing its own copy."""

from __future__ import annotations

from collections.abc import Iterable

from extension.platform.auth import tokens
from extension.platform.models.people import Person
from extension.platform.models.tenants import Tenant

# (person id, role, team id, supervisor id)
PersonRow = tuple[str, str, str | None, str | None]


def add_tenant(db, tenant_id: str = "globex", *, name: str | None = None, timezone: str = "UTC",
               api_base: str = "https://api.example", login_base: str = "https://login.example") -> str:
    """A bare tenant row (no host credentials, no inbound secret): enough for API scoping."""
    with db.session() as session:
        session.add(Tenant(id=tenant_id, name=name or tenant_id.title(), api_base=api_base,
                           login_base=login_base, timezone=timezone))
    return tenant_id


def person(tenant_id: str, row: PersonRow, *, name: str | None = None) -> Person:
    person_id, role, team_id, supervisor_id = row
    return Person(tenant_id=tenant_id, id=person_id, name=name or person_id, role=role,
                  team_id=team_id, supervisor_id=supervisor_id)


def add_people(db, tenant_id: str, rows: Iterable[PersonRow], *, name=None) -> list[str]:
    """Store people of one tenant; ``name(person_id)`` names them (default: the id)."""
    people = [person(tenant_id, row, name=name(row[0]) if name else None) for row in rows]
    with db.session() as session:
        session.add_all(people)
    return [p.id for p in people]


def bearer(app, person_id: str, role: str, *, tenant_id: str = "acme") -> dict[str, str]:
    """The Authorization header of an API token for this person and role."""
    token = tokens.issue(app.config["SECRET_KEY"], tenant_id=tenant_id, person_id=person_id, role=role)
    return {"Authorization": f"Bearer {token}"}


def panel_session(app, client, person_id: str, *, tenant_id: str = "acme") -> dict[str, str]:
    """Sign ``person_id`` into the panels without the host's login (the sign-on flow has its own
    tests): a live panel session row and its cookie on ``client``. Returns the headers a page's
    own htmx request sends (same-origin Fetch Metadata and the session's CSRF token)."""
    from datetime import UTC, datetime, timedelta

    from extension.platform import csrf
    from extension.platform.models.sessions import PanelSession
    from extension.platform.sso import digest, new_secret

    secret, now = new_secret(), datetime.now(UTC)
    with app.extensions["coachwire.db"].session() as session:
        session.add(PanelSession(id_hash=digest(secret), tenant_id=tenant_id, person_id=person_id,
                                 created_at=now, last_seen_at=now,
                                 expires_at=now + timedelta(hours=8),
                                 host_token_enc=app.extensions["coachwire.box"].seal("test-token"),
                                 host_checked_at=now))
    client.set_cookie(csrf.COOKIE, secret, secure=True, httponly=True, samesite="None")
    return {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "empty", "HX-Request": "true",
            csrf.HEADER: csrf.token_for(app.config["SECRET_KEY"], secret)}
