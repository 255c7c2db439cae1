"""/api/v1/queues and /api/v1/groups: the host's routing queues and groups as last synced.

Read-only (``flask sync directory`` and the periodic job write them). Supervisors, QA analysts,
managers and admins see the whole tenant's; an agent sees only the queues and groups they are a
member of (``person_id`` defaults to themselves and may not name anyone else).
"""

from __future__ import annotations

from flask import Blueprint
from marshmallow import Schema, fields

from extension.platform import directory as service
from extension.platform.api.plumbing import documented, offset_of, page, parse, respond
from extension.platform.api.schemas import PageQuery, page_of
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import DIRECTORY_READ, Principal
from extension.platform.db import get_db
from extension.platform.models.people import Person
from extension.platform.problems import Problem

bp = Blueprint("api_directory", __name__, url_prefix="/api/v1")
TAG = "directory"


class DirectoryQuery(PageQuery):
    include_inactive = fields.Boolean(load_default=False, metadata={
        "description": "Also groups/queues the host no longer lists (or lists as inactive)"})
    person_id = fields.String(metadata={"description": "Only those this person is a member of"})


class _Entry(Schema):
    id = fields.String()
    name = fields.String()
    member_count = fields.Integer(allow_none=True)
    active = fields.Boolean()
    synced_at = fields.DateTime(metadata={"description": "When a sync last changed it"})


class QueueDivision(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)


class QueueOut(_Entry):
    division = fields.Nested(QueueDivision, allow_none=True)


class GroupOut(_Entry):
    type = fields.String(allow_none=True, metadata={"description": "official | social"})
    visibility = fields.String(allow_none=True, metadata={"description": "public | owners | members"})


QueuesPage = page_of(QueueOut, "QueuesPage")


GroupsPage = page_of(GroupOut, "GroupsPage")


@bp.get("/queues")
@documented(summary="Routing queues of the tenant (an agent: their own)", query=DirectoryQuery,
            response=QueuesPage, tag=TAG)
@require(DIRECTORY_READ)
def list_queues():
    return _listing("queues")


@bp.get("/groups")
@documented(summary="Groups of the tenant (an agent: their own)", query=DirectoryQuery,
            response=GroupsPage, tag=TAG)
@require(DIRECTORY_READ)
def list_groups():
    return _listing("groups")


def _listing(kind: str):
    args = parse(DirectoryQuery)
    principal, offset = current_principal(), offset_of(args)
    with get_db().session() as session:
        person_id = _person_filter(session, principal, args.get("person_id"))
        rows = service.listing(session, kind, principal.tenant_id, person_id=person_id,
                               include_inactive=args["include_inactive"], offset=offset,
                               limit=args["limit"] + 1)
    items, cursor = page(rows, limit=args["limit"], offset=offset)
    return respond({"items": items, "next_cursor": cursor})


def _person_filter(session, principal: Principal, person_id: str | None) -> str | None:
    """404 for a person not in the tenant; an agent is pinned to themselves (403 otherwise)."""
    if person_id is not None and session.get(Person, (principal.tenant_id, person_id)) is None:
        raise Problem(404, "Not Found", f"No person {person_id!r}.")
    if principal.role == "agent":
        if person_id not in (None, principal.person_id):
            raise Problem(403, "Forbidden", "An agent sees only their own queues and groups.")
        return principal.person_id
    return person_id
