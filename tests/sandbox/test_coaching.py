"""Appointment validation, storage, schedule placement and listing."""

import pytest

from sandbox.timeutil import iso


def _body(world, **overrides):
    agent = world.agents[0]
    body = {"name": "Coaching", "description": "Tone review", "lengthInMinutes": 30,
            "dateStart": "2025-06-12T09:00:00Z", "attendeeIds": [agent.id],
            "facilitatorId": world.supervisor_of(agent.id).id}
    return {**body, **overrides}


@pytest.mark.parametrize("change, field", [
    ({"name": None}, "name"), ({"attendeeIds": []}, "attendeeIds"),
    ({"lengthInMinutes": 20}, "lengthInMinutes"), ({"lengthInMinutes": 75}, "lengthInMinutes"),
    ({"lengthInMinutes": "30"}, "lengthInMinutes"), ({"dateStart": "tomorrow"}, "dateStart"),
    ({"attendeeIds": ["nobody"]}, "attendeeIds"), ({"facilitatorId": "nobody"}, "facilitatorId"),
])
def test_invalid_appointments_are_rejected_naming_the_field(api, world, change, field):
    response = api("post", "/coaching/appointments", json=_body(world, **change))
    assert response.status_code == 400
    assert field in [d["fieldName"] for d in response.json["details"]]


def test_a_valid_appointment_is_stored_and_readable(api, world):
    created = api("post", "/coaching/appointments", json=_body(world, conversationIds=["c1"]))
    assert created.status_code == 200
    body = created.json
    assert body["status"] == "Scheduled" and body["conversations"][0]["id"] == "c1"
    assert api("get", f"/coaching/appointments/{body['id']}").json == body
    assert api("get", "/coaching/appointments/unknown").status_code == 404


def test_date_start_is_rounded_down_to_the_minute(api, world):
    created = api("post", "/coaching/appointments",
                  json=_body(world, dateStart="2025-06-12T09:00:42.500Z"))
    assert created.json["dateStart"] == "2025-06-12T09:00:00.000Z"


def test_add_to_schedule_puts_a_coaching_activity_on_the_shift(api, world):
    agent = world.agents[0]
    start = _first_on_queue(world, agent.id)
    created = api("post", "/coaching/appointments",
                  json=_body(world, dateStart=iso(start), addToSchedule=True)).json
    assert created["status"] == "Scheduled"
    assert created["wfmSchedule"]["businessUnit"]["id"] == world.bu_id
    activities = [a for s in world.shifts_of(agent.id) for a in s.activities]
    coaching = [a for a in activities if a.external_id == created["id"]]
    assert len(coaching) == 1 and coaching[0].external_type == "Coaching"
    assert coaching[0].start == start and coaching[0].minutes == 30


def test_a_slot_over_a_break_cannot_go_on_the_schedule(api, world):
    agent = world.agents[0]
    brk = next(a for s in world.shifts_of(agent.id) for a in s.activities
               if a.category == "Break")
    created = api("post", "/coaching/appointments",
                  json=_body(world, dateStart=iso(brk.start), addToSchedule=True)).json
    assert created["status"] == "InvalidSchedule"
    assert not [a for s in world.shifts_of(agent.id) for a in s.activities
                if a.external_id == created["id"]]


def test_listing_requires_user_ids_and_filters_by_interval(api, world):
    agent = world.agents[0]
    api("post", "/coaching/appointments", json=_body(world))
    api("post", "/coaching/appointments", json=_body(world, dateStart="2025-06-17T10:00:00Z"))
    assert api("get", "/coaching/appointments").status_code == 400
    everything = api("get", f"/coaching/appointments?userIds={agent.id}").json
    assert everything["total"] == 2
    week = api("get", f"/coaching/appointments?userIds={agent.id}"
                      "&interval=2025-06-09T00:00:00Z/2025-06-16T00:00:00Z").json
    assert [a["dateStart"] for a in week["entities"]] == ["2025-06-12T09:00:00.000Z"]
    other = api("get", f"/coaching/appointments?userIds={world.agents[5].id}").json
    assert other["total"] == 0


def _first_on_queue(world, agent_id):
    shift = next(s for s in world.shifts_of(agent_id) if s.start.day == 12)
    activity = next(a for a in shift.activities if a.category == "OnQueueWork")
    return activity.start
