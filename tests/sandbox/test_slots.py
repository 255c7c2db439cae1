"""POST /api/v2/coaching/scheduleslots/query: slots come from on-queue time only and are ranked
by staffing surplus computed from the published schedule and the short-term forecast."""

from datetime import timedelta

from sandbox.staffing import interval_index, on_queue_headcount, required_from_groups
from sandbox.timeutil import iso, parse_dt

INTERVAL = "2025-06-12T00:00:00Z/2025-06-13T00:00:00Z"


def _query(api, agent_ids, minutes=30, **extra):
    return api("post", "/coaching/scheduleslots/query",
               json={"interval": INTERVAL, "lengthInMinutes": minutes,
                     "attendeeIds": agent_ids, **extra})


def _off_queue(world, agent_id):
    return [a for s in world.shifts_of(agent_id) for a in s.activities
            if a.category != "OnQueueWork"]


def test_slots_never_touch_breaks_meals_or_meetings(api, world):
    agent = world.agents[1]
    slots = _query(api, [agent.id]).json["suggestedSlots"]
    assert slots
    blocked = _off_queue(world, agent.id)
    for slot in slots:
        start = parse_dt(slot["dateStart"])
        end = start + timedelta(minutes=slot["lengthInMinutes"])
        assert not [a for a in blocked if a.start < end and start < a.end], slot
        assert start.minute % 15 == 0


def test_slots_lie_inside_the_agents_shift(api, world):
    agent = world.agents[2]
    shift = next(s for s in world.shifts_of(agent.id) if s.start.day == 12)
    for slot in _query(api, [agent.id]).json["suggestedSlots"]:
        assert shift.start <= parse_dt(slot["dateStart"]) < shift.end


def test_slots_are_ranked_by_staffing_surplus_and_rated(api, world):
    slots = _query(api, [world.agents[0].id]).json["suggestedSlots"]
    differences = [s["staffingDifference"] for s in slots]
    assert differences == sorted(differences, reverse=True)
    assert differences[0] > differences[-1], "surplus should vary through the day"
    for slot in slots:
        expected = ("Poor" if slot["staffingDifference"] < 0 else
                    "Good" if slot["staffingDifference"] >= 2 else "Neutral")
        assert slot["differenceRating"] == expected


def test_staffing_difference_is_scheduled_minus_forecast_after_removing_the_attendee(api, world):
    slot = _query(api, [world.agents[0].id]).json["suggestedSlots"][0]
    week = world.week_for(parse_dt(slot["dateStart"]))
    surplus = [h - r for h, r in zip(on_queue_headcount(week.shifts, reference=week.reference),
                                     required_from_groups(week.forecast), strict=True)]
    first = interval_index(week.reference, parse_dt(slot["dateStart"]))
    assert slot["staffingDifference"] == round(min(surplus[first:first + 2]) - 1, 2)


def test_booked_coaching_removes_the_slot(api, world):
    agent = world.agents[0]
    best = _query(api, [agent.id]).json["suggestedSlots"][0]
    api("post", "/coaching/appointments",
        json={"name": "c", "description": "d", "dateStart": best["dateStart"],
              "lengthInMinutes": 30, "attendeeIds": [agent.id], "addToSchedule": True})
    starts = [s["dateStart"] for s in _query(api, [agent.id]).json["suggestedSlots"]]
    assert best["dateStart"] not in starts


def test_facilitator_appointments_block_slots(api, world):
    agent, other = world.agents[0], world.agents[1]
    supervisor = world.supervisor_of(agent.id)
    best = _query(api, [agent.id], facilitatorIds=[supervisor.id]).json["suggestedSlots"][0]
    api("post", "/coaching/appointments",
        json={"name": "c", "description": "d", "dateStart": best["dateStart"],
              "lengthInMinutes": 30, "attendeeIds": [other.id], "facilitatorId": supervisor.id})
    again = _query(api, [agent.id], facilitatorIds=[supervisor.id]).json["suggestedSlots"]
    assert best["dateStart"] not in [s["dateStart"] for s in again]


def test_bad_requests(api, world):
    assert _query(api, [world.agents[0].id], minutes=25).status_code == 400
    assert _query(api, ["nobody"]).status_code == 400
    missing = api("post", "/coaching/scheduleslots/query", json={"lengthInMinutes": 30})
    assert missing.status_code == 400


def test_scheduleslots_can_be_switched_off(api, client, world):
    for mode, status in (("404", 404), ("501", 501)):
        client.post("/sandbox/control/scheduleslots", json={"mode": mode})
        response = _query(api, [world.agents[0].id])
        assert response.status_code == status and response.json["status"] == status
    client.post("/sandbox/control/scheduleslots", json={"mode": "on"})
    assert _query(api, [world.agents[0].id]).status_code == 200


def test_forecast_has_mid_morning_and_early_afternoon_peaks(world):
    week = sorted(world.weeks.values(), key=lambda w: w.monday)[0]
    required = required_from_groups(week.forecast)
    monday = week.reference  # Monday 00:00 local

    def at(hour, minute=0):
        return required[interval_index(week.reference, monday + timedelta(hours=hour,
                                                                          minutes=minute))]
    assert at(10, 30) > at(8) and at(10, 30) > at(12, 30)
    assert at(14) > at(12, 30) and at(14) > at(17)
    assert iso(monday).endswith("23:00:00.000Z")  # Europe/London in summer is UTC+1
