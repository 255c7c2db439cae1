"""Directory sync of groups and routing queues: the host's lists become ``directory_*`` rows.

``sync_directory`` first reads everything it needs from the host (``GET /api/v2/groups``, each
active group's members, ``GET /api/v2/routing/queues``, each queue's members), and only then
writes, in the caller's transaction: a host error part-way leaves the stored directory exactly as
it was. Requests go through the tenant's shared transport, so its per-tenant token bucket keeps
the sync under the host's rate limit (one request per page: 2 + groups + queues at least).

The host offers no change feed or modified-since filter for these lists, so every run reads the
full lists and reconciles: new rows are created, changed ones updated, groups and queues the host
no longer lists (or lists as not active) are kept with ``active = false``, and memberships the
host dropped are deleted. A run that finds nothing new writes nothing and audits nothing;
otherwise one ``directory.synced`` entry records the counts.

``sync_all`` is the periodic job: people first, then the directory, for every active tenant;
each in its own transaction, and one tenant's host failure does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from extension.platform import audit, hosts
from extension.platform.models._types import utcnow
from extension.platform.models.directory import Group, GroupMember, Queue, QueueMember
from extension.platform.models.tenants import Tenant
from extension.platform.queue import job

log = logging.getLogger("coachwire.directory")
SYNC_EVERY_SECONDS = 6 * 3600


@dataclass(frozen=True)
class HostDirectory:
    """What the host lists, read before anything is written."""

    groups: list[dict[str, Any]]
    group_members: dict[str, list[dict[str, Any]]]
    queues: list[dict[str, Any]]
    queue_members: dict[str, list[dict[str, Any]]]


def fetch(users) -> HostDirectory:
    """Every group and queue with its members (``users``: connectors.genesys.users.UsersClient).
    Members are read for active groups only: an inactive group keeps no memberships."""
    groups = _unique(users.list_groups())
    queues = _unique(users.list_queues())
    return HostDirectory(
        groups=groups,
        group_members={g["id"]: list(users.group_members(g["id"])) for g in groups if _group_active(g)},
        queues=queues,
        queue_members={q["id"]: list(users.queue_members(q["id"])) for q in queues})


def _unique(entities: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Host entities by id, first seen wins (a page boundary may move while we read)."""
    found: dict[str, dict[str, Any]] = {}
    for entity in entities:
        if entity.get("id"):
            found.setdefault(entity["id"], entity)
    return list(found.values())


def _group_active(group: dict[str, Any]) -> bool:
    return group.get("state", "active") == "active"


def _group_values(group: dict[str, Any]) -> dict[str, Any]:
    return {"name": group.get("name") or "", "type": group.get("type"),
            "visibility": group.get("visibility"), "member_count": group.get("memberCount"),
            "active": _group_active(group)}


def _queue_values(queue: dict[str, Any]) -> dict[str, Any]:
    division = queue.get("division") or {}
    return {"name": queue.get("name") or "", "division_id": division.get("id"),
            "division_name": division.get("name"), "member_count": queue.get("memberCount"),
            "active": True}


