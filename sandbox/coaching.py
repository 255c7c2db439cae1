"""Coaching appointments and the schedule-slots query."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from flask import Blueprint, jsonify, request

from sandbox.errors import ApiError, bad_request, error_response, not_found
from sandbox.ids import new_id, stable_id
from sandbox.schedules import insert_activity as place_on_shift
from sandbox.schedules import make_activity
from sandbox.serialize import list_arg, paged, schedule_ref, user_ref
from sandbox.slotfinder import find_slots
from sandbox.state import state, world
from sandbox.timeutil import iso, parse_dt, parse_interval

bp = Blueprint("sandbox_coaching", __name__, url_prefix="/api/v2/coaching")
REQUIRED = ("name", "description", "dateStart", "lengthInMinutes", "attendeeIds")


@bp.post("/appointments")
def create_appointment():
    body = _json_object()
    problems = validate_appointment(body, world(), state().config.max_appointment_minutes)
    if problems:
        raise ApiError(400, "bad.request", "; ".join(p for _, p in problems),
                       details=[{"fieldName": f, "errorCode": "invalid.value"}
                                for f, _ in problems])
    with world().lock:
        appointment = _new_appointment(body)
        if body.get("addToSchedule"):
            _add_to_schedule(appointment)
        world().appointments[appointment["id"]] = appointment
    _notify(appointment)
    return jsonify(appointment)


@bp.get("/appointments")
def list_appointments():
    user_ids = set(list_arg("userIds"))
    if not user_ids:
        raise bad_request("userIds is required")
    matches = [a for a in _sorted_appointments() if _involves(a, user_ids) and _filters_ok(a)]
    return jsonify(paged(matches))


@bp.get("/appointments/<appointment_id>")
def get_appointment(appointment_id: str):
    appointment = world().appointments.get(appointment_id)
    if appointment is None:
        raise not_found("Appointment")
    return jsonify(appointment)


@bp.post("/scheduleslots/query")
def schedule_slots():
    mode = state().controls.slots_mode
    if mode != "on":  # a host without the feature: the client must compute slots itself
        return error_response(int(mode), "not.found" if mode == "404" else "not.implemented",
                              "Schedule slots are not available")
    body = _json_object()
    missing = [f for f in ("interval", "lengthInMinutes", "attendeeIds") if not body.get(f)]
    if missing:
        raise bad_request(f"Missing required fields: {', '.join(missing)}")
    start, end = _interval(body["interval"])
    minutes = _length(body["lengthInMinutes"], state().config.max_appointment_minutes)
    _known_users(body["attendeeIds"] + (body.get("facilitatorIds") or []))
    with world().lock:
        result = find_slots(world(), start=start, end=end, minutes=minutes,
                            attendee_ids=body["attendeeIds"],
                            facilitator_ids=body.get("facilitatorIds") or [],
                            interruptible=set(body.get("interruptibleAppointmentIds") or []))
    return jsonify(result)


def validate_appointment(body: dict, w, max_minutes: int) -> list[tuple[str, str]]:
    """(field, problem) pairs for a CreateCoachingAppointmentRequest; empty when valid."""
    problems = [(f, f"{f} is required") for f in REQUIRED if body.get(f) in (None, "", [])]
    if problems:
        return problems
    problems += _check(lambda: parse_dt(str(body["dateStart"])), "dateStart",
                       "dateStart must be an ISO-8601 date time")
    problems += _check(lambda: _length(body["lengthInMinutes"], max_minutes), "lengthInMinutes",
                       f"lengthInMinutes must be a multiple of 15 between 15 and {max_minutes}")
    unknown = [u for u in body["attendeeIds"] if u not in w.people]
    if unknown:
        problems.append(("attendeeIds", f"Unknown attendees: {', '.join(unknown)}"))
    if body.get("facilitatorId") and body["facilitatorId"] not in w.people:
        problems.append(("facilitatorId", "Unknown facilitator"))
    return problems


def _check(action, field: str, message: str) -> list[tuple[str, str]]:
    try:
        action()
    except (ValueError, TypeError, ApiError):
        return [(field, message)]
    return []


def _length(value, max_minutes: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("lengthInMinutes must be an integer")
    if value % 15 or not 15 <= value <= max_minutes:
        raise bad_request(f"lengthInMinutes must be a multiple of 15 between 15 and {max_minutes}")
    return value


def _new_appointment(body: dict) -> dict:
    start = parse_dt(str(body["dateStart"])).replace(second=0, microsecond=0)
    creator = world().integration_user.id
    facilitator = body.get("facilitatorId") or creator
    now = iso(state().now())
    appointment_id = new_id(_id_rng())
    return {"id": appointment_id, "name": body["name"], "description": body["description"],
            "dateStart": iso(start), "lengthInMinutes": body["lengthInMinutes"],
            "status": "Scheduled", "facilitator": user_ref(facilitator),
            "attendees": [user_ref(a) for a in body["attendeeIds"]],
            "createdBy": user_ref(creator), "dateCreated": now, "modifiedBy": user_ref(creator),
            "dateModified": now, "isOverdue": False,
            "conversations": [{"id": c, "selfUri": f"/api/v2/conversations/{c}"}
                              for c in body.get("conversationIds") or []],
            "documents": [{"id": d} for d in body.get("documentIds") or []],
            "externalLinks": body.get("externalLinks") or [], "location": body.get("location"),
            "shareInsightsData": bool(body.get("shareInsightsData")),
            "selfUri": f"/api/v2/coaching/appointments/{appointment_id}"}


def _id_rng() -> random.Random:
    # Appointment ids follow from the seed and the count, so a replayed run gets the same ids.
    return random.Random(f"{world().seed}:appointment:{len(world().appointments)}")


def _add_to_schedule(appointment: dict) -> None:
    """Put a Coaching activity on each attendee's shift; if any cannot take it the appointment
    is kept but marked InvalidSchedule, which is how Genesys reports a schedule conflict."""
    start = parse_dt(appointment["dateStart"])
    week = world().week_for(start)
    shifts = [_shift_at(a["id"], start) for a in appointment["attendees"]]
    if week is None or None in shifts:
        appointment["status"] = "InvalidSchedule"
        return
    code = world().codes["Coaching"]
    for shift in shifts:
        activity = make_activity(start, appointment["lengthInMinutes"], code,
                                 external_id=appointment["id"], external_type="Coaching")
        if not place_on_shift(shift, activity):
            appointment["status"] = "InvalidSchedule"
    appointment["wfmSchedule"] = schedule_ref(world(), week)


def _shift_at(user_id: str, when: datetime):
    return next((s for s in world().shifts_of(user_id) if s.start <= when < s.end), None)


def _notify(appointment: dict) -> None:
    hub = state().hub
    if hub is None:
        return
    for person in [*appointment["attendees"], appointment["facilitator"]]:
        hub.publish(f"v2.users.{person['id']}.wem.coaching.notification", {
            "id": stable_id(appointment["id"], person["id"]), "name": appointment["name"],
            "markedAsRead": False, "actionType": "Create",
            "relationship": "Facilitator" if person is appointment["facilitator"] else "Attendee",
            "appointment": {"id": appointment["id"]}, "dateStart": appointment["dateStart"],
            "lengthInMinutes": appointment["lengthInMinutes"], "status": appointment["status"]})


def _involves(appointment: dict, user_ids: set[str]) -> bool:
    people = {a["id"] for a in appointment["attendees"]}
    people |= {appointment["facilitator"]["id"], appointment["createdBy"]["id"]}
    return bool(people & user_ids)


def _filters_ok(appointment: dict) -> bool:
    statuses = list_arg("statuses")
    facilitators = list_arg("facilitatorIds")
    if statuses and appointment["status"] not in statuses:
        return False
    if facilitators and appointment["facilitator"]["id"] not in facilitators:
        return False
    interval = request.args.get("interval")
    return not interval or _in_interval(appointment, *_interval(interval))


def _in_interval(appointment: dict, start: datetime, end: datetime) -> bool:
    begins = parse_dt(appointment["dateStart"])
    if request.args.get("intervalCondition") == "Overlaps":
        return begins < end and start < begins + timedelta(minutes=appointment["lengthInMinutes"])
    return start <= begins < end


def _sorted_appointments() -> list[dict]:
    descending = request.args.get("sortOrder", "Desc") == "Desc"
    with world().lock:
        items = list(world().appointments.values())
    return sorted(items, key=lambda a: a["dateStart"], reverse=descending)


def _interval(text: str):
    try:
        return parse_interval(text)
    except ValueError:
        raise bad_request("interval must be an ISO-8601 interval start/end") from None


def _known_users(user_ids: list[str]) -> None:
    unknown = [u for u in user_ids if u not in world().people]
    if unknown:
        raise bad_request(f"Unknown users: {', '.join(unknown)}")


def _json_object() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    return body
