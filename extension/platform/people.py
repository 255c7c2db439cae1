"""Directory sync: the host's users and their managers become Coachwire people.

Each person's role comes from the tenant's role mapping (:mod:`extension.platform.roles`): the
host's roles, permissions and groups (``expand=authorization,groups``, best effort) and whether
anyone reports to them (a listed user's ``manager``). A role an admin set (``role_source`` =
``override``) is kept on every sync. A person's
team is their Genesys work team (``team`` on the user); without one, the people reporting to one
manager form a team (``manager:<id>``), which is how most contact centres run their floor.

``GET /api/v2/users`` lists active users only, so inactive and deleted users are listed by
``state`` too: a stored person the host reports inactive or deleted is deactivated (audited as
``person.deactivated``), which also drops their per-agent listener topics.

A person Coachwire has erased (``extension.privacy``) is never created again from the host's
listing, even while the host still lists them active: the capabilities above the platform name
such people through :func:`never_recreate` (the platform cannot import them). The sync counts
them as ``kept_erased`` in its result and its ``people.synced`` audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from extension.platform import audit, hosts, roles
from extension.platform.models._types import utcnow
from extension.platform.models.people import Person
from extension.platform.models.tenants import Tenant

GONE_STATES = ("inactive", "deleted")
# callables (session, tenant_id) -> host user ids the sync must not create again
_NEVER_RECREATE: list[Callable[[Any, str], set[str]]] = []


def never_recreate(source: Callable[[Any, str], set[str]]) -> None:
    """Register a source of host user ids the sync must never turn into people again."""
    if source not in _NEVER_RECREATE:
        _NEVER_RECREATE.append(source)


def _kept_out(session, tenant_id: str) -> set[str]:
    return set().union(*(source(session, tenant_id) for source in _NEVER_RECREATE))


@dataclass(frozen=True)
class HostPeople:
    """What the host lists: active users (with their team), and inactive or deleted ones."""

    users: list[dict[str, Any]]
    gone: list[dict[str, Any]]


def fetch_people(tenant: Tenant) -> HostPeople:
    """The host's users; call it with no database transaction open (host I/O)."""
    client = hosts.genesys_for(tenant).users
    # the host's default: active users only; authorization and groups feed the role mapping
    users = list(client.list_users(expand=["team", "authorization", "groups"]))
    # so inactive and deleted users are asked for by state (GET /api/v2/users?state=...)
    gone = [user for state in GONE_STATES for user in client.list_users(state=state)]
    return HostPeople(users, gone)


def sync_now(db, tenant_id: str, *, actor: str = "system:sync") -> dict:
    """Read the tenant, ask the host with no transaction open, then apply in a short one."""
    with db.session() as session:
        tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise LookupError(f"no tenant {tenant_id!r}")
    host = fetch_people(tenant)
    with db.session() as session:
        return sync_people(session, session.get(Tenant, tenant_id), actor=actor, host=host)


def sync_people(session, tenant: Tenant, *, actor: str = "system:sync",
                host: HostPeople | None = None) -> dict:
    """Apply the host's users to the stored people. Pass `host` (fetched before the session
    began, see `sync_now`): fetching here would call the host inside the caller's transaction."""
    host = host or fetch_people(tenant)
    users, gone = host.users, host.gone
    managers = {(u.get("manager") or {}).get("id") for u in users} - {None}
    known = {p.id: p for p in session.scalars(select(Person).where(Person.tenant_id == tenant.id))}
    kept_out = _kept_out(session, tenant.id)
    created = updated = remapped = kept_erased = 0
    for user in users:
        person = known.get(user["id"])
        new = person is None
        if person is None and user["id"] in kept_out:
            kept_erased += 1
            continue
        if person is None:
            person = Person(tenant_id=tenant.id, id=user["id"], role="", role_source=roles.MAPPED)
            session.add(person)
            created += 1
        elif _changed(person, user):
            updated += 1
        _apply(person, user)
        facts = roles.facts_of(user, direct_reports=user["id"] in managers)
        if roles.apply(session, tenant, person, facts, actor=actor, new=new, via="sync") and not new:
            remapped += 1
    active_ids = {user["id"] for user in users}
    deactivated = 0
    for user in gone:
        person = known.get(user["id"])
        if person is None or not person.active or user["id"] in active_ids:
            continue  # never stored, already inactive, or active again (listings may overlap)
        # inactive people drop out of the listener's per-agent topics (it lists active people)
        person.active, person.synced_at = False, utcnow()
        deactivated += 1
        audit.record(session, tenant_id=tenant.id, actor=actor, action="person.deactivated",
                     subject_type="person", subject_id=person.id,
                     details={"host_state": user.get("state") or "unknown"})
    if created or updated or kept_erased:
        audit.record(session, tenant_id=tenant.id, actor=actor, action="people.synced",
                     subject_type="tenant", subject_id=tenant.id,
                     details={"created": created, "updated": updated, "seen": len(users),
                              "kept_erased": kept_erased})
    return {"created": created, "updated": updated, "deactivated": deactivated,
            "remapped": remapped, "kept_erased": kept_erased, "seen": len(users)}


def _changed(person: Person, user: dict) -> bool:
    manager = (user.get("manager") or {}).get("id")
    return (person.name, person.email, person.supervisor_id, person.team_id, person.active) != (
        user.get("name", ""), user.get("email"), manager, team_of(user),
        user.get("state", "active") == "active")


def team_of(user: dict) -> str | None:
    team = (user.get("team") or {}).get("id")
    manager = (user.get("manager") or {}).get("id")
    return team or (f"manager:{manager}" if manager else None)


def _apply(person: Person, user: dict) -> None:
    person.name = user.get("name") or ""
    person.email = user.get("email")
    person.supervisor_id = (user.get("manager") or {}).get("id")
    person.team_id = team_of(user)
    person.active = user.get("state", "active") == "active"
    person.synced_at = utcnow()
