"""JSON shapes shared by several areas (references, users, paging)."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from flask import request

from sandbox.errors import bad_request
from sandbox.people import Person
from sandbox.schedules import Activity
from sandbox.timeutil import iso


def user_ref(user_id: str) -> dict:
    return {"id": user_id, "selfUri": f"/api/v2/users/{user_id}"}


def user_json(person: Person, world) -> dict:
    body = {"id": person.id, "name": person.name, "email": person.email,
            "username": person.email, "state": person.state, "version": 1,
            "division": {"id": world.division_id, "name": "Home",
                         "selfUri": f"/api/v2/authorization/divisions/{world.division_id}"},
            "title": person.role.title(), "department": "Customer Operations",
            "selfUri": f"/api/v2/users/{person.id}"}
    team = world.team_of(person.id)
    if team:
        body["team"] = {"id": team.id, "name": team.name}
    supervisor = world.supervisor_of(person.id) if person.role == "agent" else None
    if supervisor:
        body["manager"] = {"id": supervisor.id, "selfUri": f"/api/v2/users/{supervisor.id}"}
    return body


def schedule_ref(world, week) -> dict:
    return {"id": week.schedule_id, "weekDate": week.schedule_week.isoformat(),
            "businessUnit": {"id": world.bu_id,
                             "selfUri": f"/api/v2/workforcemanagement/businessunits/{world.bu_id}"}}


def bu_activity(activity: Activity) -> dict:
    """BuAgentScheduleActivity."""
    body = {"startDate": iso(activity.start), "lengthMinutes": activity.minutes,
            "description": activity.description, "activityCodeId": activity.code_id,
            "paid": activity.paid, "payableMinutes": activity.minutes if activity.paid else 0}
    if activity.external_id:
        body.update(externalActivityId=activity.external_id,
                    externalActivityType=activity.external_type)
    return body


def int_arg(name: str, default: int, *, low: int = 1, high: int = 500) -> int:
    raw = request.args.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise bad_request(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise bad_request(f"{name} must be between {low} and {high}")
    return value


def list_arg(name: str) -> list[str]:
    """Genesys list params may repeat (?id=a&id=b) or be comma separated."""
    values = []
    for raw in request.args.getlist(name):
        values.extend(v for v in raw.split(",") if v)
    return values


def paged(items: list, *, default_size: int = 25) -> dict:
    size = int_arg("pageSize", default_size)
    number = int_arg("pageNumber", 1, high=100000)
    count = max(1, math.ceil(len(items) / size))
    body = {"entities": items[(number - 1) * size: number * size], "pageSize": size,
            "pageNumber": number, "total": len(items), "pageCount": count,
            "selfUri": _page_uri(number, size), "firstUri": _page_uri(1, size),
            "lastUri": _page_uri(count, size)}
    if number < count:
        body["nextUri"] = _page_uri(number + 1, size)
    if number > 1:
        body["previousUri"] = _page_uri(number - 1, size)
    return body


def _page_uri(number: int, size: int) -> str:
    args = {k: v for k, v in request.args.items() if k not in ("pageNumber", "pageSize")}
    return f"{request.path}?{urlencode({**args, 'pageSize': size, 'pageNumber': number})}"