def _queue_member(member: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    # QueueMember.id is the member's id; ``user`` carries the user when the host expands it
    person = (member.get("user") or {}).get("id") or member.get("id")
    return person, {"joined": member.get("joined")}


def sync_directory(session: Session, tenant: Tenant, *, actor: str = "system:sync",
                   host: HostDirectory | None = None) -> dict[str, dict[str, int]]:
    """Reconcile the tenant's groups, queues and memberships with the host; returns counts."""
    host = host or fetch(hosts.genesys_for(tenant).users)
    counts = {"groups": _upsert(session, Group, tenant.id, host.groups, _group_values),
              "queues": _upsert(session, Queue, tenant.id, host.queues, _queue_values)}
    session.flush()  # the memberships below refer to these rows
    counts["group_members"] = _memberships(session, GroupMember, "group_id", tenant.id, {
        (gid, m.get("id")): {} for gid, members in host.group_members.items() for m in members})
    queue_links = {}
    for qid, members in host.queue_members.items():
        for member in members:
            person, extra = _queue_member(member)
            queue_links[(qid, person)] = extra
    counts["queue_members"] = _memberships(session, QueueMember, "queue_id", tenant.id, queue_links)
    if changed(counts):
        audit.record(session, tenant_id=tenant.id, actor=actor, action="directory.synced",
                     subject_type="tenant", subject_id=tenant.id, details=counts)
    return counts


def sync_now(db, tenant_id: str, *, actor: str = "system:sync") -> dict[str, dict[str, int]]:
    """Read the tenant, list the host's directory with no transaction open, apply it."""
    with db.session() as session:
        tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise LookupError(f"no tenant {tenant_id!r}")
    host = fetch(hosts.genesys_for(tenant).users)
    with db.session() as session:
        return sync_directory(session, cast(Tenant, session.get(Tenant, tenant_id)), actor=actor,
                              host=host)


def changed(counts: dict[str, dict[str, int]]) -> bool:
    return any(n for part in counts.values() for name, n in part.items() if name != "seen")


def _upsert(session: Session, model, tenant_id: str, entities: list[dict[str, Any]],
            values_of: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, int]:
    known = {row.id: row for row in session.scalars(select(model).where(model.tenant_id == tenant_id))}
    counts = {"seen": len(entities), "created": 0, "updated": 0, "deactivated": 0}
    now = utcnow()
    for entity in entities:
        values, row = values_of(entity), known.pop(entity["id"], None)
        if row is None:
            session.add(model(tenant_id=tenant_id, id=entity["id"], synced_at=now, **values))
            counts["created"] += 1
        elif any(getattr(row, name) != value for name, value in values.items()):
            counts["deactivated" if row.active and not values["active"] else "updated"] += 1
            for name, value in values.items():
                setattr(row, name, value)
            row.synced_at = now
    for row in known.values():  # no longer on the host
        if row.active:
            row.active, row.synced_at = False, now
            counts["deactivated"] += 1
    return counts


def _memberships(session: Session, model, owner: str, tenant_id: str,
                 wanted: dict[tuple[str, str | None], dict[str, Any]]) -> dict[str, int]:
    counts = {"added": 0, "removed": 0, "updated": 0}
    stored = {(getattr(row, owner), row.person_id): row
              for row in session.scalars(select(model).where(model.tenant_id == tenant_id))}
    for key, row in stored.items():
        if key not in wanted:
            session.delete(row)
            counts["removed"] += 1
    for (owner_id, person_id), extra in wanted.items():
        if not person_id:
            continue
        row = stored.get((owner_id, person_id))
        if row is None:
            session.add(model(tenant_id=tenant_id, person_id=person_id, **{owner: owner_id}, **extra))
            counts["added"] += 1
        elif any(getattr(row, name) != value for name, value in extra.items()):
            for name, value in extra.items():
                setattr(row, name, value)
            counts["updated"] += 1
    return counts


def summary(counts: dict[str, dict[str, int]]) -> str:
    """One line for the CLI and the job's result."""
    g, q = counts["groups"], counts["queues"]
    gm, qm = counts["group_members"], counts["queue_members"]
    if not changed(counts):
        return f"directory unchanged ({g['seen']} groups, {q['seen']} queues)"
    return (f"{g['seen']} groups ({g['created']} created, {g['updated']} updated, "
            f"{g['deactivated']} deactivated), {q['seen']} queues ({q['created']} created, "
            f"{q['updated']} updated, {q['deactivated']} deactivated); memberships "
            f"+{gm['added'] + qm['added']} -{gm['removed'] + qm['removed']} "
            f"~{gm['updated'] + qm['updated']}")


@job(queue="default", retries=0, timeout=3600)
def sync_all() -> dict[str, str]:
    """The periodic job: people, then groups and queues, of every active tenant."""
    from connectors.errors import ConnectorError
    from extension.platform import people
    from extension.platform.db import get_db

    db = get_db()
    with db.session() as session:
        tenant_ids = list(session.scalars(select(Tenant.id).where(Tenant.status == "active")
                                          .order_by(Tenant.id)))
    result = {}
    for tenant_id in tenant_ids:
        try:  # host calls with no transaction open; each apply in its own short one
            people.sync_now(db, tenant_id)
            result[tenant_id] = summary(sync_now(db, tenant_id))
        except ConnectorError as exc:  # the next run tries again; other tenants go on
            log.warning("directory sync of tenant %s stopped, the host answered: %s", tenant_id, exc)
            result[tenant_id] = f"stopped: {exc}"
    return result


def differences(session: Session, tenant: Tenant, *,
                host: HostDirectory | None = None) -> dict[str, dict[str, list[str]]]:
    """What a sync would change, per kind (groups, queues): ids the host lists that are not
    stored, stored active ones the host no longer lists, and ones whose fields or members
    differ. Reads the host; writes nothing."""
    host = host or fetch(hosts.genesys_for(tenant).users)
    report = {}
    for kind, entities, values_of, members in (
            ("groups", host.groups, _group_values, host.group_members),
            ("queues", host.queues, _queue_values, host.queue_members)):
        model, member, owner = _KINDS[kind]
        # mypy types the rows of select(<one of two classes>) as their common base: name them
        stored = {r.id: r for r in cast("Iterable[Group | Queue]", session.scalars(
            select(model).where(model.tenant_id == tenant.id)))}
        links: dict[str, set[str]] = {}
        for row in cast("Iterable[GroupMember | QueueMember]", session.scalars(
                select(member).where(member.tenant_id == tenant.id))):
            links.setdefault(getattr(row, owner), set()).add(row.person_id)
        there = {e["id"]: e for e in entities}
        report[kind] = {
            "missing_here": sorted(set(there) - set(stored)),
            "missing_there": sorted(i for i, r in stored.items() if r.active and i not in there),
            "differing": sorted(i for i, e in there.items() if i in stored and (
                any(getattr(stored[i], k) != v for k, v in values_of(e).items())
                or links.get(i, set()) != _people(members.get(i, []))))}
    return report


def _people(members: list[dict[str, Any]]) -> set[str]:
    return {person for person in (_queue_member(m)[0] for m in members) if person}


# ---- reading (the API) ------------------------------------------------------------------------

def listing(session: Session, kind: str, tenant_id: str, *, person_id: str | None,
            include_inactive: bool, offset: int, limit: int) -> list[dict[str, Any]]:
    """Groups or queues (``kind``) of the tenant by name, optionally only ``person_id``'s."""
    model, member, owner = _KINDS[kind]
    query = select(model).where(model.tenant_id == tenant_id)
    if not include_inactive:
        query = query.where(model.active.is_(True))
    if person_id is not None:
        query = query.where(model.id.in_(select(getattr(member, owner)).where(
            member.tenant_id == tenant_id, member.person_id == person_id)))
    rows = session.scalars(query.order_by(model.name, model.id).offset(offset).limit(limit)).all()
    return [_json(row) for row in rows]


def _json(row) -> dict[str, Any]:
    body = {"id": row.id, "name": row.name, "member_count": row.member_count, "active": row.active,
            "synced_at": row.synced_at}
    if isinstance(row, Queue):
        body["division"] = {"id": row.division_id, "name": row.division_name} if row.division_id else None
    else:
        body.update(type=row.type, visibility=row.visibility)
    return body


def queue_names(session: Session, tenant_id: str, queue_ids: Iterable[str | None]) -> dict[str, str]:
    """Stored names of these queues (any state), for labelling per-queue KPI rows."""
    wanted = sorted({q for q in queue_ids if q})
    if not wanted:
        return {}
    return dict(session.execute(select(Queue.id, Queue.name).where(
        Queue.tenant_id == tenant_id, Queue.id.in_(wanted))).tuples().all())


_KINDS: dict[str, tuple[type[Group | Queue], type[GroupMember | QueueMember], str]] = {
    "groups": (Group, GroupMember, "group_id"), "queues": (Queue, QueueMember, "queue_id")}
