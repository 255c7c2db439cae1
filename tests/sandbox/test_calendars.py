"""Microsoft Graph getSchedule and Google freeBusy stand-ins."""


def _graph(client):
    token = client.post("/graph/oauth2/tenant-1/oauth2/v2.0/token",
                        data={"grant_type": "client_credentials", "client_id": "graph-client",
                              "client_secret": "graph-secret", "scope": "x"}).json
    return {"Authorization": f"Bearer {token['access_token']}"}


def _google(client):
    token = client.post("/google/token", data={"grant_type": "refresh_token",
                                               "refresh_token": "google-refresh",
                                               "client_id": "google-client",
                                               "client_secret": "google-secret"}).json
    return {"Authorization": f"Bearer {token['access_token']}"}


BODY = {"schedules": ["sup1@sandbox.test", "ghost@sandbox.test"],
        "startTime": {"dateTime": "2025-06-12T08:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2025-06-12T16:00:00", "timeZone": "UTC"},
        "availabilityViewInterval": 30}


def test_get_schedule_returns_busy_blocks_and_an_availability_view(client):
    response = client.post("/graph/v1.0/users/sup1@sandbox.test/calendar/getSchedule",
                           json=BODY, headers=_graph(client))
    assert response.status_code == 200
    known, unknown = response.json["value"]
    assert known["scheduleId"] == "sup1@sandbox.test" and len(known["availabilityView"]) == 16
    assert known["scheduleItems"] and {"start", "end", "status", "subject"} <= set(
        known["scheduleItems"][0])
    assert known["scheduleItems"][0]["start"]["timeZone"] == "UTC"
    # 09:00 London stand-up = 08:00 UTC in June: first half hour is busy.
    assert known["availabilityView"][0] == "2"
    assert unknown["error"]["responseCode"]


def test_get_schedule_accepts_the_sdks_pascal_case(client):
    pascal = {k[0].upper() + k[1:]: v for k, v in BODY.items()}
    response = client.post("/graph/v1.0/users/x/calendar/getSchedule", json=pascal,
                           headers=_graph(client))
    assert response.json["value"][0]["availabilityView"]


def test_graph_needs_its_token(client):
    assert client.post("/graph/v1.0/users/x/calendar/getSchedule", json=BODY).status_code == 401
    bad = client.post("/graph/oauth2/t/oauth2/v2.0/token",
                      data={"grant_type": "client_credentials", "client_id": "graph-client",
                            "client_secret": "wrong"})
    assert bad.status_code == 401


def test_free_busy_lists_busy_periods_per_calendar(client):
    body = {"timeMin": "2025-06-12T00:00:00Z", "timeMax": "2025-06-13T00:00:00Z",
            "items": [{"id": "sup2@sandbox.test"}, {"id": "ghost@sandbox.test"}]}
    response = client.post("/google/calendar/v3/freeBusy", json=body, headers=_google(client))
    assert response.status_code == 200
    assert response.json["kind"] == "calendar#freeBusy"
    calendars = response.json["calendars"]
    assert calendars["sup2@sandbox.test"]["busy"][0] == {"start": "2025-06-12T08:00:00Z",
                                                          "end": "2025-06-12T08:30:00Z"}
    assert calendars["ghost@sandbox.test"]["errors"][0]["reason"] == "notFound"
    assert client.post("/google/calendar/v3/freeBusy", json=body).status_code == 401
