"""Users, groups (the three teams) and routing queues."""

from __future__ import annotations

import uuid

from flask import Blueprint, jsonify, request

from sandbox.errors import bad_request, not_found
from sandbox.serialize import list_arg, paged, user_json
from sandbox.state import world
from sandbox.timeutil import iso

bp = Blueprint("sandbox_directory", __name__, url_prefix="/api/v2")


# the users endpoints' expand enum (reference); anything else is refused as the host refuses it
USER_EXPANDS = frozenset((
    "routingStatus", "presence", "integrationPresence", "conversationSummary", "outOfOffice",
    "geolocation", "station", "authorization", "lasttokenissued", "authorization.unusedRoles",
    "team", "workPlanBidRanks", "externalContactsSettings", "groups", "customAttributes",
    "profileSkills", "certifications", "locations", "skills", "languages", "languagePreference",
    "employerInfo", "biography", "dateLastLogin", "dateWelcomeSent"))


HOST_ROLES = {"agent": ("employee", "User"), "supervisor": ("employee", "User", "Supervisor")}
HOST_PERMISSIONS = {
    "agent": ("coaching:appointment:view", "quality:evaluation:view"),
    "supervisor": ("coaching:appointment:view", "coaching:appointment:add",
                   "quality:evaluation:view", "analytics:conversationDetail:view"),
}


def _role_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-role:{name}"))


def authorization_json(person) -> dict:
    """UserAuthorization: the person's host roles and the permissions they grant."""
    return {"roles": [{"id": _role_id(n), "name": n} for n in HOST_ROLES.get(person.role, ())],
            "permissions": list(HOST_PERMISSIONS.get(person.role, ()))}


def _expanded(person) -> dict:
    """A user as the listing shows it, with the ``authorization`` and ``groups`` expands."""
    body = user_json(person, world())
    expands = set(list_arg("expand"))
    if "authorization" in expands:
        body["authorization"] = authorization_json(person)
    if "groups" in expands:
        team = world().team_of(person.id)
        body["groups"] = [group_json(team)] if team else []
    return body


def _check_expand() -> None:
    unknown = [value for value in list_arg("expand") if value not in USER_EXPANDS]
    if unknown:
        raise bad_request(f"Invalid expand value(s): {', '.join(unknown)}")


# `state` of GET /api/v2/users (reference enum, default active). "any" is taken as active and
# inactive: deleted users are listed only when asked for by name (sandbox reading, see docs).
USER_STATES = {"active": {"active"}, "inactive": {"inactive"}, "deleted": {"deleted"},
               "any": {"active", "inactive"}}


@bp.get("/users")
def list_users():
    _check_expand()
    state = request.args.get("state", "active")
    if state not in USER_STATES:
        raise bad_request(f"Invalid state value: {state}")
    wanted = set(list_arg("id"))
    people = [p for p in _sorted_people()
              if (not wanted or p.id in wanted) and p.state in USER_STATES[state]]
    return jsonify(paged([_expanded(p) for p in people]))


@bp.get("/users/<user_id>")
def get_user(user_id: str):
    _check_expand()
    return jsonify(user_json(_person(user_id), world()))


@bp.get("/users/<user_id>/directreports")
def direct_reports(user_id: str):
    person = _person(user_id)
    team = world().team_of(person.id)
    if person.role != "supervisor" or team is None:
        return jsonify([])
    return jsonify([user_json(world().people[a], world()) for a in team.agent_ids])


@bp.get("/users/<user_id>/superiors")
def superiors(user_id: str):
    supervisor = world().supervisor_of(_person(user_id).id)
    return jsonify([user_json(supervisor, world())] if supervisor else [])


@bp.get("/groups")
def list_groups():
    wanted = set(list_arg("id"))
    return jsonify(paged([group_json(t) for t in world().teams if not wanted or t.id in wanted]))


@bp.get("/groups/<group_id>")
def get_group(group_id: str):
    return jsonify(group_json(_team(group_id)))


@bp.get("/groups/<group_id>/members")
def group_members(group_id: str):
    team = _team(group_id)
    return jsonify(paged([user_json(world().people[a], world()) for a in team.agent_ids]))


@bp.get("/routing/queues")
def list_queues():
    wanted = set(list_arg("id"))
    return jsonify(paged([_queue(q) for q in world().queues if not wanted or q.id in wanted]))


@bp.get("/routing/queues/<queue_id>")
def get_queue(queue_id: str):
    queue = next((q for q in world().queues if q.id == queue_id), None)
    if queue is None:
        raise not_found("Queue")
    return jsonify(_queue(queue))


@bp.get("/routing/queues/<queue_id>/members")
def queue_members(queue_id: str):
    """Every agent is a member of every queue (memberCount says so); all joined, ring 1."""
    queue = next((q for q in world().queues if q.id == queue_id), None)
    if queue is None:
        raise not_found("Queue")
    agents = sorted(world().agents, key=lambda p: p.name)
    return jsonify(paged([_queue_member(a) for a in agents]))


def _queue_member(person) -> dict:
    return {"id": person.id, "name": person.name, "ringNumber": 1, "joined": True,
            "memberBy": "user", "user": {"id": person.id, "name": person.name,
                                         "selfUri": f"/api/v2/users/{person.id}"},
            "selfUri": f"/api/v2/users/{person.id}"}


def _sorted_people():
    return sorted(world().people.values(), key=lambda p: p.name)


def _person(user_id: str):
    person = world().people.get(user_id)
    if person is None:
        raise not_found("User")
    return person


def _team(group_id: str):
    team = next((t for t in world().teams if t.id == group_id), None)
    if team is None:
        raise not_found("Group")
    return team


def group_json(team) -> dict:
    supervisor = world().people[team.supervisor_id]
    return {"id": team.id, "name": team.name, "description": f"{team.name} agents",
            "type": "official", "state": "active", "version": 1, "rulesVisible": True,
            "visibility": "public", "memberCount": len(team.agent_ids),
            "dateModified": iso(world().created),
            "owners": [{"id": supervisor.id, "name": supervisor.name, "version": 1,
                        "selfUri": f"/api/v2/users/{supervisor.id}"}],
            "selfUri": f"/api/v2/groups/{team.id}"}


def _queue(queue) -> dict:
    members = len(world().agents)
    return {"id": queue.id, "name": queue.name, "description": f"{queue.media_type} queue",
            "division": {"id": world().division_id, "name": "Home"},
            "dateCreated": iso(world().created), "memberCount": members,
            "userMemberCount": members, "joinedMemberCount": members,
            "scoringMethod": "TimestampAndPriority", "skillEvaluationMethod": "BEST",
            "selfUri": f"/api/v2/routing/queues/{queue.id}"}
