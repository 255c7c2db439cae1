import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest

from connectors.calendars import CalendarUnavailable, GoogleCalendar, GraphCalendar
from connectors.errors import Forbidden

LOGIN = "https://login.sandbox.test"
GRAPH = "https://graph.sandbox.test/v1.0"
GOOGLE = "https://google.sandbox.test"
START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
END = datetime(2025, 3, 3, 18, 0, tzinfo=UTC)


def graph(sleeps):
    return GraphCalendar(
        tenant_id="contoso",
        client_id="app",
        client_secret="s3cret",
        login_base=LOGIN,
        graph_base=GRAPH,
        sleep=sleeps,
    )


def item(status, start, end):
    return {
        "status": status,
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": end, "timeZone": "UTC"},
    }


def test_graph_counts_tentative_busy_and_oof_but_not_working_elsewhere(mocked, sleeps):
    mocked.post(
        f"{LOGIN}/contoso/oauth2/v2.0/token", json={"access_token": "g", "expires_in": 3599}
    )
    mocked.post(
        f"{GRAPH}/users/sup@contoso.com/calendar/getSchedule",
        json={
            "value": [
                {
                    "scheduleId": "sup@contoso.com",
                    "scheduleItems": [
                        item("busy", "2025-03-03T13:00:00.0000000", "2025-03-03T14:00:00.0000000"),
                        item(
                            "workingElsewhere",
                            "2025-03-03T08:00:00.0000000",
                            "2025-03-03T18:00:00.0000000",
                        ),
                        item("oof", "2025-03-03T16:00:00.0000000", "2025-03-03T17:00:00.0000000"),
                        item(
                            "tentative",
                            "2025-03-03T09:00:00.0000000",
                            "2025-03-03T09:30:00.0000000",
                        ),
                        item("free", "2025-03-03T10:00:00.0000000", "2025-03-03T11:00:00.0000000"),
                    ],
                }
            ]
        },
    )
    busy = graph(sleeps).busy_intervals("sup@contoso.com", START, END)
    hours = [(s.hour, s.minute, e.hour, e.minute) for s, e in busy]
    assert hours == [(9, 0, 9, 30), (13, 0, 14, 0), (16, 0, 17, 0)]
    assert all(s.tzinfo is not None and s.utcoffset() == timedelta(0) for s, _ in busy)


def test_graph_request_uses_client_credentials_and_utc(mocked, sleeps):
    mocked.post(
        f"{LOGIN}/contoso/oauth2/v2.0/token", json={"access_token": "g", "expires_in": 3599}
    )
    mocked.post(f"{GRAPH}/users/sup@contoso.com/calendar/getSchedule", json={"value": [{}]})
    paris = timezone(timedelta(hours=1))
    graph(sleeps).busy_intervals("sup@contoso.com", START.astimezone(paris), END)
    token_form = parse_qs(mocked.calls[0].request.body)
    assert token_form["grant_type"] == ["client_credentials"]
    assert token_form["scope"] == ["https://graph.microsoft.com/.default"]
    sent = mocked.calls[1].request
    assert sent.headers["Authorization"] == "Bearer g"
    assert sent.headers["Prefer"] == 'outlook.timezone="UTC"'
    assert json.loads(sent.body) == {
        "schedules": ["sup@contoso.com"],
        "startTime": {"dateTime": "2025-03-03T08:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2025-03-03T18:00:00", "timeZone": "UTC"},
        "availabilityViewInterval": 15,
    }


def test_graph_converts_iana_zones_to_utc(mocked, sleeps):
    mocked.post(f"{LOGIN}/contoso/oauth2/v2.0/token", json={"access_token": "g"})
    berlin = {
        "status": "busy",
        "start": {"dateTime": "2025-03-03T10:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2025-03-03T11:00:00", "timeZone": "Europe/Berlin"},
    }
    mocked.post(
        f"{GRAPH}/users/x@c.com/calendar/getSchedule",
        json={"value": [{"scheduleId": "x@c.com", "scheduleItems": [berlin]}]},
    )
    [(start, end)] = graph(sleeps).busy_intervals("x@c.com", START, END)
    assert (start.hour, end.hour) == (9, 10)


