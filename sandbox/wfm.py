"""Workforce management: management unit lookup, schedules, agent schedule query,
short-term forecasts and activity codes for the one business unit.

The business unit's weeks start on its startDayOfWeek in its time zone (Config: bu_start_day,
bu_time_zone); a weekId that is not such a first day is a 400, as on the host. Schedules and
forecasts may span several weeks (Config.schedule_weeks): listed under each week they cover
with their own weekDate and weekCount, queried under their weekDate, forecast data per
weekNumber."""

from __future__ import annotations

import random
from datetime import date

from flask import Blueprint, current_app, jsonify, request

from sandbox.errors import bad_request, not_found
from sandbox.ids import stable_id
from sandbox.serialize import bu_activity, list_arg, user_ref
from sandbox.state import state, world
from sandbox.timeutil import iso, week_start_of

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


# GET .../businessunits/{businessUnitId} expand values (reference enum)
BU_EXPANDS = frozenset((
    "settings", "settings.timeZone", "settings.startDayOfWeek", "settings.shortTermForecasting",
    "settings.scheduling", "settings.notifications.scheduling", "settings.learning",
    "settings.coaching"))


@bp.get("/businessunits/<bu_id>")
def business_unit(bu_id: str):
    """BusinessUnitResponse; settings only as far as expanded (the week rules are modelled)."""
    _check_bu(bu_id)
    w = world()
    expand = set(list_arg("expand"))
    unknown = expand - BU_EXPANDS
    if unknown:
        raise bad_request(f"Invalid expand value(s): {', '.join(sorted(unknown))}")
    body = {"id": w.bu_id, "name": "Sandbox Contact Centre", "division": {"id": w.division_id},
            "selfUri": _bu_ref(w)["selfUri"]}
    if expand:
        every = "settings" in expand
        settings: dict = {"metadata": {"version": 1, "dateModified": iso(w.created)}}
        if every or "settings.startDayOfWeek" in expand:
            settings["startDayOfWeek"] = w.start_day
        if every or "settings.timeZone" in expand:
            settings["timeZone"] = w.tz.key
        body["settings"] = settings
    return jsonify(body)


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
    if week.schedule_week.isoformat() != week_id:
        raise not_found("Schedule")  # a schedule lives under its own weekDate only
    body = request.get_json(silent=True) or {}
    if body.get("managementUnitId") != world().mu_id:
        raise bad_request("managementUnitId is required and must name a management unit")
    user_ids = _requested_users(body)
    covered = _schedule_weeks(schedule_id)
    with world().lock:
        schedules = [_agent_schedule(covered, uid) for uid in user_ids if uid in week.shifts]
    result = {"agentSchedules": schedules, "businessUnitTimeZone": world().tz.key}
    operation = stable_id("query", schedule_id, str(len(_downloads())))
    mode = _answer_mode()
    if mode == "processing":
        # the host would publish the result on v2.workforcemanagement.users.{id}.schedules.query;
        # the sandbox publishes nothing: the client asks again
        return jsonify(status="Processing", operationId=operation, progress=0)
    if mode == "download":
        _downloads()[operation] = result
        return jsonify(status="Complete", operationId=operation, progress=100,
                       downloadUrl=f"{request.host_url}sandbox/downloads/{operation}")
    return jsonify(status="Complete", operationId=operation, progress=100, result=result)


def _downloads() -> dict:
    return current_app.extensions.setdefault("sandbox.downloads", {})


def _answer_mode() -> str:
    """inline | processing | download: forceAsync / forceDownloadService (reference test flags),
    then the wfmProcessing control, then the seeded Config.wfm_async_rate."""
    if request.args.get("forceAsync") == "true":
        return "processing"
    if request.args.get("forceDownloadService") == "true":
        return "download"
    s = state()
    with s.lock:
        if s.controls.wfm_processing > 0:
            s.controls.wfm_processing -= 1
            return "processing"
        rng = current_app.extensions.setdefault("sandbox.wfm_rng",
                                                random.Random(f"{world().seed}:wfm-async"))
        if s.config.wfm_async_rate and rng.random() < s.config.wfm_async_rate:
            return rng.choice(("processing", "download"))
    return "inline"


