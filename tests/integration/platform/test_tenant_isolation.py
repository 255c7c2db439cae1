"""Every /api/v1 route, tried with another tenant's ids (ARCHITECTURE §6).

Acme's people, forms, evaluations, disputes, calibrations, sampling plans and runs, text
analytics and alerts are created through the API (and the services where the API has no
create), then Globex's admin, whose tenant has people with the same ids, calls every route and
method with acme's ids and a valid body. The answer must be 404 everywhere, and nothing of
acme's may change. A new route fails the coverage check until it has a case here.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from extension.analytics.models.facts import PerformanceAlert
from extension.platform.models.audit import AuditEntry
from extension.platform.models.directory import Group, GroupMember, Queue, QueueMember
from extension.platform.models.people import Person
from extension.privacy.models import Erasure
from tests.factories import add_people, add_tenant, bearer
from tests.integration.quality.conftest import add_interaction
from tests.integration.sampling.world import FORM

PEOPLE = [("a1", "agent", "t1", "sup1"), ("a2", "agent", "t1", "sup1"), ("sup1", "supervisor", "t1", None),
          ("qa1", "qa_analyst", None, None), ("qa2", "qa_analyst", None, None),
          ("mgr", "manager", None, None), ("adm", "admin", None, None)]
PLAN = {"period": "month", "min_per_agent": 1, "budget": {"count": 4}, "mix": {"risk": 0.5, "random": 0.5},
        "risk": {"rules": [{"id": "transfer"}], "max_per_agent": 2}, "random": {"strata": ["agent_id"]},
        "targeted": {"per_agent": 1}, "precision": {"margin": 5.0, "confidence": 0.95, "prior_sd": 15.0}}
ANSWERS = {"q1": {"option_id": "q1y"}, "q2": {"option_id": "q2y"}, "q3": {"option_id": "q3a"}}


@pytest.fixture
def two_tenants(app, db, tenant):
    add_tenant(db, "globex")
    for tenant_id in ("acme", "globex"):
        add_people(db, tenant_id, PEOPLE)
    return "acme", "globex"


def _headers(app, person: str, tenant_id: str = "acme") -> dict[str, str]:
    return bearer(app, person, {p: r for p, r, _, _ in PEOPLE}[person], tenant_id=tenant_id)


def _ok(response, status=(200, 201)):
    assert response.status_code in status, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture
def acme(app, client, db, two_tenants):
    """Acme's objects, made the way its users make them; returns their ids."""
    mgr, qa1, a1 = (_headers(app, p) for p in ("mgr", "qa1", "a1"))
    form = _ok(client.post("/api/v1/forms", json=FORM, headers=mgr))["id"]
    _ok(client.post(f"/api/v1/forms/{form}/publish", headers=mgr))
    add_interaction(db, "c1", agent_id="a1")
    add_interaction(db, "c2", agent_id="a2")
    evaluation = _ok(client.post("/api/v1/evaluations", headers=mgr, json={
        "conversation_id": "c1", "agent_id": "a1", "form_id": form, "evaluator_id": "qa1"}))["id"]
    _ok(client.put(f"/api/v1/evaluations/{evaluation}/answers", headers=qa1, json={"answers": ANSWERS}))
    _ok(client.post(f"/api/v1/evaluations/{evaluation}/submit", headers=qa1))
    _ok(client.post(f"/api/v1/evaluations/{evaluation}/release", headers=mgr))
    dispute = _ok(client.post("/api/v1/disputes", headers=a1, json={
        "evaluation_id": evaluation, "items": [{"question_id": "q1", "reason": "I did greet."}]}))["id"]
    calibration = _ok(client.post("/api/v1/calibrations", headers=mgr, json={
        "name": "November", "form_id": form, "conversation_ids": ["c1", "c2"],
        "evaluator_ids": ["qa1", "qa2"], "drift_threshold": 10}))["id"]
    plan = _ok(client.post("/api/v1/sampling-plans", headers=mgr, json={"name": "Monthly", "document": PLAN}))
    run = _ok(client.post(f"/api/v1/sampling-plans/{plan['id']}/runs", headers=mgr,
                          json={"from": "2026-11-01", "to": "2026-11-30", "seed": 7}))
    from extension.text import interaction_analytics

    with app.app_context(), db.session() as session:
        interaction_analytics.analyse_and_store(session, "acme", "c1", [
            {"party": "agent", "text": "Hello, this call may be recorded."},
            {"party": "customer", "text": "I want to speak to a manager."}], "voice")
        session.add(PerformanceAlert(tenant_id="acme", key="threshold:agent:a1:aht_s", kind="threshold",
                                     subject_type="agent", subject_id="a1", metric="aht_s", value=700.0,
                                     message="AHT above 600 s", raised_at=datetime.now(UTC)))
        session.add_all([Queue(tenant_id="acme", id="q-acme", name="Billing"),
                         Group(tenant_id="acme", id="g-acme", name="Team 1")])
        session.flush()
        session.add_all([QueueMember(tenant_id="acme", queue_id="q-acme", person_id="a1"),
                         GroupMember(tenant_id="acme", group_id="g-acme", person_id="a1")])
        erasure = Erasure(tenant_id="acme", subject_kind="person", subject_ref="gone-1", pseudonym="erased-1",
                          status="done", steps={}, requested_by="adm")
        session.add(erasure)
        session.flush()
        erasure_id = erasure.id
    return {"form": form, "evaluation": evaluation, "dispute": dispute, "calibration": calibration,
            "plan": plan["id"], "run": run["id"], "alert": "threshold:agent:a1:aht_s", "erasure": erasure_id}


