"""Every request the Genesys sub-clients make must exist in the reference, with valid bodies.

All sub-client methods run against a recording fake host; each recorded (method, path) must
match one reference operation (path templates), its query names and enums must be declared,
and its JSON body must satisfy the operation's body model recursively.
"""

from __future__ import annotations

import inspect
import json
import re
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors.genesys import GenesysClient
from connectors.ratelimit import BucketSpec, InMemoryTokenBucket

from .reference import REFERENCE, check_model, check_query, check_value, find_operation

API = "https://api.mypurecloud.de"
LOGIN = "https://login.mypurecloud.de"
DOWNLOADS = "https://downloads.example"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
T1 = datetime(2025, 3, 7, 17, 0, tzinfo=UTC)
WEEK = date(2025, 3, 3)

pytestmark = pytest.mark.skipif(not REFERENCE.exists(), reason=f"no reference at {REFERENCE}")

FILTER = {
    "type": "and",
    "clauses": [
        {
            "type": "or",
            "predicates": [
                {
                    "type": "dimension",
                    "dimension": "conversationId",
                    "operator": "matches",
                    "value": "c1",
                }
            ],
        }
    ],
}
SEGMENT_FILTER = {
    "type": "and",
    "predicates": [{"type": "dimension", "dimension": "ani", "operator": "exists"}],
}
EVALUATION_FILTER = {
    "type": "or",
    "predicates": [{"type": "metric", "metric": "oTotalScore", "range": {"lt": 60}}],
}

# (sub-client, method, args, kwargs): every public method, with every optional field set.
SCENARIOS = [
    ("users", "list_users", (), {"state": "active", "expand": ["team"], "page_size": 50}),
    ("users", "get_user", ("u1",), {"expand": ["groups"]}),
    ("users", "direct_reports", ("u1",), {}),
    ("users", "list_groups", (), {}),
    ("users", "group_members", ("g1",), {}),
    ("users", "list_queues", (), {"name": "Support*"}),
    ("users", "queue_members", ("q1",), {}),
    (
        "coaching",
        "create_appointment",
        (),
        {
            "name": "Coaching",
            "description": "Pattern of negative calls",
            "date_start": T0,
            "length_in_minutes": 30,
            "attendee_ids": ["agent"],
            "facilitator_id": "sup",
            "conversation_ids": ["c1", "c2"],
            "document_ids": ["d1"],
            "wfm_schedule": {"id": "s1", "businessUnit": {"id": "bu"}, "weekDate": WEEK},
            "external_links": ["https://coachwire.example/plan/1"],
            "location": "Room 4",
            "share_insights_data": True,
            "add_to_schedule": True,
        },
    ),
    ("coaching", "get_appointment", ("a1",), {}),
    (
        "coaching",
        "list_appointments",
        (["agent"],),
        {"start": T0, "end": T1, "statuses": ["Scheduled"], "facilitator_ids": ["sup"]},
    ),
    (
        "coaching",
        "query_slots",
        (),
        {
            "start": T0,
            "end": T1,
            "length_in_minutes": 30,
            "attendee_ids": ["agent"],
            "facilitator_ids": ["sup"],
            "interruptible_appointment_ids": ["a0"],
        },
    ),
    ("wfm", "agent_management_unit", ("agent",), {}),
    ("wfm", "business_unit_settings", ("bu",), {}),
    ("wfm", "list_week_schedules", ("bu", WEEK), {"include_only_published": True}),
    (
        "wfm",
        "query_agent_schedules",
        ("bu", WEEK, "s1"),
        {"management_unit_id": "mu", "user_ids": ["agent"], "team_ids": ["t1"]},
    ),
    ("wfm", "activity_codes", ("bu",), {}),
    ("wfm", "list_short_term_forecasts", ("bu", WEEK), {}),
    ("wfm", "forecast_data", ("bu", WEEK, "f1"), {"week_number": 1}),
    ("sta", "conversation_metrics", ("c1",), {}),
    ("sta", "sentiments", ("c1",), {}),
    ("sta", "transcript_url", ("c1", "m1"), {}),
    ("sta", "download_transcript", (f"{DOWNLOADS}/transcript",), {}),
    ("sta", "transcript", ("c1", "m1"), {}),
    ("quality", "published_form", ("f1",), {}),
    ("quality", "evaluation", ("c1", "e1"), {}),
    (
        "quality",
        "query_evaluations",
        (),
        {
            "conversation_id": "c1",
            "agent_user_id": "agent",
            "evaluator_user_id": "qa",
            "assignee_user_id": "qa",
            "start_time": T0,
            "end_time": T1,
            "expand_answer_total_scores": True,
        },
    ),
    (
        "analytics",
        "conversation_details",
        (),
        {
            "start": T0,
            "end": T1,
            "conversation_filters": [FILTER],
            "segment_filters": [SEGMENT_FILTER],
            "evaluation_filters": [EVALUATION_FILTER],
            "order": "asc",
            "order_by": "conversationStart",
            "page_size": 1,
        },
    ),
    ("notifications", "create_channel", (), {}),
    ("notifications", "list_channels", (), {}),
    ("notifications", "subscribe", ("ch1", ["v2.quality.evaluations"]), {"ignore_errors": True}),
    (
        "notifications",
        "replace_subscriptions",
        ("ch1", ["v2.users.u1.workforcemanagement.schedules"]),
        {},
    ),
    ("notifications", "subscriptions", ("ch1",), {}),
    (
        "recognition",
        "create_recognition",
        (),
        {
            "recipient_id": "agent",
            "recognition_type": "ThankYou",
            "title": "Great save",
            "note": "Customer left happy",
            "context_type": "Interaction",
            "context_id": "c1",
        },
    ),
    ("recognition", "list_sent", (), {"recipient_id": "agent",
                                      "start": datetime(2025, 3, 3, tzinfo=UTC),
                                      "end": datetime(2025, 3, 4, tzinfo=UTC)}),
]


