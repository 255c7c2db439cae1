"""The sandbox's analytics endpoints: reference shapes (official SDK models), the world's data."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from sandbox.analytics import history, notification_messages
from sandbox.app import create_app
from tests.integration.analytics.sync.conftest import NOW
from tests.sandbox.sdk import conforms

BASIC = "Basic " + base64.b64encode(b"sandbox-client:sandbox-secret").decode()
QUERY = "/api/v2/analytics/conversations/details/query"
JOBS = "/api/v2/analytics/conversations/details/jobs"


@pytest.fixture
def host():
    app = create_app(seed=7, now=NOW)
    client = app.test_client()
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        headers={"Authorization": BASIC}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def call(method, path, **kwargs):
        return getattr(client, method)(path, headers=headers, **kwargs)

    return app, call


def _interval(days: int) -> str:
    return f"{(NOW - timedelta(days=days)).isoformat()}/{NOW.isoformat()}"


def test_details_query_pages_with_reference_shapes_and_world_data(host):
    app, call = host
    world = app.extensions["sandbox"].world
    first = call("post", QUERY, json={"interval": _interval(3),
                                      "paging": {"pageSize": 10, "pageNumber": 1}})
    assert first.status_code == 200
    conforms(first.json, "AnalyticsConversationQueryResponse")
    total = first.json["totalHits"]
    pages = [first.json["conversations"]]
    for number in range(2, -(-total // 10) + 1):
        paging = {"pageSize": 10, "pageNumber": number}
        page = call("post", QUERY, json={"interval": _interval(3), "paging": paging})
        pages.append(page.json["conversations"])
    seen = [c for page in pages for c in page]
    assert len(seen) == total == len({c["conversationId"] for c in seen}) > 20
    agents, queues = {a.id for a in world.agents}, {q.id for q in world.queues}
    for conversation in seen:
        agent = next(p for p in conversation["participants"] if p["purpose"] == "agent")
        assert agent["userId"] in agents
        segments = agent["sessions"][0]["segments"]
        assert {s["queueId"] for s in segments} <= queues
        assert {s["wrapUpCode"] for s in segments if "wrapUpCode" in s} <= set(world.wrapup_codes.values())
    again = call("post", QUERY, json={"interval": _interval(3), "paging": {"pageSize": 10, "pageNumber": 1}})
    assert again.json == first.json  # history is a function of the seed and the day


def test_async_job_lifecycle_and_cursor_paging(host):
    _, call = host
    submitted = call("post", JOBS, json={"interval": _interval(7), "order": "asc"})
    assert submitted.status_code == 202
    conforms(submitted.json, "AsyncQueryResponse")
    job = f"{JOBS}/{submitted.json['jobId']}"
    assert call("get", f"{job}/results").status_code == 400  # not done yet
    states = [call("get", job).json for _ in range(2)]
    for status in states:
        conforms(status, "AsyncQueryStatus")
    assert [s["state"] for s in states] == ["PENDING", "FULFILLED"]
    found, cursor = [], None
    while True:
        args = {"pageSize": 9, **({"cursor": cursor} if cursor else {})}
        page = call("get", f"{job}/results", query_string=args)
        conforms(page.json, "AnalyticsConversationAsyncQueryResponse")
        found += page.json["conversations"]
        cursor = page.json.get("cursor")
        if not cursor:
            break
    query = call("post", QUERY, json={"interval": _interval(7), "paging": {"pageSize": 100, "pageNumber": 1}})
    assert [c["conversationId"] for c in found] == [c["conversationId"] for c in query.json["conversations"]]


@pytest.mark.parametrize("body", [{}, {"interval": "nonsense"}, {"interval": _interval(40)},
                                  {"interval": _interval(1), "order": "sideways"},
                                  {"interval": _interval(1), "paging": {"pageSize": 500, "pageNumber": 1}}])
def test_bad_queries_are_400(host, body):
    _, call = host
    response = call("post", QUERY, json=body)
    assert response.status_code == 400
    conforms(response.json, "ErrorBody")


def test_unknown_job_is_404(host):
    _, call = host
    assert call("get", f"{JOBS}/nope").status_code == 404


def test_live_messages_match_the_topic_models_and_the_history(host):
    app, _ = host
    world = app.extensions["sandbox"].world
    conversation = next(c for c in history(world, NOW - timedelta(days=1), NOW, per_day=8, now=NOW)
                        if c.get("conversationEnd"))
    end, acw = notification_messages(world, conversation)
    conforms(end["eventBody"], "UserEndDetailEventTopicUserEndEvent")
    conforms(acw["eventBody"], "AcwDetailEventTopicAfterCallWorkEvent")
    ids = {end["eventBody"]["conversationId"], acw["eventBody"]["conversationId"]}
    assert ids == {conversation["conversationId"]}