def _cases(ids: dict) -> dict[tuple[str, str], tuple[str, dict | None] | None]:
    """(rule, method) -> (url with acme's ids, JSON body[, body field]), or None for routes
    without an id, whose tenant-wide answers are checked separately. With a body field, acme's
    id is in the body, not the path: the answer is then 422 naming that field ("no such ..."),
    exactly as for an id that exists nowhere."""
    f, e, d, c = ids["form"], ids["evaluation"], ids["dispute"], ids["calibration"]
    p, r, key = ids["plan"], ids["run"], ids["alert"]
    return {
        ("/api/v1/agents/<agent_id>/performance", "GET"): ("/api/v1/agents/acme-only/performance", None),
        ("/api/v1/teams/<team_id>/performance", "GET"): ("/api/v1/teams/acme-team/performance", None),
        ("/api/v1/forecasts", "GET"): ("/api/v1/forecasts?subject=agent:acme-only", None),
        ("/api/v1/metrics", "GET"): ("/api/v1/metrics?agent_id=acme-only", None),
        ("/api/v1/inquiries", "GET"): None,
        ("/api/v1/alerts", "GET"): None,
        ("/api/v1/openapi.json", "GET"): None,
        ("/api/v1/forms", "GET"): None,
        ("/api/v1/forms", "POST"): None,
        ("/api/v1/forms/import", "POST"): None,
        ("/api/v1/forms/<form_id>", "GET"): (f"/api/v1/forms/{f}", None),
        ("/api/v1/forms/<form_id>", "PUT"): (f"/api/v1/forms/{f}", FORM),
        ("/api/v1/forms/<form_id>/publish", "POST"): (f"/api/v1/forms/{f}/publish", None),
        ("/api/v1/forms/<form_id>/versions", "GET"): (f"/api/v1/forms/{f}/versions", None),
        ("/api/v1/evaluations", "GET"): None,
        ("/api/v1/evaluations", "POST"): ("/api/v1/evaluations", {
            "conversation_id": "c2", "agent_id": "a2", "form_id": f}, "form_id"),
        ("/api/v1/evaluations/<evaluation_id>", "GET"): (f"/api/v1/evaluations/{e}", None),
        ("/api/v1/evaluations/<evaluation_id>/answers", "PUT"): (
            f"/api/v1/evaluations/{e}/answers", {"answers": ANSWERS}),
        ("/api/v1/evaluations/<evaluation_id>/submit", "POST"): (f"/api/v1/evaluations/{e}/submit", None),
        ("/api/v1/evaluations/<evaluation_id>/release", "POST"): (f"/api/v1/evaluations/{e}/release", None),
        ("/api/v1/evaluations/<evaluation_id>/acknowledge", "POST"): (
            f"/api/v1/evaluations/{e}/acknowledge", None),
        ("/api/v1/evaluations/<evaluation_id>/retract", "POST"): (
            f"/api/v1/evaluations/{e}/retract", {"reason": "Wrong agent."}),
        ("/api/v1/evaluations/<evaluation_id>/reassign", "POST"): (
            f"/api/v1/evaluations/{e}/reassign", {"evaluator_id": "qa2"}),
        ("/api/v1/disputes", "GET"): None,
        ("/api/v1/disputes", "POST"): ("/api/v1/disputes", {
            "evaluation_id": e, "items": [{"question_id": "q2", "reason": "Verified."}]}, "evaluation_id"),
        ("/api/v1/disputes/<dispute_id>", "GET"): (f"/api/v1/disputes/{d}", None),
        ("/api/v1/disputes/<dispute_id>/resolve", "POST"): (
            f"/api/v1/disputes/{d}/resolve", {"outcome": "rejected", "note": "Stands."}),
        ("/api/v1/calibrations", "GET"): None,
        ("/api/v1/calibrations", "POST"): ("/api/v1/calibrations", {
            "name": "Theirs", "form_id": f, "conversation_ids": ["c1"], "evaluator_ids": ["qa1", "qa2"],
            "drift_threshold": 5}, "form_id"),
        ("/api/v1/calibrations/<session_id>", "GET"): (f"/api/v1/calibrations/{c}", None),
        ("/api/v1/calibrations/<session_id>/scores", "PUT"): (
            f"/api/v1/calibrations/{c}/scores", {"conversation_id": "c1", "answers": ANSWERS}),
        ("/api/v1/calibrations/<session_id>/close", "POST"): (f"/api/v1/calibrations/{c}/close", None),
        ("/api/v1/calibrations/<session_id>/report", "GET"): (f"/api/v1/calibrations/{c}/report", None),
        ("/api/v1/sampling-plans", "GET"): None,
        ("/api/v1/sampling-plans", "POST"): None,
        ("/api/v1/sampling-plans/<plan_id>", "GET"): (f"/api/v1/sampling-plans/{p}", None),
        ("/api/v1/sampling-plans/<plan_id>", "PUT"): (
            f"/api/v1/sampling-plans/{p}", {"name": "Renamed", "document": PLAN}),
        ("/api/v1/sampling-plans/<plan_id>", "DELETE"): (f"/api/v1/sampling-plans/{p}", None),
        ("/api/v1/sampling-plans/<plan_id>/runs", "GET"): (f"/api/v1/sampling-plans/{p}/runs", None),
        ("/api/v1/sampling-plans/<plan_id>/runs", "POST"): (
            f"/api/v1/sampling-plans/{p}/runs", {"from": "2026-11-01", "to": "2026-11-30"}),
        ("/api/v1/sampling-runs/<run_id>", "GET"): (f"/api/v1/sampling-runs/{r}", None),
        ("/api/v1/interactions/<conversation_id>/analytics", "GET"): (
            "/api/v1/interactions/c1/analytics", None),
        ("/api/v1/workload", "GET"): None,
        ("/api/v1/workload/overdue", "GET"): None,
        ("/api/v1/workload/settings", "GET"): None,
        ("/api/v1/workload/settings", "PUT"): None,
        ("/api/v1/workload/caps/<evaluator_id>", "PUT"): (
            "/api/v1/workload/caps/acme-only", {"daily_cap": 3}),
        ("/api/v1/alerts/<path:key>", "GET"): (f"/api/v1/alerts/{key}", None),
        ("/api/v1/alerts/<path:key>/acknowledge", "POST"): (f"/api/v1/alerts/{key}/acknowledge", None),
        ("/api/v1/alerts/<path:key>/close", "POST"): (f"/api/v1/alerts/{key}/close", None),
        ("/api/v1/alert-settings", "GET"): None,
        ("/api/v1/alert-settings", "PUT"): None,
        ("/api/v1/interactions", "GET"): ("/api/v1/interactions?agent=acme-only", None),
        # tenant-wide settings without ids: see test_phrase_lists_are_per_tenant below
        ("/api/v1/phrase-lists", "GET"): None,
        ("/api/v1/phrase-lists/<kind>", "PUT"): None,
        ("/api/v1/phrase-lists/<kind>", "DELETE"): None,
        ("/api/v1/queues", "GET"): ("/api/v1/queues?person_id=acme-only", None),
        ("/api/v1/groups", "GET"): ("/api/v1/groups?person_id=acme-only", None),
        ("/api/v1/privacy/data-map", "GET"): None,
        # tenant-wide settings without ids: see tests/integration/privacy (the tenant's own row)
        ("/api/v1/privacy/retention", "GET"): None,
        ("/api/v1/privacy/retention", "PUT"): None,
        ("/api/v1/privacy/exports", "POST"): ("/api/v1/privacy/exports", {"person_id": "acme-only"}),
        ("/api/v1/privacy/erasures", "POST"): ("/api/v1/privacy/erasures", {"person_id": "acme-only"}),
        ("/api/v1/privacy/erasures/<int:erasure_id>", "GET"): (f"/api/v1/privacy/erasures/{ids['erasure']}",
                                                                None),
        # globex has its own people: see test_people_and_role_mapping_are_per_tenant below
        ("/api/v1/people", "GET"): None,
        ("/api/v1/people/<person_id>/role", "PUT"): (
            "/api/v1/people/acme-only/role", {"role": "admin"}),
        ("/api/v1/people/<person_id>/role", "DELETE"): ("/api/v1/people/acme-only/role", None),
        ("/api/v1/role-mapping", "GET"): None,
        ("/api/v1/role-mapping", "PUT"): None,
        ("/api/v1/role-mapping", "DELETE"): None,
        # no ids: the caller tenant's lists and policy (tests/integration/coaching/test_text_analyse.py)
        ("/api/v1/text/analyse", "POST"): None,
    }


