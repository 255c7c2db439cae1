"""Role mapping: what the host says about a person -> their Coachwire role.

The facts come from the host: the person's roles and permissions (``UserAuthorization``: its
``roles`` by name or id, its ``permissions`` strings), their groups (by name or id) and whether
anyone reports to them. At sign-in they come from ``users/me?expand=authorization,groups`` plus
the stored reporting lines; at people sync from ``GET /api/v2/users?expand=authorization,groups``
plus the ``manager`` of every listed user.

A tenant's mapping is data (``Tenant.role_mapping``; None means :data:`DEFAULT_MAPPING`)::

    {"rules": [{"role": "supervisor", "when": {"direct_reports": true}},
               {"role": "qa_analyst", "when": {"permissions": ["quality:evaluation:add"]}}],
     "default": "agent"}

The first rule whose ``when`` holds gives the role; inside one ``when`` every condition must
hold, and a list condition holds when any of its values matches (names are compared without
case; a permission may end its segments with ``*``). The host's expands are best effort: a
condition on something the host did not say is *unknown*, and an unknown rule before the first
that holds leaves a stored person's role as it is (a new person gets the rules read with the
unknown conditions false).

A person whose ``role_source`` is ``override`` (an admin set the role) is never remapped.
Changes are audited (``person.role_mapped``, ``person.role_set``, ``roles.mapping_updated``).
No Flask here; the API is :mod:`extension.platform.api.people`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from extension.platform import audit
from extension.platform.auth.tokens import ROLES
from extension.platform.errors import Conflict, Invalid, NotFound, field_errors
from extension.platform.models.people import Person
from extension.platform.models.tenants import Tenant

MAPPED, OVERRIDE = "mapped", "override"
DEFAULT_MAPPING: dict[str, Any] = {
    "rules": [
        # a person others report to leads a team
        {"role": "supervisor", "when": {"direct_reports": True}},
        # someone who may create evaluations (and leads no team) evaluates for the tenant
        {"role": "qa_analyst", "when": {"permissions": ["quality:evaluation:add"]}},
    ],
    "default": "agent",
}
MAX_RULES, MAX_VALUES, MAX_VALUE = 50, 100, 200

class WhenSchema(Schema):
    host_roles = fields.List(fields.String(validate=validate.Length(min=1, max=MAX_VALUE)),
                             validate=validate.Length(min=1, max=MAX_VALUES), metadata={
                                 "description": "Any of these host role names or ids"})
    permissions = fields.List(fields.String(validate=[
        validate.Length(min=1, max=MAX_VALUE),
        validate.Regexp(r"^[A-Za-z0-9*]+(:[A-Za-z0-9*]+){0,2}$",
                        error="A host permission: domain:entity:action, '*' for any part.")]),
        validate=validate.Length(min=1, max=MAX_VALUES),
        metadata={"description": "Any of these host permissions (e.g. quality:evaluation:add)"})
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=MAX_VALUE)),
                         validate=validate.Length(min=1, max=MAX_VALUES), metadata={
                             "description": "Member of any of these host groups (name or id)"})
    direct_reports = fields.Boolean(metadata={"description": "Someone reports to the person"})

    @validates_schema
    def _not_empty(self, data, **_kwargs):
        if not data:
            raise ValidationError("Name at least one condition: host_roles, permissions, "
                                  "groups or direct_reports.")


class RuleSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    when = fields.Nested(WhenSchema, required=True)


class MappingSchema(Schema):
    rules = fields.List(fields.Nested(RuleSchema), required=True,
                        validate=validate.Length(max=MAX_RULES))
    default = fields.String(load_default="agent", validate=validate.OneOf(ROLES),
                            metadata={"description": "The role when no rule holds"})


def validate_mapping(data: Any) -> dict[str, Any]:
    """The mapping as stored, or Invalid (422) naming each failing field by its dotted path."""
    try:
        loaded = MappingSchema().load(data)
    except ValidationError as exc:
        raise Invalid("The role mapping has invalid fields.",
                      errors=field_errors(exc.messages)) from exc
    return loaded


# --- deciding -------------------------------------------------------------------------------

@dataclass(frozen=True)
class HostFacts:
    """What the host said; None where it said nothing (an expand it did not return)."""

    roles: frozenset[str] | None
    permissions: frozenset[str] | None
    groups: frozenset[str] | None
    direct_reports: bool | None


def _names(entries: Any) -> frozenset[str] | None:
    """Lower-cased names and ids of DomainRole / Group entries; None if not a list."""
    if not isinstance(entries, list):
        return None
    found: set[str] = set()
    for entry in entries:
        if isinstance(entry, dict):
            found.update(str(entry[k]).lower() for k in ("id", "name") if entry.get(k))
    return frozenset(found)


def facts_of(user: dict[str, Any], *, direct_reports: bool | None) -> HostFacts:
    """Facts from a User / UserMe body with the ``authorization`` and ``groups`` expands."""
    authorization = user.get("authorization")
    auth = authorization if isinstance(authorization, dict) else {}
    permissions = auth.get("permissions")
    reports = user.get("directReports")
    if isinstance(reports, list) and reports:
        direct_reports = True
    return HostFacts(
        roles=_names(auth.get("roles")) if isinstance(authorization, dict) else None,
        permissions=(frozenset(str(p).lower() for p in permissions if isinstance(p, str))
                     if isinstance(permissions, list) else None),
        groups=_names(user.get("groups")),
        direct_reports=direct_reports)


def _permission_matches(pattern: str, held: str) -> bool:
    want, have = pattern.lower().split(":"), held.split(":")
    if len(want) > len(have):
        return False
    return all(w == "*" or h == "*" or w == h for w, h in zip(want, have, strict=False)) and (
        len(want) == len(have) or want[-1] == "*")


def _holds(when: dict[str, Any], facts: HostFacts) -> bool | None:
    """True, False, or None (unknown: it depends on something the host did not say)."""
    results: list[bool | None] = []
    if "host_roles" in when:
        results.append(None if facts.roles is None else
                       any(v.lower() in facts.roles for v in when["host_roles"]))
    if "groups" in when:
        results.append(None if facts.groups is None else
                       any(v.lower() in facts.groups for v in when["groups"]))
    if "permissions" in when:
        results.append(None if facts.permissions is None else any(
            _permission_matches(p, held) for p in when["permissions"] for held in facts.permissions))
    if "direct_reports" in when:
        results.append(None if facts.direct_reports is None else
                       facts.direct_reports == when["direct_reports"])
    if any(r is False for r in results):
        return False
    return None if any(r is None for r in results) else True


@dataclass(frozen=True)
class Decision:
    role: str | None  # None: undecided (an unknown rule came first)
    rule: int | None  # the index of the rule that gave it; None for the default


def decide(mapping: dict[str, Any], facts: HostFacts, *, unknown_is_false: bool = False) -> Decision:
    for index, rule in enumerate(mapping["rules"]):
        holds = _holds(rule["when"], facts)
        if holds is None and unknown_is_false:
            holds = False
        if holds is None:
            return Decision(None, None)
        if holds:
            return Decision(rule["role"], index)
    return Decision(mapping.get("default", "agent"), None)


def mapping_of(tenant: Tenant) -> dict[str, Any]:
    return tenant.role_mapping or DEFAULT_MAPPING


def apply(session: Session, tenant: Tenant, person: Person, facts: HostFacts, *, actor: str,
          new: bool = False, via: str) -> bool:
    """Map ``person``'s role from ``facts`` unless an admin overrode it; audited when it
    changes. True when the role changed."""
    if person.role_source == OVERRIDE:
        return False
    decision = decide(mapping_of(tenant), facts, unknown_is_false=new or not person.role)
    if decision.role is None or decision.role == person.role:
        return False
    before = person.role
    person.role, person.role_source = decision.role, MAPPED
    if not new:  # a new person's role is in the sync's own audit row
        audit.record(session, tenant_id=tenant.id, actor=actor, action="person.role_mapped",
                     subject_type="person", subject_id=person.id,
                     details={"from": before, "to": decision.role, "rule": decision.rule,
                              "via": via, "default_mapping": tenant.role_mapping is None})
    return True


def reports_to(session: Session, tenant_id: str, person_id: str) -> bool:
    """Whether any active stored person has ``person_id`` as their manager."""
    return (session.scalar(select(func.count()).select_from(Person).where(
        Person.tenant_id == tenant_id, Person.supervisor_id == person_id,
        Person.active.is_(True))) or 0) > 0


# --- admin actions --------------------------------------------------------------------------

def mapping_view(tenant: Tenant) -> dict[str, Any]:
    return {**mapping_of(tenant), "is_default": tenant.role_mapping is None}


def set_mapping(session: Session, tenant_id: str, data: Any | None, *, actor: str) -> Tenant:
    """Replace the tenant's mapping (None: back to the defaults); validated, audited. It is
    applied to each person at their next sign-in and at the next people sync."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"No tenant {tenant_id!r}.")
    mapping = None if data is None else validate_mapping(data)
    before = mapping_of(tenant)
    tenant.role_mapping = mapping
    audit.record(session, tenant_id=tenant_id, actor=actor, action="roles.mapping_updated",
                 subject_type="tenant", subject_id=tenant_id,
                 details={"from": before, "to": mapping_of(tenant),
                          "default": mapping is None})
    return tenant


