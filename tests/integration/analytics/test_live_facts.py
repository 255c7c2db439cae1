"""Live interactions reach the analytics facts with the agent's team and the latest wrap-up, so
/api/v1/metrics?team_id= and /api/v1/teams/<id>/performance give the same figures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from extension.analytics import facts as analytics
from extension.analytics.models.facts import InteractionFact
from extension.platform.models.people import Person
from extension.platform.queue import get_dispatcher
from handlers import jobs
from tests.factories import add_people, bearer
from tests.helpers import dumps, signed_headers

DAY = datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
SPAN = {"from": "2025-06-09", "to": "2025-06-12"}
PEOPLE = [("ag1", "agent", "t1", "sup1"), ("ag2", "agent", "t1", "sup1"), ("ag3", "agent", "t2", None),
          ("sup1", "supervisor", "t1", None), ("mgr", "manager", None, None)]


@pytest.fixture
def world(tenant, db):
    add_people(db, tenant[0], PEOPLE)
    return tenant


def ended(conversation_id: str, *, agent: str, minutes: int = 0, wrapup: str | None = "w-billing",
          queue: str | None = "q1") -> dict:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "test", "type": "conversation.ended",
            "time": (DAY + timedelta(minutes=minutes)).isoformat(),
            "data": {"conversation_id": conversation_id, "agent_id": agent, "queue_id": queue,
                     "channel": "voice", "t_talk_ms": 60000 + minutes, "t_hold_ms": 0, "t_acw_ms": 10000,
                     "wrapup_code": wrapup, "ended_at": (DAY + timedelta(minutes=minutes)).isoformat()}}


def deliver(app, client, run_jobs, tenant, events: list[dict]) -> None:
    tenant_id, secret = tenant
    body = dumps({"events": events})
    response = client.post(f"/webhooks/{tenant_id}", data=body, headers=signed_headers(secret, body))
    assert response.status_code == 202, response.get_data(as_text=True)
    with app.app_context():
        get_dispatcher().enqueue(jobs.drain_inbox, tenant_id)
    run_jobs()


def stored(db, tenant_id: str) -> dict[str, InteractionFact]:
    with db.session() as session:
        facts = session.scalars(select(InteractionFact).where(InteractionFact.tenant_id == tenant_id)).all()
        session.expunge_all()
    return {f.conversation_id: f for f in facts}


def metrics(client, headers, **params) -> list[dict]:
    response = client.get("/api/v1/metrics", headers=headers,
                          query_string={**SPAN, "metrics": "aht_s,aes", "limit": 1000, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["items"]


def team_view(client, headers, team: str) -> dict:
    response = client.get(f"/api/v1/teams/{team}/performance", headers=headers,
                          query_string={**SPAN, "period": "day", "metrics": "aht_s,aes"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_live_facts_carry_the_agents_team(app, client, db, run_jobs, world):
    deliver(app, client, run_jobs, world, [ended("c1", agent="ag1"), ended("c2", agent="ag2", minutes=5),
                                           ended("c3", agent="ag3", minutes=7)])
    facts = stored(db, world[0])
    assert {cid: f.team_id for cid, f in facts.items()} == {"c1": "t1", "c2": "t1", "c3": "t2"}


def test_metrics_by_team_and_the_team_view_agree_on_live_and_synced_facts(app, client, db, run_jobs, world):
    headers = bearer(app, "mgr", "manager")
    with db.session() as session:  # a synced fact of the same team, its team given by the host
        analytics.upsert_facts(session, tenant_id=world[0], records=[{
            "conversation_id": "s1", "agent_id": "ag2", "team_id": "t1", "channel": "voice",
            "ended_at": DAY - timedelta(hours=2), "t_handle_ms": 50000, "t_talk_ms": 40000}])
    deliver(app, client, run_jobs, world, [ended(f"c{i}", agent=("ag1", "ag2", "ag3")[i % 3], minutes=i)
                                           for i in range(9)])
    by_metrics = metrics(client, headers, team_id="t1", dims="team_id", period="day")
    view = team_view(client, headers, "t1")
    assert [r["metrics"]["volume"] for r in by_metrics] == [p["volume"] for p in view["team"]] == [7]
    assert by_metrics[0]["metrics"]["aht_s"] == view["team"][0]["metrics"]["aht_s"]
    members = sum(p["volume"] for m in view["members"] for p in m["series"])
    assert members == 7


def test_a_stored_team_stays_when_the_agent_moves_later(app, client, db, run_jobs, world):
    deliver(app, client, run_jobs, world, [ended("c1", agent="ag1")])
    with db.session() as session:
        session.get(Person, (world[0], "ag1")).team_id = "t2"
    deliver(app, client, run_jobs, world, [ended("c1", agent="ag1", wrapup="w-other")])  # a later event
    assert stored(db, world[0])["c1"].team_id == "t1"  # the team as of the interaction


def test_a_corrected_wrapup_code_moves_the_fact_and_its_rollups(app, client, db, run_jobs, world):
    headers = bearer(app, "mgr", "manager")
    deliver(app, client, run_jobs, world, [ended("c1", agent="ag1", wrapup="w-first")])
    deliver(app, client, run_jobs, world, [ended("c1", agent="ag1", wrapup="w-corrected")])
    assert stored(db, world[0])["c1"].inquiry == "w-corrected"
    rows = metrics(client, headers, dims="inquiry")
    assert {r["inquiry"]: r["metrics"]["volume"] for r in rows} == {"w-corrected": 1}


def test_an_event_without_a_wrapup_keeps_the_synced_inquiry(app, client, db, run_jobs, world):
    with db.session() as session:
        analytics.upsert_facts(session, tenant_id=world[0], records=[{
            "conversation_id": "c1", "agent_id": "ag1", "team_id": "t1", "inquiry": "w-synced",
            "channel": "voice", "ended_at": DAY}])
    deliver(app, client, run_jobs, world, [ended("c1", agent="ag1", wrapup=None)])
    assert stored(db, world[0])["c1"].inquiry == "w-synced"
