"""Disputes API: window and limits, per-question reasons, second-reviewer resolution, rescoring."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from extension.analytics.models.facts import InteractionFact
from extension.platform.models.audit import AuditEntry
from extension.quality.models.evaluations import Dispute, Evaluation
from tests.integration.quality.conftest import ALL_YES, RECORDED, add_interaction, audit_actions, snapshot

TABLES = (Dispute, Evaluation, AuditEntry, InteractionFact)


def dispute(client, token_for, evaluation_id, *questions, who="a1"):
    items = [{"question_id": q, "reason": f"{q} was fine"} for q in questions or ("greet",)]
    return client.post("/api/v1/disputes", json={"evaluation_id": evaluation_id, "items": items},
                       headers=token_for(who))


@pytest.fixture
def scored_by_manager(client, db, assign, token_for):
    """A released evaluation of a1 scored by mgr with 'greet' answered no (score 75)."""
    add_interaction(db, "c7", transcript=RECORDED)
    evaluation = assign("c7", evaluator_id="mgr").get_json()
    url = f"/api/v1/evaluations/{evaluation['id']}"
    mgr = token_for("mgr")
    client.put(f"{url}/answers", json={"answers": {**ALL_YES, "greet": {"option_id": "greetn"}}}, headers=mgr)
    client.post(f"{url}/submit", headers=mgr)
    body = client.post(f"{url}/release", headers=mgr).get_json()
    assert body["total_score"] == pytest.approx(75.0)
    return body


def test_an_agent_disputes_their_released_evaluation(client, db, released, token_for):
    response = dispute(client, token_for, released["id"], "greet", "solved")
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "open" and body["agent_id"] == "a1"
    assert [i["question_id"] for i in body["items"]] == ["greet", "solved"]
    assert audit_actions(db)[-1] == "dispute.opened"
    assert client.get(f"/api/v1/disputes/{body['id']}", headers=token_for("a1")).status_code == 200


def test_refusals_change_nothing(client, db, released, assign, token_for):
    pending = assign("c8", evaluator_id="qa2").get_json()
    before = snapshot(db, *TABLES)
    assert dispute(client, token_for, released["id"], who="a2").status_code == 404  # not theirs
    assert dispute(client, token_for, released["id"], who="qa1").status_code == 403  # not the agent
    assert dispute(client, token_for, pending["id"]).status_code == 404  # not released: invisible
    unknown = dispute(client, token_for, released["id"], "greet", "nonsense")
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.get_json()["errors"]] == ["items.1.question_id"]
    twice = dispute(client, token_for, released["id"], "greet", "greet")
    assert [e["field"] for e in twice.get_json()["errors"]] == ["items.1.question_id"]
    no_reason = client.post("/api/v1/disputes", json={"evaluation_id": released["id"],
                                                      "items": [{"question_id": "greet"}]},
                            headers=token_for("a1"))
    assert no_reason.status_code == 422
    assert [e["field"] for e in no_reason.get_json()["errors"]] == ["items.0.reason"]
    empty = client.post("/api/v1/disputes", json={"evaluation_id": released["id"], "items": []},
                        headers=token_for("a1"))
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["field"] == "items"
    assert snapshot(db, *TABLES) == before


def test_the_dispute_window_closes(client, db, released, token_for):
    with db.session() as session:
        evaluation = session.get(Evaluation, released["id"])
        evaluation.released_at = evaluation.released_at - timedelta(days=8)
    before = snapshot(db, *TABLES)
    response = dispute(client, token_for, released["id"])
    assert response.status_code == 409 and "7 days" in response.get_json()["detail"]
    assert snapshot(db, *TABLES) == before
    # a tenant that allows 10 days accepts it
    settings = client.put("/api/v1/workload/settings", json={"dispute_window_days": 10},
                          headers=token_for("adm"))
    assert settings.status_code == 200 and settings.get_json()["dispute_window_days"] == 10
    assert dispute(client, token_for, released["id"]).status_code == 201


def test_open_and_total_dispute_limits(client, db, scored_by_manager, token_for):
    evaluation_id = scored_by_manager["id"]
    first = dispute(client, token_for, evaluation_id).get_json()
    before = snapshot(db, *TABLES)
    assert dispute(client, token_for, evaluation_id, "solved").status_code == 409  # one open at a time
    assert snapshot(db, *TABLES) == before
    client.post(f"/api/v1/disputes/{first['id']}/resolve", json={"outcome": "rejected", "note": "stands"},
                headers=token_for("mgr2"))
    assert dispute(client, token_for, evaluation_id, "solved").status_code == 201
    second = client.get(f"/api/v1/disputes?evaluation_id={evaluation_id}&status=open",
                        headers=token_for("a1")).get_json()["items"][0]
    client.post(f"/api/v1/disputes/{second['id']}/resolve", json={"outcome": "rejected", "note": "no"},
                headers=token_for("mgr2"))
    before = snapshot(db, *TABLES)
    third = dispute(client, token_for, evaluation_id, "fast")
    assert third.status_code == 409 and "at most 2" in third.get_json()["detail"]
    assert snapshot(db, *TABLES) == before


def test_upheld_dispute_rescores_and_audits_before_and_after(client, db, scored_by_manager, token_for):
    opened = dispute(client, token_for, scored_by_manager["id"], "greet").get_json()
    url = f"/api/v1/disputes/{opened['id']}/resolve"
    before = snapshot(db, *TABLES)
    # the original evaluator may not resolve; nor may a supervisor of another team see it
    assert client.post(url, json={"outcome": "upheld", "note": "ok", "changes": {
        "greet": {"option_id": "greety"}}}, headers=token_for("mgr")).status_code == 403
    assert client.post(url, json={"outcome": "upheld", "note": "ok", "changes": {
        "greet": {"option_id": "greety"}}}, headers=token_for("sup2")).status_code == 404
    agent = token_for("a1")
    assert client.post(url, json={"outcome": "upheld", "note": "ok"}, headers=agent).status_code == 403
    assert snapshot(db, *TABLES) == before
    resolved = client.post(url, json={"outcome": "upheld", "note": "greeting was given",
                                      "changes": {"greet": {"option_id": "greety"}}},
                           headers=token_for("mgr2"))
    assert resolved.status_code == 200, resolved.get_json()
    body = resolved.get_json()
    assert body["status"] == "upheld" and body["resolver_id"] == "mgr2"
    assert (body["score_before"], body["score_after"]) == (pytest.approx(75.0), pytest.approx(100.0))
    assert body["changes"]["greet"]["before"]["option_id"] == "greetn"
    assert body["changes"]["greet"]["after"]["option_id"] == "greety"
    evaluation = client.get(f"/api/v1/evaluations/{scored_by_manager['id']}", headers=agent).get_json()
    assert evaluation["total_score"] == pytest.approx(100.0)
    with db.session() as session:
        assert session.get(InteractionFact, ("acme", "c7")).qa_score == pytest.approx(100.0)
        entries = {e.action: e.details for e in session.scalars(select(AuditEntry))}
    assert entries["dispute.resolved"]["score_before"] == pytest.approx(75.0)
    assert entries["dispute.resolved"]["score_after"] == pytest.approx(100.0)
    assert entries["evaluation.rescored"]["dispute_id"] == opened["id"]
    before = snapshot(db, *TABLES)
    again = client.post(url, json={"outcome": "rejected", "note": "x"}, headers=token_for("mgr2"))
    assert again.status_code == 409
    assert snapshot(db, *TABLES) == before


@pytest.mark.parametrize(("body", "field"), [
    ({"outcome": "rejected", "note": "n", "changes": {"greet": {"option_id": "greety"}}}, "changes"),
    ({"outcome": "upheld", "note": "n"}, "changes"),
    ({"outcome": "maybe", "note": "n"}, "outcome"),
    ({"outcome": "rejected"}, "note"),
    ({"outcome": "partially", "note": "n", "changes": {"solved": {"option_id": "solvedn"}}},
     "changes.solved"),
    ({"outcome": "upheld", "note": "n", "changes": {"greet": {"option_id": "bogus"}}}, "/answers/greet"),
])
def test_resolution_errors_are_422_and_change_nothing(client, db, scored_by_manager, token_for, body, field):
    opened = dispute(client, token_for, scored_by_manager["id"], "greet").get_json()
    before = snapshot(db, *TABLES)
    response = client.post(f"/api/v1/disputes/{opened['id']}/resolve", json=body, headers=token_for("mgr2"))
    assert response.status_code == 422, response.get_json()
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert snapshot(db, *TABLES) == before


def test_a_supervisor_resolves_partially_for_their_team(client, db, scored_by_manager, token_for):
    opened = dispute(client, token_for, scored_by_manager["id"], "greet", "solved").get_json()
    response = client.post(f"/api/v1/disputes/{opened['id']}/resolve", json={
        "outcome": "partially", "note": "greeting yes, solved stands",
        "changes": {"greet": {"option_id": "greety"}}}, headers=token_for("sup1"))
    assert response.status_code == 200 and response.get_json()["status"] == "partially"


def test_retracting_voids_open_disputes(client, db, released, token_for):
    opened = dispute(client, token_for, released["id"]).get_json()
    client.post(f"/api/v1/evaluations/{released['id']}/retract", json={"reason": "duplicate"},
                headers=token_for("mgr"))
    found = client.get(f"/api/v1/disputes/{opened['id']}", headers=token_for("mgr")).get_json()
    assert found["status"] == "void"


def test_dispute_scope(client, db, released, scored_by_manager, token_for):
    mine = dispute(client, token_for, released["id"]).get_json()
    theirs = dispute(client, token_for, scored_by_manager["id"]).get_json()

    def ids(person):
        items = client.get("/api/v1/disputes", headers=token_for(person)).get_json()["items"]
        return {d["id"] for d in items}

    assert ids("a1") == {mine["id"], theirs["id"]}
    assert ids("a2") == set() and ids("sup2") == set()
    assert ids("qa1") == {mine["id"]}  # disputes of evaluations qa1 scored
    assert ids("sup1") == ids("adm") == {mine["id"], theirs["id"]}
    assert client.get(f"/api/v1/disputes/{mine['id']}", headers=token_for("a2")).status_code == 404
    assert client.get("/api/v1/disputes?status=lost", headers=token_for("adm")).status_code == 400


def test_another_tenants_dispute_is_not_found(client, db, released, other_tenant, token_for):
    opened = dispute(client, token_for, released["id"]).get_json()
    before = snapshot(db, *TABLES)
    admin = token_for("adm", tenant_id=other_tenant)
    assert client.get(f"/api/v1/disputes/{opened['id']}", headers=admin).status_code == 404
    assert client.post(f"/api/v1/disputes/{opened['id']}/resolve", json={"outcome": "rejected", "note": "x"},
                       headers=admin).status_code == 404
    assert client.get("/api/v1/disputes", headers=admin).get_json()["items"] == []
    assert dispute(client, token_for, released["id"], who="a1").status_code == 409  # acme: one open
    globex_agent = {**token_for("a1", tenant_id=other_tenant)}
    assert client.post("/api/v1/disputes", json={"evaluation_id": released["id"], "items": [
        {"question_id": "greet", "reason": "r"}]}, headers=globex_agent).status_code == 404
    assert snapshot(db, *TABLES) == before
