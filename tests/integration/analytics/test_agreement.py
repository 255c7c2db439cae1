"""Figures that agree: the agent view is one computation, and the team series flag an AES that
fell back to AHT as /api/v1/metrics does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from extension.analytics import facts as analytics
from extension.analytics.api import schemas
from extension.analytics.peers import PeerCache
from tests.factories import add_people, bearer
from tests.integration.analytics.conftest import RANGE


def _get(client, url, headers, **params):
    response = client.get(url, headers=headers, query_string={**RANGE, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _agrees_with_itself(body: dict) -> None:
    assert not schemas.AgentPerformance().validate(body)
    volume = body["kpis"]["volume"]
    assert volume == sum(row["volume"] for row in body["inquiries"])
    assert volume == sum(q["volume"] for q in body["quartiles"])
    assert body["team"]["aes"]["agent"] == body["kpis"]["aes"]
    assert body["team"]["csat"]["agent"] == body["kpis"]["csat"]


def test_the_agent_view_is_one_snapshot_even_after_new_interactions(app, client, db, loaded, token_for):
    app.extensions["coachwire.peers"] = PeerCache(ttl_seconds=3600)
    headers = token_for("mgr", "manager")
    before = _get(client, "/api/v1/agents/a01/performance", headers)
    _agrees_with_itself(before)
    with db.session() as session:  # three more interactions arrive while the snapshot is cached
        analytics.upsert_facts(session, tenant_id=loaded, records=[{
            "conversation_id": f"late-{i}", "agent_id": "a01", "team_id": before["team_id"],
            "inquiry": "late", "channel": "voice", "ended_at": datetime(2025, 12, 1, 10 + i, tzinfo=UTC),
            "t_handle_ms": 300000, "t_talk_ms": 250000, "csat": 1.0} for i in range(3)])
    cached = _get(client, "/api/v1/agents/a01/performance", headers)
    _agrees_with_itself(cached)
    assert cached == before  # the same snapshot: the same figures, as of the same moment

    app.extensions["coachwire.peers"] = PeerCache(ttl_seconds=0)
    fresh = _get(client, "/api/v1/agents/a01/performance", headers)
    _agrees_with_itself(fresh)
    assert fresh["kpis"]["volume"] == before["kpis"]["volume"] + 3
    live = _get(client, "/api/v1/metrics", headers, agent_id="a01", metrics="aes")["items"]
    assert live[0]["metrics"]["volume"] == fresh["kpis"]["volume"]
    for body in (before, fresh):  # the view says as of when all of it was summed
        assert body["as_of"] == body["peers_as_of"]
    assert datetime.fromisoformat(fresh["as_of"]) > datetime.fromisoformat(before["as_of"])


DAY = datetime(2025, 6, 10, 9, 0, tzinfo=UTC)


def test_team_series_flag_an_aes_that_fell_back_to_aht_as_metrics_does(app, client, db, tenant):
    tenant_id = tenant[0]
    add_people(db, tenant_id, [("e1", "agent", "t1", None), ("v1", "agent", "t1", None),
                               ("mgr", "manager", None, None)])
    email = [{"conversation_id": f"e{i}", "agent_id": "e1", "team_id": "t1", "channel": "email",
              "ended_at": DAY + timedelta(minutes=i), "t_handle_ms": 600000 + i} for i in range(3)]
    voice = [{"conversation_id": f"v{i}", "agent_id": "v1", "team_id": "t1", "channel": "voice",
              "ended_at": DAY + timedelta(days=1, minutes=i), "t_handle_ms": 200000,
              "p_satisfaction": 0.8, "p_resolution": 0.5} for i in range(2)]
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id=tenant_id, records=email + voice)
    headers, span = bearer(app, "mgr", "manager"), {"from": "2025-06-09", "to": "2025-06-12"}
    view = client.get("/api/v1/teams/t1/performance", headers=headers,
                      query_string={**span, "period": "day", "metrics": "aes"}).get_json()
    cells = client.get("/api/v1/metrics", headers=headers, query_string={
        **span, "team_id": "t1", "dims": "team_id", "period": "day", "metrics": "aes"}).get_json()["items"]
    assert not schemas.TeamPerformance().validate(view)
    team = [(p["period_start"], p["metrics"]["aes"], p["metrics"]["aes_fallback"]) for p in view["team"]]
    assert team == [(c["period_start"], c["metrics"]["aes"], c["metrics"]["aes_fallback"]) for c in cells]
    assert [t[2] for t in team] == ["aht", None]
    members = {m["agent_id"]: [p["metrics"]["aes_fallback"] for p in m["series"]] for m in view["members"]}
    assert members == {"e1": ["aht"], "v1": [None]}