def canned(path: str) -> object:
    """Just enough of each response for the client code to go on (and page once)."""
    if path.endswith("/directreports"):
        return []
    if path.endswith("/details/query"):
        return {"conversations": [{"conversationId": "c"}], "totalHits": 2}
    if path.endswith("/transcripturl"):
        return {"url": f"{DOWNLOADS}/transcript"}
    if path.endswith(("/agentschedules/query", "/data")):
        return {"status": "Complete", "downloadUrl": f"{DOWNLOADS}/result"}
    return {"entities": [{"id": "e"}], "pageNumber": 1, "pageCount": 1}


@pytest.fixture(scope="module")
def recorded():
    calls = []

    def api(request):
        url = urlsplit(request.url)
        body = json.loads(request.body) if request.body else None
        calls.append((request.method, url.path, parse_qs(url.query), body))
        return 200, {"Content-Type": "application/json"}, json.dumps(canned(url.path))

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(f"{LOGIN}/oauth/token", json={"access_token": "t", "expires_in": 3600})
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            rsps.add_callback(method, re.compile(re.escape(API) + "/.*"), callback=api)
            rsps.add(method, re.compile(re.escape(DOWNLOADS) + "/.*"), json={})
        client = GenesysClient(
            api_base=API,
            login_base=LOGIN,
            client_id="c",
            client_secret="s",
            tenant_key="k",
            bucket=InMemoryTokenBucket(BucketSpec(capacity=1000, per_second=1000)),
            sleep=lambda s: None,
        )
        for attr, name, args, kwargs in SCENARIOS:
            result = getattr(getattr(client, attr), name)(*args, **kwargs)
            if inspect.isgenerator(result):
                list(result)
        yield client, calls


def test_every_public_sub_client_method_is_exercised(recorded):
    client, _ = recorded
    exercised = {(attr, name) for attr, name, _, _ in SCENARIOS}
    for attr, sub in vars(client).items():
        if attr == "transport":
            continue
        public = {n for n, _ in inspect.getmembers(sub, inspect.ismethod) if not n.startswith("_")}
        missing = {n for n in public if (attr, n) not in exercised}
        assert not missing, f"add contract scenarios for {attr}: {sorted(missing)}"


def test_every_call_is_a_reference_operation(recorded):
    _, calls = recorded
    assert len(calls) >= len(SCENARIOS)
    unknown = [(m, p) for m, p, _, _ in calls if find_operation(m, p) is None]
    assert not unknown, f"not in the reference: {unknown}"


def test_no_call_uses_a_deprecated_operation(recorded):
    _, calls = recorded
    deprecated = [
        find_operation(m, p)["path"] for m, p, _, _ in calls if find_operation(m, p)["deprecated"]
    ]
    assert not deprecated


def test_every_query_parameter_is_declared_with_valid_values(recorded):
    _, calls = recorded
    errors = [e for m, p, query, _ in calls for e in check_query(find_operation(m, p), query)]
    assert not errors, errors


def test_every_body_matches_its_operation_model(recorded):
    _, calls = recorded
    errors, checked = [], 0
    for method, path, _, body in calls:
        op = find_operation(method, path)
        if op["requestBody"] is None:
            assert body is None, f"{method} {path} sends a body the reference does not take"
            continue
        checked += 1
        errors += check_value(body, op["requestBody"]["model"], f"{method} {path}")
    assert checked >= 6  # coaching x2, wfm, analytics, notifications x2, recognition
    assert not errors, errors


def test_the_checker_catches_wrong_bodies():
    bad = {
        "name": "n",
        "dateStart": "tomorrow",
        "lengthInMinutes": "30",
        "attendeeIds": "a",
        "wfmSchedule": {"id": "s", "weekDate": "2025-3-3"},
        "colour": "red",
    }
    errors = " ".join(check_model(bad, "CreateCoachingAppointmentRequest", "body"))
    for expected in (
        "colour: not a field",
        "description: required",
        "dateStart",
        "lengthInMinutes",
        "attendeeIds",
        "businessUnit: required",
        "weekDate",
    ):
        assert expected in errors
    enum_errors = check_model(
        {"recipientId": "a", "type": "Kudos", "title": "t"}, "CreateRecognition", "body"
    )
    assert enum_errors and "Kudos" in enum_errors[0]


def test_the_path_matcher_rejects_invented_endpoints():
    assert find_operation("POST", "/api/v2/quality/coaching/appointments") is None
    assert find_operation("GET", "/api/v2/users/me")["path"] == "/api/v2/users/me"
    assert find_operation("GET", "/api/v2/users/123")["path"] == "/api/v2/users/{userId}"
