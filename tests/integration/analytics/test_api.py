"""The /api/v1 analytics endpoints through HTTP with minted tokens: shapes, scope, errors."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl

import pytest

from extension.analytics.api import schemas
from extension.platform.auth import tokens
from tests.integration.analytics.conftest import RANGE

AGENT_URLS = {
    "metrics": "/api/v1/metrics?dims=agent_id&period=week",
    "agent": "/api/v1/agents/a01/performance",
    "team": "/api/v1/teams/t1/performance",
    "inquiries": "/api/v1/inquiries",
    "forecasts": "/api/v1/forecasts?subject=agent:a01&to=2025-04-13",
}


def get(client, url: str, headers: dict, **params):
    """GET with the generated data's interval (where the endpoint takes one) plus ``params``."""
    path, _, query = url.partition("?")
    dated = not path.endswith(("/forecasts", "/alerts"))
    merged = {**(RANGE if dated else {}), **dict(parse_qsl(query)), **params}
    return client.get(path, headers=headers, query_string=merged)


def test_metrics_rows_per_agent_and_week_with_the_chosen_metrics(client, loaded, token_for):
    response = get(client, "/api/v1/metrics", token_for("mgr", "manager"), dims="agent_id",
                   period="week", metrics="aht_s,csat,aes", limit=1000)
    assert response.status_code == 200
    body = response.get_json()
    assert not schemas.MetricsPage().validate(body)
    row = body["items"][0]
    assert set(row["metrics"]) == {"volume", "aht_s", "csat", "aes", "aes_fallback"}
    assert row["period"].startswith("2025-W") and len(row["period_start"]) == 10
    assert {r["agent_id"] for r in body["items"]} >= {"a00", "a38"}


