"""Workforce management: management unit lookup, schedules, agent schedule query,
short-term forecasts and activity codes for the one business unit."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, request

from sandbox.errors import bad_request, not_found
from sandbox.ids import stable_id
from sandbox.serialize import bu_activity, user_ref
from sandbox.state import world
from sandbox.timeutil import iso

bp = Blueprint("sandbox_wfm", __name__, url_prefix="/api/v2/workforcemanagement")


@bp.get("/agents/<agent_id>/managementunit")
def agent_management_unit(agent_id: str):
    person = world().people.get(agent_id)
    if person is None or person.role != "agent":
        raise not_found("Agent")
    w = world()
    return jsonify(user=user_ref(agent_id), managementUnit=_mu_ref(w), businessUnit=_bu_ref(w))


@bp.get("/businessunits")
def business_units():
    w = world()
    return jsonify(entities=[{"id": w.bu_id, "name": "Sandbox Contact Centre",
                              "division": {"id": w.division_id},
                              "selfUri": _bu_ref(w)["selfUri"]}])


@bp.get("/businessunits/<bu_id>/activitycodes")
def activity_codes(bu_id: str):
    _check_bu(bu_id)
    return jsonify(entities=[_code_json(c) for c in world().codes.values()])


@bp.get("/businessunits/<bu_id>/weeks/<week_id>/schedules")
def week_schedules(bu_id: str, week_id: str):
    _check_bu(bu_id)
    weeks = _weeks_for(week_id)
    return jsonify(entities=[_schedule_item(week) for week in weeks])


@bp.post("/businessunits/<bu_id>/weeks/<week_id>/schedules/<schedule_id>/agentschedules/query")
def query_agent_schedules(bu_id: str, week_id: str, schedule_id: str):
    _check_bu(bu_id)
    week = _week_with_schedule(week_id, schedule_id)
    body = request.get_json(silent=True) or {}
    if body.get("managementUnitId") != world().mu_id:
        raise bad_request("managementUnitId is required and must name a management unit")
    user_ids = _requested_users(body)
    with world().lock:
        schedules = [_agent_schedule(week, uid) for uid in user_ids if uid in week.shifts]
    result = {"agentSchedules": schedules, "businessUnitTimeZone": world().tz.key}
    # Always answered inline: the sandbox has no download service or async topic path.
    return jsonify(status="Complete", operationId=stable_id("query", schedule_id),
                   progress=100, result=result)


@bp.get("/businessunits/<bu_id>/weeks/<week_id>/shorttermforecasts")
def forecasts(bu_id: str, week_id: str):
    _check_bu(bu_id)
    return jsonify(entities=[_forecast_item(week) for week in _weeks_for(week_id)])


@bp.get("/businessunits/<bu_id>/weeks/<week_id>/shorttermforecasts/<forecast_id>/data")
def forecast_data(bu_id: str, week_id: str, forecast_id: str):
    _check_bu(bu_id)
    week = next((w for w in _weeks_for(week_id) if w.forecast_id == forecast_id), None)
    if week is None:
        raise not_found("Forecast")
    return jsonify(result={"referenceStartDate": iso(week.reference), "weekNumber": 0,
                           "weekCount": 1, "planningGroups": week.forecast})


def _requested_users(body: dict) -> list[str]:
    team_ids = set(body.get("teamIds") or [])
    user_ids = list(body.get("userIds") or [])
    user_ids += [a for t in world().teams if t.id in team_ids for a in t.agent_ids]
    return user_ids or [a.id for a in world().agents]


def _agent_schedule(week, user_id: str) -> dict:
    ref = {"id": week.schedule_id, "weekDate": week.monday.isoformat()}
    shifts = [{"id": s.id, "startDate": iso(s.start), "lengthMinutes": s.minutes,
               "activities": [bu_activity(a) for a in s.activities], "manuallyEdited": False,
               "schedule": ref} for s in week.shifts[user_id]]
    return {"user": user_ref(user_id), "shifts": shifts, "fullDayTimeOffMarkers": [],
            "metadata": {"version": 1}}


def _weeks_for(week_id: str):
    weeks = sorted(world().weeks.values(), key=lambda w: w.monday)
    if week_id == "recent":
        return weeks[:1]
    try:
        monday = date.fromisoformat(week_id)
    except ValueError:
        raise bad_request("weekId must be yyyy-MM-dd or 'recent'") from None
    if monday.weekday() != 0:
        raise bad_request("weekId must be the first day of the business unit's week (Monday)")
    return [w for w in weeks if w.monday == monday]


def _week_with_schedule(week_id: str, schedule_id: str):
    week = next((w for w in _weeks_for(week_id) if w.schedule_id == schedule_id), None)
    if week is None:
        raise not_found("Schedule")
    return week


def _schedule_item(week) -> dict:
    w = world()
    return {"id": week.schedule_id, "weekDate": week.monday.isoformat(), "weekCount": 1,
            "description": f"Published schedule {week.monday.isoformat()}", "published": True,
            "shortTermForecast": _forecast_ref(week),
            "generationResults": {"failed": False, "messageCount": 0},
            "metadata": {"version": 1, "dateModified": iso(w.created)},
            "selfUri": f"{_bu_ref(w)['selfUri']}/weeks/{week.monday}/schedules/{week.schedule_id}"}


def _forecast_ref(week) -> dict:
    return {"id": week.forecast_id, "weekDate": week.monday.isoformat(),
            "description": "Sandbox forecast"}


def _forecast_item(week) -> dict:
    return {**_forecast_ref(week), "weekCount": 1, "creationMethod": "HistoricalWeightedAverage",
            "legacy": False, "canUseForScheduling": True, "metadata": {"version": 1}}


def _code_json(code) -> dict:
    return {"id": code.id, "name": code.name, "active": True,
            "defaultCode": code.name != "Coaching", "category": code.category,
            "countsAsPaidTime": code.paid, "countsAsWorkTime": code.category == "OnQueueWork",
            "agentTimeOffSelectable": code.category == "TimeOff",
            "metadata": {"version": 1}}


def _check_bu(bu_id: str) -> None:
    if bu_id != world().bu_id:
        raise not_found("Business unit")


def _bu_ref(w) -> dict:
    return {"id": w.bu_id, "selfUri": f"/api/v2/workforcemanagement/businessunits/{w.bu_id}"}


def _mu_ref(w) -> dict:
    return {"id": w.mu_id, "selfUri": f"/api/v2/workforcemanagement/managementunits/{w.mu_id}"}
