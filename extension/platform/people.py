"""Directory sync: the host's users and their managers become Coachwire people.

A person whose id appears as someone's manager is a supervisor; everyone else starts as an agent
(roles granted inside Coachwire, e.g. admin or QA analyst, are kept on later syncs). A person's
team is their Genesys work team (``team`` on the user); without one, the people reporting to one
manager form a team (``manager:<id>``), which is how most contact centres run their floor.
"""

from __future__ import annotations

from sqlalchemy import select

from extension.platform import audit, hosts
from extension.platform.models._types import utcnow
from extension.platform.models.people import Person
from extension.platform.models.tenants import Tenant

GRANTED_ROLES = ("admin", "qa_analyst", "manager")


def sync_people(session, tenant: Tenant, *, actor: str = "system:sync") -> dict:
    users = list(hosts.genesys_for(tenant).users.list_users(expand=["team"]))
    managers = {(u.get("manager") or {}).get("id") for u in users} - {None}
    known = {p.id: p for p in session.scalars(select(Person).where(Person.tenant_id == tenant.id))}
    created = updated = 0
    for user in users:
        person = known.get(user["id"])
        if person is None:
            person = Person(tenant_id=tenant.id, id=user["id"])
            session.add(person)
            created += 1
        elif _changed(person, user):
            updated += 1
        _apply(person, user, is_manager=user["id"] in managers)
    if created or updated:
        audit.record(session, tenant_id=tenant.id, actor=actor, action="people.synced",
                     subject_type="tenant", subject_id=tenant.id,
                     details={"created": created, "updated": updated, "seen": len(users)})
    return {"created": created, "updated": updated, "seen": len(users)}


def _changed(person: Person, user: dict) -> bool:
    manager = (user.get("manager") or {}).get("id")
    return (person.name, person.email, person.supervisor_id, person.team_id) != (
        user.get("name", ""), user.get("email"), manager, team_of(user))


def team_of(user: dict) -> str | None:
    team = (user.get("team") or {}).get("id")
    manager = (user.get("manager") or {}).get("id")
    return team or (f"manager:{manager}" if manager else None)


def _apply(person: Person, user: dict, *, is_manager: bool) -> None:
    person.name = user.get("name") or ""
    person.email = user.get("email")
    person.supervisor_id = (user.get("manager") or {}).get("id")
    person.team_id = team_of(user)
    person.active = user.get("state", "active") == "active"
    if person.role not in GRANTED_ROLES:
        person.role = "supervisor" if is_manager else "agent"
    person.synced_at = utcnow()