def test_graph_schedule_error_is_typed(mocked, sleeps):
    mocked.post(f"{LOGIN}/contoso/oauth2/v2.0/token", json={"access_token": "g"})
    mocked.post(
        f"{GRAPH}/users/ghost@c.com/calendar/getSchedule",
        json={
            "value": [
                {
                    "scheduleId": "ghost@c.com",
                    "error": {
                        "message": "mailbox not found",
                        "responseCode": "ErrorMailboxNotFound",
                    },
                }
            ]
        },
    )
    with pytest.raises(CalendarUnavailable) as caught:
        graph(sleeps).busy_intervals("ghost@c.com", START, END)
    assert caught.value.reason == "ErrorMailboxNotFound"


def test_graph_token_is_reused(mocked, sleeps):
    mocked.post(
        f"{LOGIN}/contoso/oauth2/v2.0/token", json={"access_token": "g", "expires_in": 3599}
    )
    mocked.post(f"{GRAPH}/users/a@c.com/calendar/getSchedule", json={"value": [{}]})
    calendar = graph(sleeps)
    calendar.busy_intervals("a@c.com", START, END)
    calendar.busy_intervals("a@c.com", START, END)
    assert sum(c.request.url.endswith("/token") for c in mocked.calls) == 1


def google(sleeps, tokens=None):
    tokens = tokens if tokens is not None else ["gt"]
    return GoogleCalendar(token=lambda: tokens[0], google_base=GOOGLE, sleep=sleeps)


def test_google_freebusy_returns_busy_periods_in_utc(mocked, sleeps):
    mocked.post(
        f"{GOOGLE}/calendar/v3/freeBusy",
        json={
            "kind": "calendar#freeBusy",
            "calendars": {
                "sup@x.com": {
                    "busy": [
                        {"start": "2025-03-03T15:00:00+01:00", "end": "2025-03-03T16:00:00+01:00"},
                        {"start": "2025-03-03T09:00:00Z", "end": "2025-03-03T09:30:00Z"},
                    ]
                }
            },
        },
    )
    busy = google(sleeps).busy_intervals("sup@x.com", START, END)
    assert busy == [
        (datetime(2025, 3, 3, 9, 0, tzinfo=UTC), datetime(2025, 3, 3, 9, 30, tzinfo=UTC)),
        (datetime(2025, 3, 3, 14, 0, tzinfo=UTC), datetime(2025, 3, 3, 15, 0, tzinfo=UTC)),
    ]
    assert json.loads(mocked.calls[0].request.body) == {
        "timeMin": "2025-03-03T08:00:00Z",
        "timeMax": "2025-03-03T18:00:00Z",
        "timeZone": "UTC",
        "items": [{"id": "sup@x.com"}],
    }
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer gt"


def test_google_calendar_errors_are_typed(mocked, sleeps):
    mocked.post(
        f"{GOOGLE}/calendar/v3/freeBusy",
        json={
            "calendars": {"nobody@x.com": {"errors": [{"domain": "global", "reason": "notFound"}]}}
        },
    )
    with pytest.raises(CalendarUnavailable) as caught:
        google(sleeps).busy_intervals("nobody@x.com", START, END)
    assert caught.value.reason == "notFound"


def test_google_missing_calendar_is_not_treated_as_free(mocked, sleeps):
    mocked.post(f"{GOOGLE}/calendar/v3/freeBusy", json={"calendars": {}})
    with pytest.raises(CalendarUnavailable):
        google(sleeps).busy_intervals("sup@x.com", START, END)


def test_google_asks_the_token_callable_again_after_a_401(mocked, sleeps):
    issued = []

    def token():  # the caller's supplier: a fresh token from the second call on
        issued.append(1)
        return "old" if len(issued) == 1 else "new"

    mocked.post(f"{GOOGLE}/calendar/v3/freeBusy", status=401)
    mocked.post(f"{GOOGLE}/calendar/v3/freeBusy", json={"calendars": {"a": {"busy": []}}})
    calendar = GoogleCalendar(token=token, google_base=GOOGLE, sleep=sleeps)
    assert calendar.busy_intervals("a", START, END) == []
    auth = [c.request.headers["Authorization"] for c in mocked.calls]
    assert auth == ["Bearer old", "Bearer new"]


def test_google_403_is_forbidden_without_retry(mocked, sleeps):
    mocked.post(f"{GOOGLE}/calendar/v3/freeBusy", status=403)
    with pytest.raises(Forbidden):
        google(sleeps).busy_intervals("a", START, END)
    assert len(mocked.calls) == 1