def _acme_audit(db) -> int:
    with db.session() as session:
        query = select(func.count()).select_from(AuditEntry).where(AuditEntry.tenant_id == "acme")
        return session.scalar(query)


def test_every_route_with_another_tenants_ids_is_not_found(app, client, db, acme):
    cases = _cases(acme)
    routes = {(r.rule, m) for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")
              for m in r.methods - {"HEAD", "OPTIONS"}}
    assert routes == set(cases), f"routes without a cross-tenant case: {sorted(routes - set(cases))}"
    with db.session() as session:
        session.add(Person(tenant_id="acme", id="acme-only", name="Only in Acme", team_id="acme-team",
                           role="qa_analyst"))
    globex, before = _headers(app, "adm", "globex"), _acme_audit(db)
    for (rule, method), case in sorted(cases.items()):
        if case is None:
            continue
        url, body, *field = case
        response = client.open(url, method=method, headers=globex, json=body)
        if field:
            assert response.status_code in (404, 422), (rule, method, response.get_json())
            if response.status_code == 422:
                assert field[0] in [e["field"] for e in response.get_json()["errors"]], (rule, method)
        else:
            assert response.status_code == 404, (rule, method, response.status_code, response.get_json())
        assert response.mimetype == "application/problem+json", (rule, method)
    assert _acme_audit(db) == before, "a request of another tenant changed acme's data"


