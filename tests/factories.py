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
