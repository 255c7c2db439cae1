"""Evaluations API: assignment with auto pre-fill, answers and overrides, the lifecycle, scope."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extension.analytics.models.facts import InteractionFact, KpiRollupDaily
from extension.platform.errors import DomainError
from extension.platform.models.audit import AuditEntry
from extension.quality.models.evaluations import Evaluation
from tests.integration.quality.conftest import (
    ALL_YES,
    RECORDED,
    add_interaction,
    audit_actions,
    count,
    form_body,
    handled,
    snapshot,
    yes_no,
)

TABLES = (Evaluation, AuditEntry, InteractionFact, KpiRollupDaily)


def test_assign_prefills_objective_questions_from_the_interaction(client, db, assign, token_for):
    add_interaction(db, "c1", handle_ms=420_000, transcript=RECORDED)
    response = assign("c1", due_at="2026-12-01T12:00:00+00:00", reason={"plan": "p1"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "assigned" and body["form_version"] == 1
    assert body["evaluator_id"] == "qa1"  # equal headroom: fewest open, then id
    assert body["answers"]["fast"]["option_id"] == "fastn"  # 420 s is over the 300 s band
    assert body["answers"]["fast"]["source"] == "auto"
    assert body["answers"]["fast"]["auto"]["evidence"]["value"] == 420.0
    assert body["answers"]["disclosed"]["option_id"] == "disclosedy"
    assert "greet" not in body["answers"]
    assert body["reason"] == {"plan": "p1"} and body["due_at"].startswith("2026-12-01T12:00")
    assert audit_actions(db) == ["form.created", "form.published", "evaluation.assigned"]


def test_undecidable_rules_are_left_for_the_evaluator(client, db, assign):
    add_interaction(db, "c2", handle_ms=None, transcript=None, fact=False)
    body = assign("c2").get_json()
    assert body["answers"] == {}


def test_assign_is_idempotent_per_conversation_and_form(client, db, assign, published_form, token_for):
    first = assign("c1")
    second = assign("c1", evaluator_id="qa2")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert count(db, Evaluation) == 1
    assert audit_actions(db).count("evaluation.assigned") == 1


def test_the_service_assign_is_idempotent_and_picks_headroom(app, db, published_form, people):
    from extension.quality import evaluations

    handled(db, "c9")
    handled(db, "c10")
    with db.session() as session:
        one = evaluations.assign(session, tenant_id="acme", conversation_id="c9", agent_id="a1",
                                 form_id=published_form, actor="sampling:run-1", reason={"run": 1})
        again = evaluations.assign(session, tenant_id="acme", conversation_id="c9", agent_id="a1",
                                   form_id=published_form, actor="sampling:run-2")
        other = evaluations.assign(session, tenant_id="acme", conversation_id="c10", agent_id="a1",
                                   form_id=published_form, actor="sampling:run-1")
        assert one.id == again.id
        assert {one.evaluator_id, other.evaluator_id} == {"qa1", "qa2"}
        with pytest.raises(DomainError) as refused:
            evaluations.assign(session, tenant_id="acme", conversation_id="c11", agent_id=None,
                               form_id=published_form, actor="sampling:run-1")
        assert refused.value.status == 422 and refused.value.errors[0]["field"] == "agent_id"


def _lifecycle_url(client, assign, token_for, conversation="c1"):
    evaluation = assign(conversation, evaluator_id="qa1").get_json()
    return f"/api/v1/evaluations/{evaluation['id']}"


def test_the_full_lifecycle_scores_releases_into_analytics_and_is_acknowledged(
        client, db, assign, token_for):
    add_interaction(db, "c1", transcript=RECORDED)
    url = _lifecycle_url(client, assign, token_for)
    qa, agent = token_for("qa1"), token_for("a1")
    answered = client.put(f"{url}/answers", json={"answers": {"greet": {"option_id": "greetn"}}}, headers=qa)
    assert answered.status_code == 200
    assert answered.get_json()["status"] == "in_progress"
    assert answered.get_json()["scoring"]["unanswered"] == ["solved"]
    client.put(f"{url}/answers", json={"answers": {"solved": {"option_id": "solvedy"}}}, headers=qa)
    submitted = client.post(f"{url}/submit", headers=qa).get_json()
    assert submitted["status"] == "submitted"
    assert submitted["total_score"] == pytest.approx(75.0)  # 3 of 4 points, equal weights
    assert submitted["scoring"]["questionGroupScores"][0]["questionScores"][0]["answerId"] == "greetn"
    # the agent cannot see it before release
    assert client.get(url, headers=agent).status_code == 404
    released = client.post(f"{url}/release", headers=qa).get_json()
    assert released["status"] == "released"
    with db.session() as session:
        assert session.get(InteractionFact, ("acme", "c1")).qa_score == pytest.approx(75.0)
        rollup = session.scalars(select(KpiRollupDaily).where(KpiRollupDaily.agent_id == "a1")).one()
        assert (rollup.qa_n, rollup.qa_sum) == (1, pytest.approx(75.0))
    assert client.get(url, headers=agent).get_json()["status"] == "released"
    acknowledged = client.post(f"{url}/acknowledge", headers=agent)
    assert acknowledged.status_code == 200 and acknowledged.get_json()["status"] == "acknowledged"
    assert audit_actions(db)[-5:] == ["evaluation.answered", "evaluation.answered", "evaluation.submitted",
                                      "evaluation.released", "evaluation.acknowledged"]


def test_overriding_an_auto_answer_needs_a_reason_and_keeps_both(client, db, assign, token_for):
    add_interaction(db, "c1", transcript=RECORDED)
    url = _lifecycle_url(client, assign, token_for)
    qa = token_for("qa1")
    before = snapshot(db, *TABLES)
    refused = client.put(f"{url}/answers", json={"answers": {"fast": {"option_id": "fastn"}}}, headers=qa)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["/answers/fast/override_reason"]
    assert snapshot(db, *TABLES) == before
    done = client.put(f"{url}/answers", json={"answers": {"fast": {
        "option_id": "fastn", "override_reason": "long silence before the transfer"}}}, headers=qa)
    answer = done.get_json()["answers"]["fast"]
    assert answer["option_id"] == "fastn" and answer["source"] == "evaluator"
    assert answer["auto"]["option_id"] == "fasty"
    assert answer["override_reason"] == "long silence before the transfer"
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "evaluation.answered")).one()
        assert entry.details["overrides"]["fast"] == {"auto": "fasty", "evaluator": "fastn",
                                                      "reason": "long silence before the transfer"}
    # choosing the automatic value again needs no reason and restores the source
    again = client.put(f"{url}/answers", json={"answers": {"fast": {"option_id": "fasty"}}}, headers=qa)
    assert again.get_json()["answers"]["fast"]["source"] == "auto"


@pytest.mark.parametrize(("answers", "field"), [
    ({"answers": {"greet": {"option_id": "maybe"}}}, "/answers/greet"),
    ({"answers": {"nonsense": {"option_id": "x"}}}, "/answers/nonsense"),
    ({"answers": {"greet": {"na": True}}}, "/answers/greet"),
    ({"answers": {}, "na_groups": ["g1"]}, "/na_groups/g1"),
    ({"answers": {"greet": {"option_id": 3}}}, "answers.greet.value.option_id"),
    ({"answer": {}}, "answers"),
])
def test_answers_that_do_not_fit_the_form_are_422_and_change_nothing(
        client, db, assign, token_for, answers, field):
    url = _lifecycle_url(client, assign, token_for)
    before = snapshot(db, *TABLES)
    response = client.put(f"{url}/answers", json=answers, headers=token_for("qa1"))
    assert response.status_code == 422, response.get_json()
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert snapshot(db, *TABLES) == before


def test_submitting_with_unanswered_questions_is_422(client, db, assign, token_for):
    url = _lifecycle_url(client, assign, token_for)
    qa = token_for("qa1")
    client.put(f"{url}/answers", json={"answers": {"greet": {"option_id": "greety"}}}, headers=qa)
    before = snapshot(db, *TABLES)
    response = client.post(f"{url}/submit", headers=qa)
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {
        "/answers/fast", "/answers/disclosed", "/answers/solved"}
    assert snapshot(db, *TABLES) == before


@pytest.mark.parametrize(("steps", "action", "who"), [
    ((), "submit", "qa1"),
    ((), "release", "qa1"),
    (("answers",), "release", "qa1"),
    (("answers", "submit"), "submit", "qa1"),
    (("answers", "submit", "release"), "release", "qa1"),
    (("answers", "submit", "release", "acknowledge"), "acknowledge", "a1"),
    (("answers", "submit", "release", "retract"), "retract", "mgr"),
])
def test_illegal_transitions_are_409_and_change_nothing(client, db, assign, token_for, steps, action, who):
    add_interaction(db, "c1", transcript=RECORDED)
    url = _lifecycle_url(client, assign, token_for)
    actors = {"answers": "qa1", "submit": "qa1", "release": "qa1", "acknowledge": "a1", "retract": "mgr"}
    for step in steps:
        if step == "answers":
            response = client.put(f"{url}/answers", json={"answers": ALL_YES}, headers=token_for("qa1"))
        else:
            response = client.post(f"{url}/{step}", json={"reason": "dup"} if step == "retract" else None,
                                   headers=token_for(actors[step]))
        assert response.status_code == 200, (step, response.get_json())
    before = snapshot(db, *TABLES)
    response = client.post(f"{url}/{action}", json={"reason": "again"} if action == "retract" else None,
                           headers=token_for(who))
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert snapshot(db, *TABLES) == before


def test_answers_after_submission_are_409(client, db, assign, token_for):
    url = _lifecycle_url(client, assign, token_for)
    qa = token_for("qa1")
    client.put(f"{url}/answers", json={"answers": {**ALL_YES, "fast": {"option_id": "fasty"},
                                                   "disclosed": {"option_id": "disclosedy"}}}, headers=qa)
    client.post(f"{url}/submit", headers=qa)
    before = snapshot(db, *TABLES)
    assert client.put(f"{url}/answers", json={"answers": ALL_YES}, headers=qa).status_code == 409
    assert snapshot(db, *TABLES) == before


def test_evaluations_keep_their_form_version(client, db, assign, published_form, token_for):
    old = assign("c1").get_json()
    edited = form_body()
    edited["groups"][0]["questions"].append(yes_no("name_used"))
    client.put(f"/api/v1/forms/{published_form}", json=edited, headers=token_for("mgr"))
    client.post(f"/api/v1/forms/{published_form}/publish", headers=token_for("mgr"))
    new = assign("c2").get_json()
    assert (old["form_version"], new["form_version"]) == (1, 2)
    url = f"/api/v1/evaluations/{old['id']}"
    refused = client.put(f"{url}/answers", json={"answers": {"name_used": {"option_id": "name_usedy"}}},
                         headers=token_for(old["evaluator_id"]))
    assert refused.status_code == 422  # not a question of version 1
    assert client.get(url, headers=token_for("mgr")).get_json()["form_version"] == 1


def test_retract_frees_the_slot_takes_the_score_out_of_analytics_and_needs_a_reason(
        client, db, released, assign, token_for):
    url = f"/api/v1/evaluations/{released['id']}"
    before = snapshot(db, *TABLES)
    missing = client.post(f"{url}/retract", json={}, headers=token_for("mgr"))
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "reason"
    assert client.post(f"{url}/retract", json={"reason": "x"}, headers=token_for("qa1")).status_code == 403
    assert snapshot(db, *TABLES) == before
    retracted = client.post(f"{url}/retract", json={"reason": "wrong agent"}, headers=token_for("mgr"))
    assert retracted.status_code == 200 and retracted.get_json()["retract_reason"] == "wrong agent"
    with db.session() as session:
        assert session.get(InteractionFact, ("acme", "c1")).qa_score is None
    assert audit_actions(db)[-1] == "evaluation.retracted"
    again = assign("c1")
    assert again.status_code == 201 and again.get_json()["id"] != released["id"]


def test_release_without_a_fact_still_releases(client, db, assign, token_for):
    add_interaction(db, "c5", fact=False, transcript=RECORDED)
    url = _lifecycle_url(client, assign, token_for, conversation="c5")
    qa = token_for("qa1")
    client.put(f"{url}/answers", json={"answers": ALL_YES}, headers=qa)
    client.post(f"{url}/submit", headers=qa)
    assert client.post(f"{url}/release", headers=qa).get_json()["status"] == "released"
    assert count(db, InteractionFact) == 0


def test_reassign_moves_open_work_and_is_audited(client, db, assign, token_for):
    url = _lifecycle_url(client, assign, token_for)
    response = client.post(f"{url}/reassign", json={"evaluator_id": "qa2", "reason": "leave"},
                           headers=token_for("mgr"))
    assert response.status_code == 200 and response.get_json()["evaluator_id"] == "qa2"
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "evaluation.reassigned")).one()
        assert entry.details == {"from": "qa1", "to": "qa2", "reason": "leave"}
    # qa1 no longer sees it; qa2 does
    assert client.get(url, headers=token_for("qa1")).status_code == 404
    assert client.get(url, headers=token_for("qa2")).status_code == 200
    before = snapshot(db, *TABLES)
    for body, status in (({"evaluator_id": "qa2"}, 409), ({"evaluator_id": "a2"}, 422),
                         ({"evaluator_id": "a1"}, 422)):
        assert client.post(f"{url}/reassign", json=body, headers=token_for("mgr")).status_code == status
    assert snapshot(db, *TABLES) == before


@pytest.mark.parametrize(("body", "field"), [
    ({"agent_id": "a1", "form_id": "f"}, "conversation_id"),
    ({"conversation_id": "c", "agent_id": "a1", "form_id": "f", "due_at": "tomorrow"}, "due_at"),
    ({"conversation_id": "c", "agent_id": "a1", "form_id": "f", "due_at": "2026-12-01T10:00:00"}, "due_at"),
    ({"conversation_id": "c", "agent_id": "a1", "form_id": "f", "priority": 1}, "priority"),
])
def test_assign_body_errors_are_422_naming_the_field(client, db, people, token_for, body, field):
    response = client.post("/api/v1/evaluations", json=body, headers=token_for("mgr"))
    assert response.status_code == 422
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert count(db, Evaluation) == 0


def test_assign_refusals(client, db, people, published_form, token_for):
    headers = token_for("mgr")
    draft = client.post("/api/v1/forms", json=form_body(), headers=headers).get_json()["id"]
    base = {"conversation_id": "c1", "agent_id": "a1"}
    handled(db, "c1")
    cases = [({**base, "form_id": draft}, 409), ({**base, "form_id": "nope"}, 404),
             ({**base, "form_id": published_form, "evaluator_id": "a2"}, 422),
             ({**base, "form_id": published_form, "evaluator_id": "ghost"}, 422)]
    for body, status in cases:
        response = client.post("/api/v1/evaluations", json=body, headers=headers)
        assert response.status_code == status, body
    assert count(db, Evaluation) == 0
    for who in ("a1", "sup1", "qa1"):
        assert client.post("/api/v1/evaluations", json={**base, "form_id": published_form},
                           headers=token_for(who)).status_code == 403


def test_scope_of_reads(client, db, assign, released, token_for):
    other_team = assign("c3", agent_id="a3", evaluator_id="qa2").get_json()
    pending = assign("c4", agent_id="a1", evaluator_id="qa2").get_json()

    def ids(person):
        items = client.get("/api/v1/evaluations", headers=token_for(person)).get_json()["items"]
        return {e["id"] for e in items}

    assert ids("a1") == {released["id"]}  # own, released only
    assert ids("a2") == set()
    assert ids("a3") == set()  # a3's evaluation is not released
    assert ids("qa1") == {released["id"]}
    assert ids("qa2") == {other_team["id"], pending["id"]}
    assert ids("sup1") == {released["id"], pending["id"]}
    assert ids("sup2") == {other_team["id"]}
    assert ids("mgr") == {released["id"], other_team["id"], pending["id"]}
    assert client.get(f"/api/v1/evaluations/{pending['id']}", headers=token_for("a1")).status_code == 404
    assert client.get(f"/api/v1/evaluations/{other_team['id']}", headers=token_for("sup1")).status_code == 404
    # qa1 may not score qa2's evaluation
    before = snapshot(db, *TABLES)
    assert client.put(f"/api/v1/evaluations/{pending['id']}/answers", json={"answers": ALL_YES},
                      headers=token_for("qa1")).status_code == 404
    assert client.post(f"/api/v1/evaluations/{released['id']}/acknowledge",
                       headers=token_for("sup1")).status_code == 403
    assert snapshot(db, *TABLES) == before
    filtered = client.get("/api/v1/evaluations?status=assigned&agent_id=a1", headers=token_for("mgr"))
    assert [e["id"] for e in filtered.get_json()["items"]] == [pending["id"]]
    assert client.get("/api/v1/evaluations?status=lost", headers=token_for("mgr")).status_code == 400


def test_lists_page_with_cursors(client, db, assign, token_for):
    for i in range(5):
        assign(f"p{i}")
    seen, cursor = [], None
    while True:
        url = "/api/v1/evaluations?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=token_for("mgr")).get_json()
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5


def test_another_tenants_evaluation_is_not_found_everywhere(client, db, released, other_tenant, token_for):
    headers = token_for("adm", tenant_id=other_tenant)
    url = f"/api/v1/evaluations/{released['id']}"
    before = snapshot(db, *TABLES)
    assert client.get(url, headers=headers).status_code == 404
    assert client.put(f"{url}/answers", json={"answers": ALL_YES}, headers=headers).status_code == 404
    for action in ("submit", "release", "acknowledge", "retract", "reassign"):
        body = {"reason": "x"} if action in ("retract", "reassign") else None
        assert client.post(f"{url}/{action}", json=body, headers=headers).status_code == 404, action
    agent = token_for("a1", tenant_id=other_tenant)
    assert client.post(f"{url}/acknowledge", headers=agent).status_code == 404
    assert client.get("/api/v1/evaluations", headers=headers).get_json()["items"] == []
    # assigning with acme's form id from globex: no such form there
    response = client.post("/api/v1/evaluations", json={"conversation_id": "c1", "agent_id": "a1",
                                                        "form_id": released["form_id"]}, headers=headers)
    assert response.status_code == 404
    assert snapshot(db, *TABLES) == before


def test_auto_questions_the_data_cannot_decide_are_left_open_and_say_why(client, db, assign):
    add_interaction(db, "c2", handle_ms=None, transcript=None, fact=False)
    response = assign("c2")
    assert response.status_code == 201, response.get_json()
    assert {"fast", "disclosed"}.isdisjoint(response.get_json()["answers"])
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "evaluation.assigned")).one()
    assert entry.details["auto_answered"] == []
    assert entry.details["auto_undecided"] == {"fast": "handle time unknown",
                                               "disclosed": "no transcript"}


def test_an_evaluation_is_refused_for_an_agent_who_did_not_handle_the_conversation(
        client, db, people, other_tenant, published_form, token_for):
    add_interaction(db, "c1", agent_id="a1")  # a1 handled c1 (fact and interaction)
    add_interaction(db, "g1", agent_id="a1", tenant_id="globex", fact=False)  # globex's, not acme's
    before = snapshot(db, *TABLES)

    def post(conversation_id, agent_id):
        return client.post("/api/v1/evaluations", headers=token_for("mgr"), json={
            "conversation_id": conversation_id, "agent_id": agent_id, "form_id": published_form})

    for conversation_id, agent_id, field in (("c1", "a2", "agent_id"), ("g1", "a1", "conversation_id"),
                                             ("nowhere", "a1", "conversation_id")):
        response = post(conversation_id, agent_id)
        assert response.status_code == 422, (conversation_id, agent_id)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in response.get_json()["errors"]] == [field]
    assert snapshot(db, *TABLES) == before
    assert post("c1", "a1").status_code == 201
    # an open evaluation of c1 is not handed back for another agent either
    assert post("c1", "a2").status_code == 422
    with db.session() as session:
        from extension.quality import evaluations

        with pytest.raises(DomainError) as refused:  # the service refuses too (sampling runs)
            evaluations.assign(session, tenant_id="acme", conversation_id="c1", agent_id="a3",
                               form_id=published_form, actor="sampling:run-1")
    assert refused.value.status == 422 and refused.value.errors[0]["field"] == "agent_id"
