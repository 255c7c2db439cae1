"""The fault mode of the effect endpoints: a host that commits a create and then loses the
answer (502 or a late answer), or one that is down (503), per endpoint and per N-th request."""

from __future__ import annotations

import pytest
import requests

APPOINTMENTS = "/api/v2/coaching/appointments"
RECOGNITIONS = "/api/v2/employeeengagement/recognitions"


def _appointment(agent_id: str) -> dict:
    return {"name": "n", "description": "d", "dateStart": "2025-06-12T09:00:00Z",
            "lengthInMinutes": 15, "attendeeIds": [agent_id]}


def test_commit_then_502_keeps_the_appointment_and_answers_502(api, client, world):
    armed = client.post("/sandbox/control/faults",
                        json={"path": APPOINTMENTS, "mode": "commit_then_502", "times": 1})
    assert armed.status_code == 200
    first = api("post", "/coaching/appointments", json=_appointment(world.agents[0].id))
    second = api("post", "/coaching/appointments", json=_appointment(world.agents[0].id))
    assert first.status_code == 502 and first.json["status"] == 502
    assert second.status_code == 200
    assert len(world.appointments) == 2  # the 502 one was committed all the same


def test_every_nth_request_fails_and_other_endpoints_are_untouched(api, client, world):
    client.post("/sandbox/control/faults",
                json={"path": RECOGNITIONS, "mode": "commit_then_502", "every": 2})
    body = {"recipientId": world.agents[0].id, "type": "ThankYou", "title": "t"}
    statuses = [api("post", "/employeeengagement/recognitions", json=body).status_code
                for _ in range(4)]
    assert statuses == [200, 502, 200, 502]
    assert len(world.recognitions) == 4
    assert api("post", "/coaching/appointments",
               json=_appointment(world.agents[0].id)).status_code == 200
    assert api("get", "/employeeengagement/recognitions").status_code == 200  # GET: no rule
    rule = client.get("/sandbox/state.json").json["controls"]["faults"][0]
    assert (rule["seen"], rule["made"]) == (4, 2)


def test_503_refuses_without_committing_until_cleared(api, client, world):
    client.post("/sandbox/control/faults", json={"path": APPOINTMENTS, "mode": "503"})
    assert api("post", "/coaching/appointments",
               json=_appointment(world.agents[0].id)).status_code == 503
    assert world.appointments == {}
    assert client.delete("/sandbox/control/faults").json == {"cleared": 1}
    assert api("post", "/coaching/appointments",
               json=_appointment(world.agents[0].id)).status_code == 200


def test_a_calendar_path_fault_is_an_outage(client):
    client.post("/sandbox/control/faults",
                json={"path": "/graph/v1.0/users/*", "mode": "commit_then_502"})
    answer = client.post("/graph/v1.0/users/someone@example.test/calendar/getSchedule", json={})
    assert answer.status_code == 503


def test_bad_fault_requests_name_the_field(client):
    for body, field in (({"path": "/api/v2/users", "mode": "503"}, "path"),
                        ({"path": APPOINTMENTS, "mode": "explode"}, "mode"),
                        ({"path": APPOINTMENTS, "mode": "503", "every": 0}, "every")):
        answer = client.post("/sandbox/control/faults", json=body)
        assert answer.status_code == 400 and field in answer.json["message"]
    assert client.get("/sandbox/state.json").json["controls"]["faults"] == []


def test_commit_then_sleep_answers_after_the_callers_timeout(live):
    base, app = live
    token = requests.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=("sandbox-client", "sandbox-secret"), timeout=5).json()
    requests.post(f"{base}/sandbox/control/faults", timeout=5,
                  json={"path": APPOINTMENTS, "mode": "commit_then_sleep", "seconds": 3})
    agent = app.extensions["sandbox"].world.agents[0]
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{base}{APPOINTMENTS}", json=_appointment(agent.id), timeout=(3, 1.0),
                      headers={"Authorization": f"Bearer {token['access_token']}"})
    assert len(app.extensions["sandbox"].world.appointments) == 1  # committed all the same
