"""The coaching slot search behind POST /api/v2/coaching/scheduleslots/query.

A candidate is a 15-minute-aligned start where every attendee is on on-queue work for the
whole length (so never on a break, meal, meeting or existing coaching) and no facilitator has
another appointment. Its staffingDifference is the worst (scheduled on-queue headcount minus
forecast required headcount) over the slot, after taking the attendees off the queue."""

from __future__ import annotations

from datetime import datetime, timedelta

from sandbox.serialize import bu_activity, schedule_ref, user_ref
from sandbox.staffing import interval_index, on_queue_headcount, required_from_groups, span
from sandbox.timeutil import floor_quarter, iso, overlaps

GOOD_AT = 2.0  # surplus at or above this rates Good; below zero rates Poor
MAX_SLOTS = 100


def find_slots(world, *, start: datetime, end: datetime, minutes: int, attendee_ids: list[str],
               facilitator_ids: list[str], interruptible: set[str]) -> dict:
    surplus = _surplus_lookup(world)
    busy = _appointment_busy(world, [*attendee_ids, *facilitator_ids], interruptible)
    slots = []
    for candidate in _candidates(start, end, minutes):
        if not all(_on_queue_throughout(world, a, candidate, minutes) for a in attendee_ids):
            continue
        if any(overlaps(candidate, candidate + timedelta(minutes=minutes), b0, b1)
               for b0, b1 in busy):
            continue
        slots.append(_slot(world, candidate, minutes, surplus, len(attendee_ids)))
    slots = [s for s in slots if s is not None]
    slots.sort(key=lambda s: (-s["staffingDifference"], s["dateStart"]))
    return {"suggestedSlots": slots[:MAX_SLOTS],
            "attendeeSchedules": [_available(world, a, start, end) for a in attendee_ids],
            "facilitatorSchedules": [_available(world, f, start, end) for f in facilitator_ids],
            "wfmScheduleActivities": [_activities(world, a, start, end) for a in attendee_ids]}


def rating(difference: float) -> str:
    if difference < 0:
        return "Poor"
    return "Good" if difference >= GOOD_AT else "Neutral"


def _candidates(start: datetime, end: datetime, minutes: int):
    cursor = floor_quarter(start)
    if cursor < start:
        cursor += timedelta(minutes=15)
    while cursor + timedelta(minutes=minutes) <= end:
        yield cursor
        cursor += timedelta(minutes=15)


def _on_queue_throughout(world, user_id: str, start: datetime, minutes: int) -> bool:
    needed = set(span(start, minutes))
    for shift in world.shifts_of(user_id):
        for activity in shift.activities:
            if activity.category == "OnQueueWork" and activity.external_id is None:
                needed -= set(span(activity.start, activity.minutes))
    return not needed


def _appointment_busy(world, user_ids: list[str], interruptible: set[str]):
    wanted = set(user_ids)
    busy = []
    for appointment in world.appointments.values():
        if appointment["id"] in interruptible or appointment["status"] == "Completed":
            continue
        people = {a["id"] for a in appointment["attendees"]} | {appointment["facilitator"]["id"]}
        if people & wanted:
            start = datetime.fromisoformat(appointment["dateStart"].replace("Z", "+00:00"))
            busy.append((start, start + timedelta(minutes=appointment["lengthInMinutes"])))
    return busy


def _surplus_lookup(world):
    """Per week: headcount minus required, computed now so booked coaching counts."""
    return {week.monday: (week, [h - r for h, r in zip(
        on_queue_headcount(week.shifts, reference=week.reference),
        required_from_groups(week.forecast), strict=True)]) for week in world.weeks.values()}


def _slot(world, start: datetime, minutes: int, surplus, attendees: int) -> dict | None:
    week = world.week_for(start)
    if week is None:
        return None
    values = surplus[week.monday][1]
    indexes = [interval_index(week.reference, t) for t in span(start, minutes)]
    difference = round(min(values[i] for i in indexes) - attendees, 2)
    return {"dateStart": iso(start), "lengthInMinutes": minutes,
            "staffingDifference": difference, "differenceRating": rating(difference),
            "wfmSchedule": schedule_ref(world, week)}


def _activities_between(world, user_id: str, start: datetime, end: datetime):
    return [(shift, a) for shift in world.shifts_of(user_id) for a in shift.activities
            if overlaps(a.start, a.end, start, end)]


def _available(world, user_id: str, start: datetime, end: datetime) -> dict:
    times = []
    for _shift, activity in _activities_between(world, user_id, start, end):
        week = world.week_for(activity.start)
        times.append({"dateStart": iso(activity.start), "lengthInMinutes": activity.minutes,
                      "isPaid": activity.paid, "activityCategory": activity.category,
                      "wfmSchedule": schedule_ref(world, week)})
    return {"user": user_ref(user_id), "availableTimes": times}


def _activities(world, user_id: str, start: datetime, end: datetime) -> dict:
    activities = []
    for _shift, activity in _activities_between(world, user_id, start, end):
        item = bu_activity(activity)
        activities.append({"dateStart": item.pop("startDate"), **_schedule_activity(item)})
    return {"userReference": user_ref(user_id), "activities": activities,
            "fullDayTimeOffMarkers": []}


def _schedule_activity(item: dict) -> dict:
    """ScheduleActivity has no payableMinutes; everything else matches BuAgentScheduleActivity."""
    item.pop("payableMinutes", None)
    return item