def _other_admins(session: Session, tenant_id: str, person_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Person).where(
        Person.tenant_id == tenant_id, Person.role == "admin", Person.active.is_(True),
        Person.id != person_id)) or 0


def set_role(session: Session, tenant_id: str, person_id: str, role: str | None, *,
             actor: str) -> Person:
    """An admin's override (``role``), or back to the mapping (None: the role stays until the
    next sign-in or sync maps it). The tenant's last active admin cannot be made anything
    else (409). Audited."""
    person = session.get(Person, (tenant_id, person_id))
    if person is None:
        raise NotFound(f"No person {person_id!r}.")
    if role is not None and role not in ROLES:
        raise Invalid("Unknown role.", errors=[{"field": "role",
                                                "message": f"One of {', '.join(ROLES)}."}])
    before, source_before = person.role, person.role_source
    if (role is not None and before == "admin" and role != "admin" and person.active
            and not _other_admins(session, tenant_id, person_id)):
        raise Conflict("This is the organisation's last Coachwire admin; name another admin "
                       "first.")
    if role is None:
        person.role_source = MAPPED
    else:
        person.role, person.role_source = role, OVERRIDE
    audit.record(session, tenant_id=tenant_id, actor=actor, action="person.role_set",
                 subject_type="person", subject_id=person_id,
                 details={"from": before, "to": person.role, "source_from": source_before,
                          "source": person.role_source})
    return person

