"""Sampling plans and runs over HTTP: CRUD with domain validation, deterministic runs with risk
signals and reasons, the fairness report, idempotent assignment, paging, scope."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest

from extension.coaching.models import Appointment
from extension.quality.models.evaluations import Evaluation
from extension.sampling import schemas as qm_schemas
from extension.sampling.domain import selection as sampling
from extension.sampling.models import SamplingPick, SamplingPlanRow, SamplingRun
from tests.integration.sampling.world import add_facts, audit_actions, count, fact

PLAN = {
    "period": "month", "min_per_agent": 2, "budget": {"count": 12}, "mix": {"risk": 0.5, "random": 0.5},
    "risk": {"rules": [{"id": "escalation", "weight": 5}, {"id": "compliance_miss", "weight": 4},
                       {"id": "low_csat", "threshold": 2}, {"id": "transfer"}, {"id": "repeat_contact"},
                       {"id": "negative_sentiment", "threshold": -0.5}], "max_per_agent": 3},
    "random": {"strata": ["agent_id", "channel"]},
    "targeted": {"per_agent": 1},
    "precision": {"margin": 5.0, "confidence": 0.95, "prior_sd": 15.0},
}
OCTOBER = {"from": "2026-10-01", "to": "2026-10-31"}
AGENTS = ("a1", "a2", "a3", "a4")
RISKY = {"c0003": "risk:escalation", "c0013": "risk:compliance_miss", "c0005": "risk:low_csat",
         "c0007": "risk:transfer", "c0011": "risk:repeat_contact", "c0017": "risk:negative_sentiment"}
# the three required statements: recording disclosure, identity check, closing offer
COMPLIANT = ("Thanks for calling, this call may be recorded. Can you confirm your date of birth please? "
             "Is there anything else I can help you with?")


def _rows() -> list[dict]:
    rows = []
    for n in range(1, 61):
        day = date(2026, 10, 1 + n % 28)
        extra = {"channel": "chat" if n % 3 == 0 else "voice", "qa_score": 60.0 + (n * 7) % 40}
        extra.update({5: {"csat": 1.0}, 7: {"transferred": True}, 11: {"fcr": False},
                      17: {"customer_sentiment": -0.8}}.get(n, {}))
        rows.append(fact(n, agent=AGENTS[n % 4], day=day, **extra))
    rows.append(fact(90, agent="a1", day=date(2026, 9, 29)))  # September: out of the window
    return rows


@pytest.fixture
def october(world, db, app):
    from extension.text import interaction_analytics

    add_facts(db, "acme", _rows())
    add_facts(db, "globex", [fact(n, agent="a1", day=date(2026, 10, 3)) for n in range(1, 5)])
    with app.app_context(), db.session() as session:
        interaction_analytics.analyse_and_store(session, "acme", "c0003", [
            {"party": "agent", "text": COMPLIANT},
            {"party": "customer", "text": "This is useless, I want to speak to a manager right now."},
        ], "voice")
        interaction_analytics.analyse_and_store(session, "acme", "c0013", [
            {"party": "agent", "text": "Hi, what can I do for you?"},
            {"party": "customer", "text": "My bill is wrong."}], "voice")
        interaction_analytics.analyse_and_store(session, "acme", "c0019", [
            {"party": "agent", "text": COMPLIANT}, {"party": "customer", "text": "Sure, thanks."}], "voice")
    with db.session() as session:
        session.add(Appointment(tenant_id="acme", agent_id="a4", week_key="2026-W41", week_seq=0,
                                idempotency_key="k-a4", status="booked", conversation_ids=[],
                                created_at=datetime(2026, 10, 2, tzinfo=UTC),
                                date_start=datetime(2026, 10, 8, 10, tzinfo=UTC)))
        session.add(Appointment(tenant_id="acme", agent_id="a2", week_key="2026-W40", week_seq=0,
                                idempotency_key="k-a2", status="failed", conversation_ids=[],
                                created_at=datetime(2026, 10, 2, tzinfo=UTC)))
    return "acme"


def new_plan(client, headers, document=None, name="Monthly QA"):
    return client.post("/api/v1/sampling-plans", headers=headers,
                       json={"name": name, "document": document or PLAN})


@pytest.fixture
def plan_id(client, october, token_for):
    response = new_plan(client, token_for("qa1", "qa_analyst"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def run(client, headers, plan_id, **body):
    return client.post(f"/api/v1/sampling-plans/{plan_id}/runs", headers=headers, json={**OCTOBER, **body})


def test_plan_crud_versions_and_audit(client, db, world, token_for):
    headers = token_for("mgr", "manager")
    created = new_plan(client, headers)
    assert created.status_code == 201
    body = created.get_json()
    assert not qm_schemas.SamplingPlanOut().validate(body) and body["version"] == 1 and body["active"]
    url = f"/api/v1/sampling-plans/{body['id']}"
    changed = copy.deepcopy(PLAN)
    changed["min_per_agent"] = 3
    put = client.put(url, headers=headers, json={"name": "Monthly QA", "document": changed})
    assert put.status_code == 200 and put.get_json()["version"] == 2
    same = client.put(url, headers=headers, json={"name": "Renamed", "document": changed})
    assert same.get_json()["version"] == 2 and same.get_json()["name"] == "Renamed"
    assert client.get(url, headers=headers).get_json()["document"]["min_per_agent"] == 3
    deleted = client.delete(url, headers=headers)
    assert deleted.status_code == 200 and deleted.get_json()["active"] is False
    assert client.get("/api/v1/sampling-plans", headers=headers).get_json()["items"] == []
    listed = client.get("/api/v1/sampling-plans?include_inactive=true", headers=headers).get_json()
    assert [p["id"] for p in listed["items"]] == [body["id"]]
    assert run(client, headers, body["id"]).status_code == 409
    assert audit_actions(db) == ["sampling_plan.created", "sampling_plan.updated", "sampling_plan.updated",
                                 "sampling_plan.deactivated"]


def test_invalid_plans_name_each_field_and_change_nothing(client, db, world, token_for):
    headers = token_for("mgr", "manager")
    bad = copy.deepcopy(PLAN)
    bad["mix"] = {"risk": 0.7, "random": 0.7}
    bad["random"]["strata"] = ["channel", "agent_id"]
    response = new_plan(client, headers, bad)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert {e["field"] for e in response.get_json()["errors"]} == {"document.mix", "document.random.strata.0"}
    structural = copy.deepcopy(PLAN)
    structural["risk"]["rules"][2]["threshold"] = 99
    response = new_plan(client, headers, structural)
    assert [e["field"] for e in response.get_json()["errors"]] == ["document.risk.rules.2.threshold"]
    assert new_plan(client, headers, name="").get_json()["errors"][0]["field"] == "name"
    assert client.post("/api/v1/sampling-plans", headers=headers, data="{").status_code == 415
    assert count(db, SamplingPlanRow) == 0 and audit_actions(db) == []
    plan = new_plan(client, headers).get_json()
    put = client.put(f"/api/v1/sampling-plans/{plan['id']}", headers=headers,
                     json={"name": "x", "document": bad})
    assert put.status_code == 422
    assert client.get(f"/api/v1/sampling-plans/{plan['id']}", headers=headers).get_json()["version"] == 1


def test_a_run_picks_risky_targeted_and_fair_samples_with_reasons(client, db, plan_id, token_for):
    headers = token_for("qa1", "qa_analyst")
    response = run(client, headers, plan_id, seed=42)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert not qm_schemas.SamplingRunCreated().validate(body)
    assert body["created"] and body["eligible"] == 60 and body["budget"] == 12
    picks = {p["conversation_id"]: p for p in body["picks"]}
    risk = {cid for cid, p in picks.items() if p["component"] == "risk"}
    assert risk == set(RISKY)  # every risk candidate fits in the quota (6 of 12)
    for cid, reason in RISKY.items():
        assert reason in picks[cid]["reasons"]
    assert "c0019" not in risk  # analysed, compliant, calm
    targeted = [p for p in body["picks"] if p["component"] == "targeted"]
    assert [(p["agent_id"], p["reasons"]) for p in targeted] == [("a4", ["target:coaching_plan"])]
    assert "c0090" not in picks  # September
    assert sum(body["counts"].values()) == len(body["picks"])
    lines = {line["agent_id"]: line for line in body["fairness"]}
    assert set(lines) == set(AGENTS)
    for agent, line in lines.items():
        mine = [p for p in body["picks"] if p["agent_id"] == agent]
        assert line["sample_size"] == len(mine) >= 2
        assert line["population"] == 15 and line["scored"] == 15 and line["sd_source"] == "observed"
        assert line["margin_of_error"] is not None and line["required_sample"] >= line["sample_size"]
        # scores already on file count as sampled (sampling_stats.agent_precision)
        reviewed = max(line["sample_size"], line["scored"])
        assert line["additional_needed"] == max(0, line["required_sample"] - reviewed)
    with db.session() as session:
        assert session.query(SamplingPick).filter_by(run_id=body["id"]).count() == len(body["picks"])
    assert audit_actions(db)[-1] == "sampling.run"


def test_the_stored_picks_are_the_domain_selection_and_the_same_request_returns_the_same_run(
        client, db, plan_id, token_for):
    headers = token_for("qa1", "qa_analyst")
    first = run(client, headers, plan_id, seed="october").get_json()
    # the frame the service should have built, assembled independently here
    signals = {"c0003": {"escalation": True}, "c0013": {"compliance_miss": True}}
    records = [{**r, "repeat_contact": r["fcr"] is False, **signals.get(r["conversation_id"], {})}
               for r in _rows() if r["conversation_id"] != "c0090"]
    start, end = datetime(2026, 9, 30, 23, tzinfo=UTC), datetime(2026, 11, 1, 0, tzinfo=UTC)
    expected = sampling.select(sorted(records, key=lambda r: (r["ended_at"], r["conversation_id"])), PLAN,
                               seed="october", period_start=start, period_end=end,
                               coaching_agents=frozenset({"a4"}))
    assert [(p["conversation_id"], p["component"], tuple(p["reasons"])) for p in first["picks"]] == [
        (p.conversation_id, p.component, p.reasons) for p in sorted(expected.picks, key=lambda p: (
            records_by_id(records)[p.conversation_id]["ended_at"], p.conversation_id))]
    again = run(client, headers, plan_id, seed="october")
    assert again.status_code == 200 and again.get_json()["id"] == first["id"]
    assert again.get_json()["created"] is False and again.get_json()["picks"] == first["picks"]
    assert count(db, SamplingRun) == 1 and audit_actions(db).count("sampling.run") == 1
    # another seed is another run; what the first run picked counts as already sampled
    other = run(client, headers, plan_id, seed="other").get_json()
    assert other["created"] and not {p["conversation_id"] for p in other["picks"]} & {
        p["conversation_id"] for p in first["picks"]}
    assert all(line["already_sampled"] > 0 for line in other["fairness"])


def records_by_id(records):
    return {r["conversation_id"]: r for r in records}


def test_assign_turns_picks_into_evaluations_once(client, db, plan_id, form_id, token_for):
    headers = token_for("qa1", "qa_analyst")
    first = run(client, headers, plan_id, seed=7, assign=True, form_id=form_id)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    picks = body["picks"]
    assert body["assignment"]["assigned_now"] == len(picks) and body["assignment"]["pending"] == 0
    assert all(p["evaluation_id"] for p in picks)
    with db.session() as session:
        evaluations = session.query(Evaluation).filter_by(tenant_id="acme").all()
        assert sorted(e.conversation_id for e in evaluations) == sorted(p["conversation_id"] for p in picks)
        assert {e.id for e in evaluations} == {p["evaluation_id"] for p in picks}
        assert all(e.reason["sampling_run"] == body["id"] for e in evaluations)
    again = run(client, headers, plan_id, seed=7, assign=True, form_id=form_id).get_json()
    assert again["assignment"]["assigned_now"] == 0 and again["id"] == body["id"]
    assert count(db, Evaluation, tenant_id="acme") == len(picks)
    actions = audit_actions(db)
    assert actions.count("evaluation.assigned") == len(picks) and actions.count("sampling.run.assigned") == 1


def test_bad_run_requests_are_refused_and_store_nothing(client, db, plan_id, token_for, form_id):
    headers = token_for("qa1", "qa_analyst")
    url = f"/api/v1/sampling-plans/{plan_id}/runs"
    reversed_ = client.post(url, headers=headers, json={"from": "2026-10-31", "to": "2026-10-01"})
    assert reversed_.status_code == 422 and reversed_.get_json()["errors"][0]["field"] == "to"
    too_long = client.post(url, headers=headers, json={"from": "2026-09-01", "to": "2026-10-31"})
    assert too_long.status_code == 422 and too_long.get_json()["errors"][0]["field"] == "to"
    no_form = run(client, headers, plan_id, assign=True)
    assert no_form.status_code == 422 and no_form.get_json()["errors"][0]["field"] == "form_id"
    unknown_form = run(client, headers, plan_id, assign=True, form_id="nope")
    assert unknown_form.status_code == 422 and unknown_form.get_json()["errors"][0]["field"] == "form_id"
    bad_seed = run(client, headers, plan_id, seed=-1)
    assert bad_seed.status_code == 422 and bad_seed.get_json()["errors"][0]["field"] == "seed"
    missing = client.post(url, headers=headers, json={"to": "2026-10-31"})
    assert missing.get_json()["errors"][0]["field"] == "from"
    assert count(db, SamplingRun) == 0 and count(db, SamplingPick) == 0
    assert "sampling.run" not in audit_actions(db)


def test_run_pages_and_run_lists(client, plan_id, token_for):
    headers = token_for("mgr", "manager")
    created = run(client, headers, plan_id, seed=3).get_json()
    seen, cursor = [], None
    while True:
        query = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/api/v1/sampling-runs/{created['id']}", headers=headers, query_string=query)
        assert page.status_code == 200
        body = page.get_json()
        assert not qm_schemas.SamplingRunDetail().validate(body)
        assert body["total_picks"] == len(created["picks"])
        seen += body["picks"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == created["picks"] and len(seen) > 5
    runs = client.get(f"/api/v1/sampling-plans/{plan_id}/runs", headers=headers).get_json()
    assert [r["id"] for r in runs["items"]] == [created["id"]]
    assert not qm_schemas.SamplingRunsPage().validate(runs)


def test_roles_and_other_tenants(client, db, plan_id, token_for):
    created = run(client, token_for("qa1", "qa_analyst"), plan_id, seed=1).get_json()
    assert client.get("/api/v1/sampling-plans", headers=token_for("a1", "agent")).status_code == 403
    assert client.get("/api/v1/sampling-plans", headers=token_for("sup1", "supervisor")).status_code == 403
    stranger = token_for("mgr", "manager", tenant_id="globex")
    plan_url = f"/api/v1/sampling-plans/{plan_id}"
    assert client.get(plan_url, headers=stranger).status_code == 404
    assert client.put(plan_url, headers=stranger, json={"name": "x", "document": PLAN}).status_code == 404
    assert client.delete(plan_url, headers=stranger).status_code == 404
    assert run(client, stranger, plan_id).status_code == 404
    assert client.get(f"{plan_url}/runs", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/sampling-runs/{created['id']}", headers=stranger).status_code == 404
    assert client.get("/api/v1/sampling-plans", headers=stranger).get_json()["items"] == []
    with db.session() as session:
        assert session.get(SamplingPlanRow, plan_id).active


def test_an_assignment_stopped_by_evaluator_caps_resumes_on_the_next_request(client, db, plan_id, form_id,
                                                                             token_for):
    from extension.quality.models.evaluations import EvaluatorCap

    with db.session() as session:
        session.add_all(EvaluatorCap(tenant_id="acme", evaluator_id=q, daily_cap=2)
                        for q in ("qa1", "qa2", "qa3"))
    headers = token_for("qa1", "qa_analyst")
    first = run(client, headers, plan_id, seed=11, assign=True, form_id=form_id).get_json()
    total = len(first["picks"])
    assert total > 6
    assert first["assignment"]["assigned_now"] == 6 and first["assignment"]["pending"] == total - 6
    assert first["assignment"]["error"]["status"] == 409
    assert sum(1 for p in first["picks"] if p["evaluation_id"]) == 6
    with db.session() as session:
        for cap in session.query(EvaluatorCap).filter_by(tenant_id="acme"):
            cap.daily_cap = 50
    second = run(client, headers, plan_id, seed=11, assign=True, form_id=form_id).get_json()
    assert second["id"] == first["id"] and second["assignment"]["assigned_now"] == total - 6
    assert second["assignment"]["pending"] == 0 and second["assigned"] == total
    assert count(db, Evaluation, tenant_id="acme") == total
    kept = {p["conversation_id"]: p["evaluation_id"] for p in first["picks"] if p["evaluation_id"]}
    assert all(p["evaluation_id"] == kept.get(p["conversation_id"], p["evaluation_id"])
               for p in second["picks"])