def test_metrics_pages_with_a_cursor_until_the_end(client, loaded, token_for):
    headers, seen, cursor = token_for("mgr", "manager"), [], None
    while True:
        params = {"dims": "agent_id,channel", "limit": 25, **({"cursor": cursor} if cursor else {})}
        body = get(client, "/api/v1/metrics", headers, **params).get_json()
        seen += [(r["agent_id"], r["channel"]) for r in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    whole = get(client, "/api/v1/metrics", headers, dims="agent_id,channel", limit=1000).get_json()
    assert seen == [(r["agent_id"], r["channel"]) for r in whole["items"]]
    assert len(seen) > 25


def test_agent_performance_has_kpis_quartiles_impacts_and_team_comparison(client, loaded, token_for):
    response = get(client, "/api/v1/agents/a01/performance", token_for("a01", "agent"))
    assert response.status_code == 200
    body = response.get_json()
    assert not schemas.AgentPerformance().validate(body)
    assert body["kpis"]["volume"] > 0 and body["kpis"]["aes"] > 0
    assert {q["label"] for q in body["quartiles"]} <= {"Great", "Good", "Needs work"}
    assert len(body["impact"]["top"]) <= 3 and len(body["impact"]["bottom"]) <= 3
    assert body["team"]["aes"]["top_agent"] is not None


def test_team_performance_lists_every_member_even_without_interactions(client, loaded, token_for):
    response = get(client, "/api/v1/teams/t4/performance", token_for("sup-t4", "supervisor"), period="day")
    assert response.status_code == 200
    body = response.get_json()
    assert not schemas.TeamPerformance().validate(body)
    members = {m["agent_id"]: m for m in body["members"]}
    assert members["a39"]["series"] == []  # a39 has no interactions
    assert len(members["a03"]["series"]) > 20 and set(members["a03"]["series"][0]["metrics"]) >= {"aes", "qa"}
    assert sum(p["volume"] for p in body["team"]) == sum(
        p["volume"] for m in body["members"] for p in m["series"])


def test_inquiries_and_forecasts_answer(client, loaded, token_for):
    headers = token_for("mgr", "manager")
    inquiries = get(client, "/api/v1/inquiries", headers).get_json()
    assert not schemas.InquiriesPage().validate(inquiries)
    assert {i["inquiry"] for i in inquiries["items"]} == {"billing", "tech", "sales", "cancel", "moving"}
    forecast = get(client, "/api/v1/forecasts", headers, subject="team:t1", metric="aht_s", to="2025-04-13",
                   weeks=8)
    assert forecast.status_code == 200
    body = forecast.get_json()
    assert not schemas.ForecastResult().validate(body)
    assert len(body["points"]) == 4 and all(p["lo"] <= p["value"] <= p["hi"] for p in body["points"])


def test_alerts_are_listed_in_scope(client, loaded, db, token_for):
    from extension.analytics.models.facts import PerformanceAlert

    with db.session() as session:
        for subject in ("a01", "a02"):
            session.add(PerformanceAlert(tenant_id=loaded, key=f"r1|agent:{subject}|aht_s", kind="threshold",
                                         subject_type="agent", subject_id=subject, metric="aht_s",
                                         value=700.0, message="aht_s 700 > 600"))
    mine = get(client, "/api/v1/alerts", token_for("sup-t2", "supervisor")).get_json()  # a01's
    assert [a["subject_id"] for a in mine["items"]] == ["a01"]
    assert not schemas.AlertsPage().validate(mine)
    assert len(get(client, "/api/v1/alerts", token_for("mgr", "manager")).get_json()["items"]) == 2


@pytest.mark.parametrize(("person", "role", "expected"), [
    ("a01", "agent", {"metrics": 200, "agent": 200, "team": 403, "inquiries": 200, "forecasts": 200}),
    # a01 is on team t2
    ("sup-t2", "supervisor", {"metrics": 200, "agent": 200, "team": 403, "inquiries": 200, "forecasts": 200}),
    ("sup-t1", "supervisor", {"metrics": 200, "agent": 403, "team": 200, "inquiries": 200, "forecasts": 403}),
    ("mgr", "manager", {"metrics": 200, "agent": 200, "team": 200, "inquiries": 200, "forecasts": 200}),
])
def test_role_matrix(client, loaded, token_for, person, role, expected):
    headers = token_for(person, role)
    got = {name: get(client, url, headers).status_code for name, url in AGENT_URLS.items()}
    assert got == expected


def test_an_agent_reads_only_their_own_rows(client, loaded, token_for):
    body = get(client, "/api/v1/metrics", token_for("a01", "agent"), dims="agent_id").get_json()
    assert [r["agent_id"] for r in body["items"]] == ["a01"]
    other = get(client, "/api/v1/metrics", token_for("a01", "agent"), agent_id="a02")
    assert other.status_code == 403


def test_a_supervisor_sees_their_team_only(client, loaded, token_for):
    body = get(client, "/api/v1/metrics", token_for("sup-t1", "supervisor"), dims="team_id").get_json()
    assert [r["team_id"] for r in body["items"]] == ["t1"]


def test_the_stored_role_counts_not_the_tokens_claim(client, db, loaded, token_for):
    """A supervisor demoted in the database loses supervisor access at once, with the same
    token; a token claiming more than the stored role gets the stored role's rights only."""
    from extension.platform.models.people import Person

    supervisor = token_for("sup-t1", "supervisor")
    assert get(client, "/api/v1/teams/t1/performance", supervisor).status_code == 200
    with db.session() as session:
        session.get(Person, ("acme", "sup-t1")).role = "agent"
    assert get(client, "/api/v1/teams/t1/performance", supervisor).status_code == 403
    inflated = token_for("a01", "manager")
    assert get(client, "/api/v1/alerts", inflated).status_code == 403  # a01 is an agent


def test_an_agent_may_not_list_their_own_teams_daily_figures(client, loaded, token_for):
    """a01 is on team t2: the team view would show every teammate's daily KPIs."""
    assert get(client, "/api/v1/teams/t2/performance", token_for("a01", "agent")).status_code == 403
    assert get(client, "/api/v1/teams/t2/performance", token_for("sup-t2", "supervisor")).status_code == 200


def test_an_agent_may_not_read_alerts(client, loaded, token_for):
    response = get(client, "/api/v1/alerts", token_for("a01", "agent"))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(("url", "field"), [
    ("/api/v1/metrics?dims=agent_id,shoe_size", "dims"),
    ("/api/v1/metrics?metrics=aht_s,happiness", "metrics"),
    ("/api/v1/metrics?period=fortnight", "period"),
    ("/api/v1/metrics?from=2025-05-01&to=2025-04-01", "to"),
    ("/api/v1/metrics?from=2024-01-01&to=2025-12-31", "to"),
    ("/api/v1/metrics?from=yesterday", "from"),
    ("/api/v1/metrics?limit=0", "limit"),
    ("/api/v1/metrics?cursor=not-a-cursor", "cursor"),
    ("/api/v1/metrics?colour=blue", "colour"),
    ("/api/v1/teams/t1/performance?period=hour", "period"),
    ("/api/v1/forecasts?subject=planet:mars", "subject"),
    ("/api/v1/forecasts?subject=agent:a01&metric=vibes", "metric"),
    ("/api/v1/alerts?status=sleeping", "status"),
])
def test_bad_input_is_a_400_problem_naming_the_field(client, loaded, token_for, url, field):
    response = client.get(url, headers=token_for("mgr", "manager"))
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert field in [error["field"] for error in response.get_json()["errors"]]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic abc"])
def test_missing_or_invalid_tokens_are_401(client, loaded, header):
    response = client.get("/api/v1/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_tokens_and_foreign_keys_are_401(app, client, loaded):
    from datetime import UTC, datetime

    old = tokens.issue(app.config["SECRET_KEY"], tenant_id="acme", person_id="mgr", role="manager",
                       now=datetime.now(UTC) - timedelta(hours=2))
    forged = tokens.issue("another-key", tenant_id="acme", person_id="mgr", role="manager")
    unknown = tokens.issue(app.config["SECRET_KEY"], tenant_id="acme", person_id="ghost", role="admin")
    for token in (old, forged, unknown):
        assert client.get("/api/v1/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_every_api_route_is_in_the_openapi_document(app, client):
    from extension.platform.api.openapi import openapi_path

    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    routes = {openapi_path(r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")}
    assert routes <= set(document["paths"])
    metrics = document["paths"]["/api/v1/metrics"]["get"]
    assert {p["name"] for p in metrics["parameters"]} >= {"dims", "period", "from", "to", "metrics", "cursor"}
    assert "MetricsPage" in document["components"]["schemas"]