@pytest.mark.parametrize("url", ["/api/v1/forms", "/api/v1/evaluations", "/api/v1/disputes",
                                 "/api/v1/calibrations", "/api/v1/sampling-plans", "/api/v1/alerts",
                                 "/api/v1/inquiries", "/api/v1/workload/overdue", "/api/v1/interactions",
                                 "/api/v1/metrics?dims=agent_id", "/api/v1/queues", "/api/v1/groups"])
def test_tenant_wide_lists_show_nothing_of_another_tenant(app, client, acme, url):
    response = client.get(url, headers=_headers(app, "adm", "globex"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["items"] == [], url
    mine = client.get(url, headers=_headers(app, "adm"))
    assert mine.status_code == 200


def test_the_acme_fixture_really_made_data_globex_cannot_see(app, client, acme):
    """Guards the test above: acme's own admin does find each object."""
    admin = _headers(app, "adm")
    for url in (f"/api/v1/forms/{acme['form']}", f"/api/v1/evaluations/{acme['evaluation']}",
                f"/api/v1/disputes/{acme['dispute']}", f"/api/v1/calibrations/{acme['calibration']}",
                f"/api/v1/sampling-plans/{acme['plan']}", f"/api/v1/sampling-runs/{acme['run']}",
                "/api/v1/interactions/c1/analytics", f"/api/v1/alerts/{acme['alert']}"):
        assert client.get(url, headers=admin).status_code == 200, url


def test_phrase_lists_are_per_tenant(app, client, db, acme):
    """Globex's admin reads, replaces and reverts phrase lists: acme's own list is untouched."""
    rules = {"rules": [{"key": "acme_disclosure", "wordings": ["this call may be recorded for training"]}]}
    _ok(client.put("/api/v1/phrase-lists/required", json=rules, headers=_headers(app, "adm")))
    globex, before = _headers(app, "adm", "globex"), _acme_audit(db)
    seen = _ok(client.get("/api/v1/phrase-lists", headers=globex))["items"]
    assert {i["kind"]: i["source"] for i in seen} == {"required": "default", "prohibited": "default"}
    _ok(client.put("/api/v1/phrase-lists/required", headers=globex,
                   json={"rules": [{"key": "theirs", "wordings": ["hello there"]}]}))
    _ok(client.delete("/api/v1/phrase-lists/required", headers=globex))
    mine = _ok(client.get("/api/v1/phrase-lists", headers=_headers(app, "adm")))["items"]
    assert [r["key"] for r in mine[0]["rules"]] == ["acme_disclosure"] and mine[0]["version"] == 1
    assert _acme_audit(db) == before


def test_people_and_role_mapping_are_per_tenant(app, client, db, acme):
    """Globex's admin lists only globex's people and changes only globex's role mapping."""
    with db.session() as session:
        session.add(Person(tenant_id="acme", id="acme-only", name="Only in Acme", role="agent"))
    mapping = {"rules": [{"role": "qa_analyst", "when": {"groups": ["QA"]}}]}
    _ok(client.put("/api/v1/role-mapping", json=mapping, headers=_headers(app, "adm")))
    globex, before = _headers(app, "adm", "globex"), _acme_audit(db)
    assert _ok(client.get("/api/v1/people?q=only", headers=globex))["items"] == []
    assert {p["id"] for p in _ok(client.get("/api/v1/people", headers=globex))["items"]} == {
        p for p, *_ in PEOPLE}
    assert _ok(client.get("/api/v1/role-mapping", headers=globex))["is_default"] is True
    _ok(client.put("/api/v1/role-mapping", headers=globex, json={"rules": []}))
    _ok(client.delete("/api/v1/role-mapping", headers=globex))
    assert _ok(client.get("/api/v1/role-mapping", headers=_headers(app, "adm")))["rules"] == (
        mapping["rules"])
    assert _acme_audit(db) == before