@bp.get("/businessunits/<bu_id>/weeks/<week_id>/shorttermforecasts")
def forecasts(bu_id: str, week_id: str):
    _check_bu(bu_id)
    return jsonify(entities=[_forecast_item(week) for week in _weeks_for(week_id)])


@bp.get("/businessunits/<bu_id>/weeks/<week_id>/shorttermforecasts/<forecast_id>/data")
def forecast_data(bu_id: str, week_id: str, forecast_id: str):
    _check_bu(bu_id)
    first = next((w for w in _weeks_for(week_id) if w.forecast_id == forecast_id
                  and w.schedule_week.isoformat() == week_id), None)
    if first is None:
        raise not_found("Forecast")
    try:
        number = int(request.args.get("weekNumber", 0))
    except ValueError:
        raise bad_request("weekNumber must be an integer") from None
    if not 0 <= number < first.week_count:
        raise bad_request(f"weekNumber must be in 0..{first.week_count - 1}")
    week = next((w for w in _schedule_weeks(first.schedule_id) if w.week_number == number), None)
    if week is None:  # a week of the forecast the sandbox did not build: no data
        raise not_found("Forecast week")
    # referenceStartDate is the forecast's first week; week n's intervals start n weeks later
    return jsonify(result={"referenceStartDate": iso(first.reference), "weekNumber": number,
                           "weekCount": first.week_count, "planningGroups": week.forecast})


def _requested_users(body: dict) -> list[str]:
    team_ids = set(body.get("teamIds") or [])
    user_ids = list(body.get("userIds") or [])
    user_ids += [a for t in world().teams if t.id in team_ids for a in t.agent_ids]
    return user_ids or [a.id for a in world().agents]


def _schedule_weeks(schedule_id: str) -> list:
    return sorted((w for w in world().weeks.values() if w.schedule_id == schedule_id),
                  key=lambda w: w.monday)


def _agent_schedule(weeks: list, user_id: str) -> dict:
    ref = {"id": weeks[0].schedule_id, "weekDate": weeks[0].schedule_week.isoformat()}
    shifts = [{"id": s.id, "startDate": iso(s.start), "lengthMinutes": s.minutes,
               "activities": [bu_activity(a) for a in s.activities], "manuallyEdited": False,
               "schedule": ref} for week in weeks for s in week.shifts.get(user_id, [])]
    return {"user": user_ref(user_id), "shifts": shifts, "fullDayTimeOffMarkers": [],
            "metadata": {"version": 1}}


def _weeks_for(week_id: str):
    weeks = sorted(world().weeks.values(), key=lambda w: w.monday)
    if week_id == "recent":
        return weeks[:1]
    try:
        first = date.fromisoformat(week_id)
    except ValueError:
        raise bad_request("weekId must be yyyy-MM-dd or 'recent'") from None
    start_day = world().start_day
    if week_start_of(first, start_day) != first:
        raise bad_request(f"weekId must be the first day of the business unit's week ({start_day})")
    # a multi-week schedule is listed under every week it spans, with its own weekDate
    return [w for w in weeks if w.monday == first]


def _week_with_schedule(week_id: str, schedule_id: str):
    week = next((w for w in _weeks_for(week_id) if w.schedule_id == schedule_id), None)
    if week is None:
        raise not_found("Schedule")
    return week


def _schedule_item(week) -> dict:
    w = world()
    return {"id": week.schedule_id, "weekDate": week.schedule_week.isoformat(),
            "weekCount": week.week_count,
            "description": f"Published schedule {week.schedule_week.isoformat()}", "published": True,
            "shortTermForecast": _forecast_ref(week),
            "generationResults": {"failed": False, "messageCount": 0},
            "metadata": {"version": 1, "dateModified": iso(w.created)},
            "selfUri": f"{_bu_ref(w)['selfUri']}/weeks/{week.schedule_week}/schedules/"
                       f"{week.schedule_id}"}


def _forecast_ref(week) -> dict:
    return {"id": week.forecast_id, "weekDate": week.schedule_week.isoformat(),
            "description": "Sandbox forecast"}


def _forecast_item(week) -> dict:
    return {**_forecast_ref(week), "weekCount": week.week_count,
            "creationMethod": "HistoricalWeightedAverage",
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
