"""429 throttling control, reset, console page and state.json."""


def test_next_n_calls_answer_429_with_retry_after(api, client):
    client.post("/sandbox/control/throttle", json={"count": 2, "retryAfter": 3})
    for _ in range(2):
        response = api("get", "/users")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "3"
        assert response.json["code"] == "too.many.requests"
    assert api("get", "/users").status_code == 200


def test_throttle_does_not_apply_before_authentication(client):
    client.post("/sandbox/control/throttle", json={"count": 1})
    assert client.get("/api/v2/users").status_code == 401


def test_reset_clears_appointments_and_keeps_ids(api, client, world):
    agent = world.agents[0]
    api("post", "/coaching/appointments",
        json={"name": "c", "description": "d", "dateStart": "2025-06-12T09:00:00Z",
              "lengthInMinutes": 15, "attendeeIds": [agent.id]})
    client.post("/sandbox/control/reset")
    state = client.get("/sandbox/state.json").json
    assert state["appointments"] == [] and agent.id in state["people"]


def test_console_lists_appointments_without_external_assets(api, client, world):
    agent = world.agents[0]
    api("post", "/coaching/appointments",
        json={"name": "Tone review", "description": "d", "dateStart": "2025-06-12T09:00:00Z",
              "lengthInMinutes": 15, "attendeeIds": [agent.id], "conversationIds": ["conv-9"]})
    api("post", "/employeeengagement/recognitions",
        json={"recipientId": agent.id, "type": "ThankYou", "title": "Great save"})
    page = client.get("/sandbox/").get_data(as_text=True)
    assert agent.name in page and "conv-9" in page and "Great save" in page
    assert 'http-equiv="refresh"' in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_recognition_validation(api, world):
    ok = {"recipientId": world.agents[0].id, "type": "ThankYou", "title": "t"}
    for bad in ({**ok, "type": "HighFive"}, {**ok, "recipientId": "nobody"},
                {**ok, "title": "x" * 101}, {**ok, "contextType": "Call"}, {"title": "t"}):
        assert api("post", "/employeeengagement/recognitions", json=bad).status_code == 400
    assert api("post", "/employeeengagement/recognitions", json=ok).status_code == 200
