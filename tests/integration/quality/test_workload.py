"""Workload API: daily caps, routing to headroom, queues, overdue work, settings."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extension.platform.models.audit import AuditEntry
from extension.quality.models.evaluations import Evaluation, EvaluatorCap, QualitySettings
from tests.integration.quality.conftest import audit_actions, count, snapshot

TABLES = (Evaluation, EvaluatorCap, QualitySettings, AuditEntry)


def workload_rows(client, headers) -> dict:
    return {r["evaluator_id"]: r for r in client.get("/api/v1/workload", headers=headers).get_json()["items"]}


def set_cap(client, token_for, evaluator, cap, who="mgr"):
    return client.put(f"/api/v1/workload/caps/{evaluator}", json={"daily_cap": cap}, headers=token_for(who))


def test_caps_refuse_named_evaluators_and_route_the_rest_to_headroom(client, db, assign, token_for):
    assert set_cap(client, token_for, "qa1", 1).status_code == 200
    assert set_cap(client, token_for, "qa2", 2).get_json() == {"evaluator_id": "qa2", "daily_cap": 2}
    assert assign("c1", evaluator_id="qa1").get_json()["evaluator_id"] == "qa1"
    before = snapshot(db, *TABLES)
    refused = assign("c2", evaluator_id="qa1")
    assert refused.status_code == 409 and "daily cap" in refused.get_json()["detail"]
    assert snapshot(db, *TABLES) == before
    assert assign("c2").get_json()["evaluator_id"] == "qa2"
    assert assign("c3").get_json()["evaluator_id"] == "qa2"
    before = snapshot(db, *TABLES)
    assert assign("c4").status_code == 409  # nobody has headroom
    assert snapshot(db, *TABLES) == before
    rows = workload_rows(client, token_for("mgr"))
    assert (rows["qa1"]["assigned_today"], rows["qa1"]["headroom"], rows["qa1"]["open"]) == (1, 0, 1)
    assert (rows["qa2"]["assigned_today"], rows["qa2"]["headroom"], rows["qa2"]["daily_cap"]) == (2, 0, 2)
    assert audit_actions(db).count("workload.cap.set") == 2


def test_the_evaluator_with_most_headroom_wins(client, db, assign, token_for):
    set_cap(client, token_for, "qa1", 5)
    set_cap(client, token_for, "qa2", 3)
    picks = [assign(f"c{i}").get_json()["evaluator_id"] for i in range(4)]
    # headroom 5,3 -> 4,3 -> 3,3 (tie: qa2 has fewer open) -> 3,2 -> qa1
    assert picks == ["qa1", "qa1", "qa2", "qa1"]


def test_retracted_work_frees_headroom(client, db, assign, token_for):
    set_cap(client, token_for, "qa1", 1)
    set_cap(client, token_for, "qa2", 0)
    first = assign("c1").get_json()
    assert assign("c2").status_code == 409
    client.post(f"/api/v1/evaluations/{first['id']}/retract", json={"reason": "dup"},
                headers=token_for("mgr"))
    assert assign("c2").get_json()["evaluator_id"] == "qa1"


def test_reassign_to_a_full_evaluator_is_refused(client, db, assign, token_for):
    set_cap(client, token_for, "qa2", 0)
    evaluation = assign("c1", evaluator_id="qa1").get_json()
    before = snapshot(db, *TABLES)
    response = client.post(f"/api/v1/evaluations/{evaluation['id']}/reassign", json={"evaluator_id": "qa2"},
                           headers=token_for("mgr"))
    assert response.status_code == 409
    assert snapshot(db, *TABLES) == before


def test_overdue_lists_open_work_past_due(client, db, assign, token_for):
    late = assign("c1", evaluator_id="qa1", due_at="2020-01-01T00:00:00+00:00").get_json()
    other_team = assign("c0", agent_id="a3", evaluator_id="qa2",
                        due_at="2022-01-01T00:00:00+00:00").get_json()
    later = assign("c2", evaluator_id="qa2", due_at="2021-01-01T00:00:00+00:00").get_json()
    assign("c3", evaluator_id="qa1", due_at="2999-01-01T00:00:00+00:00")
    assign("c4", evaluator_id="qa1")
    items = client.get("/api/v1/workload/overdue", headers=token_for("mgr")).get_json()["items"]
    assert [e["id"] for e in items] == [late["id"], later["id"], other_team["id"]]
    team = client.get("/api/v1/workload/overdue", headers=token_for("sup1")).get_json()["items"]
    assert [e["id"] for e in team] == [late["id"], later["id"]]  # a supervisor: own teams only
    mine = client.get("/api/v1/workload/overdue?evaluator_id=qa2",
                      headers=token_for("qa1")).get_json()["items"]
    assert [e["id"] for e in mine] == [late["id"]]  # an analyst sees their own queue only
    rows = workload_rows(client, token_for("sup1"))
    assert (rows["qa1"]["overdue"], rows["qa2"]["overdue"]) == (1, 2)
    paged = client.get("/api/v1/workload/overdue?limit=1", headers=token_for("mgr")).get_json()
    assert len(paged["items"]) == 1 and paged["next_cursor"]


@pytest.mark.parametrize(("url", "body", "field"), [
    ("/api/v1/workload/caps/qa1", {"daily_cap": -1}, "daily_cap"),
    ("/api/v1/workload/caps/qa1", {"cap": 3}, "daily_cap"),
    ("/api/v1/workload/caps/a1", {"daily_cap": 3}, "evaluator_id"),
    ("/api/v1/workload/settings", {"dispute_window_days": -2}, "dispute_window_days"),
    ("/api/v1/workload/settings", {"max_open_disputes_per_evaluation": 0},
     "max_open_disputes_per_evaluation"),
])
def test_bad_input_is_422_and_changes_nothing(client, db, people, token_for, url, body, field):
    before = snapshot(db, *TABLES)
    response = client.put(url, json=body, headers=token_for("adm"))
    assert response.status_code == 422
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert snapshot(db, *TABLES) == before


def test_a_cap_for_nobody_is_404_and_changes_nothing(client, db, people, token_for):
    before = snapshot(db, *TABLES)
    response = client.put("/api/v1/workload/caps/ghost", json={"daily_cap": 3}, headers=token_for("adm"))
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert snapshot(db, *TABLES) == before


def test_settings_are_audited_and_role_checked(client, db, people, token_for):
    assert client.get("/api/v1/workload/settings", headers=token_for("mgr")).get_json() == {
        "dispute_window_days": 7, "max_disputes_per_evaluation": 2,
        "max_open_disputes_per_evaluation": 1, "default_daily_cap": 20}
    assert client.put("/api/v1/workload/settings", json={"default_daily_cap": 5},
                      headers=token_for("mgr")).status_code == 403
    assert client.put("/api/v1/workload/settings", json={"default_daily_cap": 5},
                      headers=token_for("adm")).get_json()["default_daily_cap"] == 5
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "quality.settings.updated")).one()
    assert entry.details == {"default_daily_cap": {"before": 20, "after": 5}}
    rows = client.get("/api/v1/workload", headers=token_for("mgr")).get_json()["items"]
    assert {r["daily_cap"] for r in rows} == {5}


@pytest.mark.parametrize(("who", "status"), [("a1", 403), ("qa1", 200), ("sup1", 200), ("mgr", 200)])
def test_who_may_read_workload(client, people, token_for, who, status):
    assert client.get("/api/v1/workload", headers=token_for(who)).status_code == status


def test_another_tenants_evaluators_are_not_found(client, db, people, other_tenant, token_for):
    from extension.platform.models.people import Person

    set_cap(client, token_for, "qa1", 3)
    with db.session() as session:
        session.add(Person(tenant_id="acme", id="acme-qa", name="Acme QA", role="qa_analyst"))
    admin = token_for("adm", tenant_id=other_tenant)
    before = snapshot(db, *TABLES)
    response = client.put("/api/v1/workload/caps/acme-qa", json={"daily_cap": 1}, headers=admin)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert snapshot(db, *TABLES) == before
    rows = client.get("/api/v1/workload", headers=admin).get_json()["items"]
    assert {r["evaluator_id"] for r in rows} == {"qa1", "qa2"}  # globex's own analysts
    assert all(r["cap_is_default"] for r in rows)  # acme's cap for qa1 does not leak
    assert client.get("/api/v1/workload/overdue", headers=admin).get_json()["items"] == []
    assert count(db, EvaluatorCap) == 1
