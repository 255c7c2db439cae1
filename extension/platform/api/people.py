"""/api/v1/people and the role mapping: who is who in Coachwire, and who decides it.

- ``GET /api/v1/people``: the tenant's people by name, paged; ``q`` searches name and email,
  ``role`` and ``team_id`` filter. A supervisor sees themselves and their own team(s); QA
  analysts, managers and admins see the whole tenant; an agent may not list people.
- ``PUT /api/v1/people/<id>/role`` (admins): set one person's role; the role mapping no longer
  changes it. ``DELETE`` the same: hand the person back to the mapping (applied at their next
  sign-in or the next people sync). Audited. The last active admin cannot be demoted (409).
- ``GET``/``PUT``/``DELETE /api/v1/role-mapping`` (admins): the tenant's rules from the host's
  roles, permissions, groups and direct reports to Coachwire roles
  (:mod:`extension.platform.roles`), validated (422 naming each field), audited; ``DELETE``
  goes back to the defaults.
"""

from __future__ import annotations

from flask import Blueprint, request
from marshmallow import Schema, fields, validate
from sqlalchemy import or_

from extension.platform import roles
from extension.platform.api.plumbing import documented, offset_of, page, parse, parse_body, respond
from extension.platform.api.schemas import PageQuery, page_of
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import PEOPLE_READ, ROLES_WRITE
from extension.platform.auth.scope import tenant_people, visible_agent_ids
from extension.platform.auth.tokens import ROLES
from extension.platform.db import get_db
from extension.platform.models.people import Person
from extension.platform.models.tenants import Tenant
from extension.platform.problems import Problem

bp = Blueprint("api_people", __name__, url_prefix="/api/v1")
TAG = "people"


class PeopleQuery(PageQuery):
    q = fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": "Part of the name or email (any case)"})
    role = fields.String(validate=validate.OneOf(ROLES))
    team_id = fields.String(validate=validate.Length(min=1, max=64))
    include_inactive = fields.Boolean(load_default=False, metadata={
        "description": "Also people the host reports inactive or deleted"})


class PersonOut(Schema):
    id = fields.String()
    name = fields.String()
    email = fields.String(allow_none=True)
    role = fields.String(metadata={"description": " | ".join(ROLES)})
    role_source = fields.String(metadata={
        "description": "mapped (the role mapping decides) | override (an admin set it)"})
    team_id = fields.String(allow_none=True)
    supervisor_id = fields.String(allow_none=True)
    active = fields.Boolean()
    synced_at = fields.DateTime()


PeoplePage = page_of(PersonOut, "PeoplePage")


class RoleBody(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class MappingView(roles.MappingSchema):
    is_default = fields.Boolean(metadata={"description": "No rules of the tenant's own yet"})


def _json(person: Person) -> dict:
    return {"id": person.id, "name": person.name, "email": person.email, "role": person.role,
            "role_source": person.role_source, "team_id": person.team_id,
            "supervisor_id": person.supervisor_id, "active": person.active,
            "synced_at": person.synced_at}


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@bp.get("/people")
@documented(summary="People of the tenant (a supervisor: their team), searchable", query=PeopleQuery,
            response=PeoplePage, tag=TAG)
@require(PEOPLE_READ)
def list_people():
    """Sorted by name. ``q`` matches any part of the name or email, without case."""
    args, principal = parse(PeopleQuery), current_principal()
    offset = offset_of(args)
    with get_db().session() as session:
        query = tenant_people(principal)
        visible = visible_agent_ids(session, principal)
        if visible is not None:
            query = query.where(Person.id.in_(sorted(visible)))
        if not args["include_inactive"]:
            query = query.where(Person.active.is_(True))
        if "role" in args:
            query = query.where(Person.role == args["role"])
        if "team_id" in args:
            query = query.where(Person.team_id == args["team_id"])
        if "q" in args:
            pattern = _like(args["q"])
            query = query.where(or_(Person.name.ilike(pattern, escape="\\"),
                                    Person.email.ilike(pattern, escape="\\")))
        rows = [_json(p) for p in session.scalars(
            query.order_by(Person.name, Person.id).offset(offset).limit(args["limit"] + 1))]
    items, cursor = page(rows, limit=args["limit"], offset=offset)
    return respond({"items": items, "next_cursor": cursor})


@bp.put("/people/<person_id>/role")
@documented(summary="Set one person's role (admins; audited); the mapping then leaves it",
            body=RoleBody, response=PersonOut, tag=TAG,
            problems={"409": "The tenant's last admin cannot be demoted",
                      "415": "Not JSON", "422": "Invalid body (errors name each field)"})
@require(ROLES_WRITE)
def put_role(person_id: str):
    """E.g. ``{"role": "qa_analyst"}`` names a QA analyst. Another tenant's id is 404."""
    return _set_role(person_id, parse_body(RoleBody)["role"])


@bp.delete("/people/<person_id>/role")
@documented(summary="Hand one person's role back to the role mapping (admins; audited)",
            response=PersonOut, tag=TAG,
            problems={"409": "The tenant's last admin cannot be demoted"})
@require(ROLES_WRITE)
def delete_role(person_id: str):
    """The role stays as it is until the person's next sign-in or the next people sync."""
    return _set_role(person_id, None)


def _set_role(person_id: str, role: str | None):
    principal = current_principal()
    with get_db().session() as session:
        person = roles.set_role(session, principal.tenant_id, person_id, role,
                                actor=f"person:{principal.person_id}")
        body = _json(person)
    return respond(body)


@bp.get("/role-mapping")
@documented(summary="The tenant's role mapping (admins)", response=MappingView, tag=TAG)
@require(ROLES_WRITE)
def get_mapping():
    """Rules from the host's roles, permissions, groups and direct reports to Coachwire roles;
    the first rule that holds gives the role, else ``default``."""
    with get_db().session() as session:
        return respond(roles.mapping_view(_tenant(session)))


@bp.put("/role-mapping")
@documented(summary="Replace the tenant's role mapping (admins; validated, audited)",
            body=roles.MappingSchema, response=MappingView, tag=TAG,
            problems={"415": "Not JSON", "422": "Invalid body (errors name each field)"})
@require(ROLES_WRITE)
def put_mapping():
    """Applied to each person at their next sign-in and at the next people sync; people whose
    role an admin set are left alone."""
    if not request.is_json:
        raise Problem(415, "Unsupported Media Type", "Send the body as application/json.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Problem(400, "Bad Request", "The body must be a JSON object.")
    return _save_mapping(body)


@bp.delete("/role-mapping")
@documented(summary="Go back to the default role mapping (admins; audited)",
            response=MappingView, tag=TAG)
@require(ROLES_WRITE)
def delete_mapping():
    return _save_mapping(None)


def _save_mapping(body: dict | None):
    principal = current_principal()
    with get_db().session() as session:
        tenant = roles.set_mapping(session, principal.tenant_id, body,
                                   actor=f"person:{principal.person_id}")
        return respond(roles.mapping_view(tenant))


def _tenant(session) -> Tenant:
    tenant = session.get(Tenant, current_principal().tenant_id)
    if tenant is None:
        raise Problem(404, "Not Found", "No such tenant.")
    return tenant
