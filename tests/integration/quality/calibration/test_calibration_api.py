"""Calibration sessions over HTTP: create, blind scoring, close, report, drift alerts, scope."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import krippendorff
import numpy as np
import pytest

from extension.analytics.models.facts import PerformanceAlert
from extension.quality.api import calibration_schemas as qm_schemas
from extension.quality.models.calibration import CalibrationScore, CalibrationSession
from tests.integration.sampling.world import add_facts, audit_actions, count, fact

DAY = date(2026, 10, 5)
# Expected: expert adm; qa1 agrees with adm, qa2 is 25 points off on c0002, qa3 far off.
ANSWERS = {
    "adm": {"c0001": ("q1y", "q2y", "q3a"), "c0002": ("q1y", "q2n", "q3a")},
    "qa1": {"c0001": ("q1y", "q2y", "q3a"), "c0002": ("q1y", "q2n", "q3a")},
    "qa2": {"c0001": ("q1y", "q2y", "q3a"), "c0002": ("q1y", "q2n", "q3b")},
    "qa3": {"c0001": ("q1n", "q2n", "q3c"), "c0002": ("q1n", "q2n", "q3c")},
}


@pytest.fixture
def facts(world, db):
    add_facts(db, "acme", [fact(n, agent=f"a{n}", day=DAY) for n in (1, 2, 3)])
    add_facts(db, "globex", [fact(9, agent="a1", day=DAY)])


def create(client, headers, form_id, **changes):
    body = {"name": "October calibration", "form_id": form_id, "conversation_ids": ["c0001", "c0002"],
            "evaluator_ids": ["qa1", "qa2", "qa3"], "expert_id": "adm", "drift_threshold": 20, **changes}
    return client.post("/api/v1/calibrations", json=body, headers=headers)


def put_score(client, headers, session_id, conversation, picks):
    answers = {q: {"option_id": o} for q, o in zip(("q1", "q2", "q3"), picks, strict=True)}
    return client.put(f"/api/v1/calibrations/{session_id}/scores", headers=headers,
                      json={"conversation_id": conversation, "answers": answers})


@pytest.fixture
def session_id(client, facts, form_id, token_for):
    response = create(client, token_for("mgr", "manager"), form_id)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_create_stores_an_open_session_and_audits_it(client, db, session_id, token_for):
    body = client.get(f"/api/v1/calibrations/{session_id}", headers=token_for("mgr", "manager")).get_json()
    assert not qm_schemas.CalibrationDetail().validate(body)
    assert body["status"] == "open" and body["blind"] and body["form_version"] == 1
    assert body["evaluator_ids"] == ["qa1", "qa2", "qa3"] and body["expert_id"] == "adm"
    assert [p["evaluator_id"] for p in body["progress"]] == ["qa1", "qa2", "qa3", "adm"]
    assert "calibration.created" in audit_actions(db)
    listed = client.get("/api/v1/calibrations", headers=token_for("mgr", "manager")).get_json()
    assert [i["id"] for i in listed["items"]] == [session_id]
    assert not qm_schemas.CalibrationsPage().validate(listed)


def test_invalid_bodies_name_the_field_and_change_nothing(client, db, facts, form_id, token_for):
    headers = token_for("mgr", "manager")
    before = audit_actions(db)
    bad = create(client, headers, form_id, evaluator_ids=["qa1", "ghost"],
                 conversation_ids=["c0001", "c0009"])
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    fields = {e["field"] for e in bad.get_json()["errors"]}
    assert fields == {"evaluator_ids.1", "conversation_ids.1"}  # c0009 belongs to globex
    unknown_form = create(client, headers, "nope")
    assert unknown_form.status_code == 422 and unknown_form.get_json()["errors"][0]["field"] == "form_id"
    schema = create(client, headers, form_id, drift_threshold=-1, evaluator_ids=[])
    assert schema.status_code == 422
    assert {e["field"] for e in schema.get_json()["errors"]} >= {"drift_threshold", "evaluator_ids"}
    expert_twice = create(client, headers, form_id, expert_id="qa1")
    assert expert_twice.get_json()["errors"][0]["field"] == "expert_id"
    not_json = client.post("/api/v1/calibrations", data="x", headers=headers)
    assert not_json.status_code == 415
    assert count(db, CalibrationSession) == 0 and audit_actions(db) == before


def test_scoring_is_blind_until_closed_then_the_report_has_agreement_deviation_and_alpha(
        client, db, session_id, token_for):
    for rater, by_conversation in ANSWERS.items():
        role = "admin" if rater == "adm" else "qa_analyst"
        for conversation, picks in by_conversation.items():
            response = put_score(client, token_for(rater, role), session_id, conversation, picks)
            assert response.status_code == 201, response.get_json()
    # a replacement is a 200 and keeps one row
    again = put_score(client, token_for("qa1", "qa_analyst"), session_id, "c0001", ANSWERS["qa1"]["c0001"])
    assert again.status_code == 200 and again.get_json()["total_score"] == 100.0
    assert count(db, CalibrationScore, evaluator_id="qa1") == 2

    url = f"/api/v1/calibrations/{session_id}"
    qa2_view = client.get(url, headers=token_for("qa2", "qa_analyst")).get_json()
    assert {s["evaluator_id"] for s in qa2_view["scores"]} == {"qa2"}  # never another's answers
    assert {p["evaluator_id"]: p["scored"] for p in qa2_view["progress"]} == {"qa1": 2, "qa2": 2, "qa3": 2,
                                                                            "adm": 2}
    lead_view = client.get(url, headers=token_for("mgr", "manager")).get_json()
    assert lead_view["scores"] == []  # the lead is not a rater: sees progress only
    assert client.get(f"{url}/report", headers=token_for("mgr", "manager")).status_code == 409

    closed = client.post(f"{url}/close", headers=token_for("mgr", "manager"))
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    after = client.get(url, headers=token_for("qa2", "qa_analyst")).get_json()
    assert not after["blind"] and len(after["scores"]) == 8

    report = client.get(f"{url}/report", headers=token_for("mgr", "manager")).get_json()
    assert not qm_schemas.CalibrationReport().validate(report)
    agreement = {q["question_id"]: q["agreement"] for q in report["questions"]}
    # q1: y,y,y,n twice -> 3/4; q2: 3/4 then all n -> 7/8; q3: a,a,a,c -> 3/4, a,a,b,c -> 2/4
    assert agreement == pytest.approx({"q1": 0.75, "q2": 0.875, "q3": 0.625})
    deviations = {e["evaluator_id"]: e for e in report["evaluators"]}
    assert set(deviations) == {"qa1", "qa2", "qa3"} and report["reference"] == "expert"
    assert deviations["qa1"]["mean_abs_diff"] == 0 and deviations["qa1"]["disagreement_rate"] == 0
    # totals (max 4 points): adm 100/75, qa2 100/50 -> 12.5; qa3 0/0 -> 87.5
    assert deviations["qa2"]["mean_abs_diff"] == pytest.approx(12.5) and not deviations["qa2"]["drift"]
    assert deviations["qa2"]["disagreement_rate"] == pytest.approx(1 / 6)
    assert deviations["qa3"]["mean_abs_diff"] == pytest.approx(87.5) and deviations["qa3"]["drift"]
    assert deviations["qa3"]["disagreement_rate"] == pytest.approx(5 / 6)
    raters = ("qa1", "qa2", "qa3", "adm")
    totals = {"adm": (100, 75), "qa1": (100, 75), "qa2": (100, 50), "qa3": (0, 0)}
    expected_total = krippendorff.alpha(reliability_data=[totals[r] for r in raters],
                                        level_of_measurement="interval")
    assert report["alpha"]["total_interval"] == pytest.approx(expected_total)
    codes: dict[str, int] = {}
    matrix = [[codes.setdefault(o, len(codes)) for c in ("c0001", "c0002") for o in ANSWERS[r][c]]
              for r in raters]
    expected_nominal = krippendorff.alpha(reliability_data=np.array(matrix, dtype=float),
                                          level_of_measurement="nominal")
    assert report["alpha"]["answers_nominal"] == pytest.approx(expected_nominal)

    with db.session() as session:
        alerts = session.query(PerformanceAlert).filter_by(tenant_id="acme").all()
        assert [(a.kind, a.subject_type, a.subject_id) for a in alerts] == [
            ("calibration", "evaluator", "qa3")]
        assert alerts[0].value == pytest.approx(87.5) and session_id in alerts[0].key
    actions = audit_actions(db)
    assert actions.count("calibration.scored") == 9 and "calibration.closed" in actions
    assert "alert.raised" in actions

    # closed: no more scores, no second close, and the alert is not duplicated
    late = put_score(client, token_for("qa1", "qa_analyst"), session_id, "c0001", ("q1n", "q2n", "q3c"))
    assert late.status_code == 409
    assert client.post(f"{url}/close", headers=token_for("mgr", "manager")).status_code == 409
    assert count(db, PerformanceAlert, tenant_id="acme") == 1


def test_a_re_raised_drift_alert_updates_the_same_row(client, db, session_id, token_for, app):
    from extension.quality import calibration as service
    from extension.quality.domain.calibration import EvaluatorDeviation

    deviation = EvaluatorDeviation("qa3", "expert", 2, 40.0, 6, 0.5, True)
    with db.session() as session:
        row = service.session_or_404(session, "acme", session_id)
        service._raise_alert(session, row, deviation, actor="mgr")
        service._raise_alert(session, row, replace(deviation, mean_abs_diff=55.0), actor="mgr")
    with db.session() as session:
        alerts = session.query(PerformanceAlert).filter_by(tenant_id="acme").all()
        assert len(alerts) == 1 and alerts[0].value == 55.0


def test_bad_scores_are_refused_with_the_field_and_nothing_is_stored(client, db, session_id, token_for):
    headers = token_for("qa1", "qa_analyst")
    url = f"/api/v1/calibrations/{session_id}/scores"
    wrong_option = client.put(url, headers=headers, json={"conversation_id": "c0001",
                                                          "answers": {"q1": {"option_id": "zz"}}})
    assert wrong_option.status_code == 422 and wrong_option.get_json()["errors"][0]["field"] == "answers.q1"
    na_refused = client.put(url, headers=headers,
                            json={"conversation_id": "c0001", "answers": {"q1": {"na": True}}})
    assert na_refused.status_code == 422 and na_refused.get_json()["errors"][0]["field"] == "answers.q1"
    unknown_question = client.put(url, headers=headers, json={"conversation_id": "c0001",
                                                              "answers": {"q9": {"option_id": "q1y"}}})
    assert unknown_question.get_json()["errors"][0]["field"] == "answers.q9"
    outside = client.put(url, headers=headers, json={"conversation_id": "c0003", "answers": {}})
    assert outside.status_code == 422 and outside.get_json()["errors"][0]["field"] == "conversation_id"
    missing = client.put(url, headers=headers, json={"answers": {}})
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "conversation_id"
    not_a_rater = put_score(client, token_for("sup1", "supervisor"), session_id, "c0001",
                            ("q1y", "q2y", "q3a"))
    assert not_a_rater.status_code == 404  # not in their scope: as if it did not exist
    assert count(db, CalibrationScore) == 0
    assert "calibration.scored" not in audit_actions(db)


def test_a_supervisor_who_is_not_a_rater_cannot_read_the_session_open_or_closed(
        client, db, session_id, token_for):
    url = f"/api/v1/calibrations/{session_id}"
    outsider, rater = token_for("sup1", "supervisor"), token_for("qa1", "qa_analyst")
    for status in ("open", "closed"):
        if status == "closed":
            assert client.post(f"{url}/close", headers=token_for("mgr", "manager")).status_code == 200
        response = client.get(url, headers=outsider)
        assert response.status_code == 404, status
        assert response.headers["content-type"].startswith("application/problem+json")
        assert client.get(f"{url}/report", headers=outsider).status_code == 404
        assert client.get(url, headers=rater).status_code == 200  # a rater still sees it
        assert client.get(url, headers=token_for("adm", "admin")).status_code == 200
        assert client.get(url, headers=token_for("mgr", "manager")).status_code == 200  # its creator
    assert client.get(f"{url}/report", headers=rater).status_code == 200
    assert client.get("/api/v1/calibrations?status=all", headers=outsider).get_json()["items"] == []
    assert client.post(f"{url}/close", headers=outsider).status_code == 403  # no permission at all


def test_roles_and_other_tenants(client, db, session_id, token_for, form_id):
    assert client.get("/api/v1/calibrations", headers=token_for("a1", "agent")).status_code == 403
    assert create(client, token_for("sup1", "supervisor"), form_id).status_code == 403
    url = f"/api/v1/calibrations/{session_id}"
    assert client.post(f"{url}/close", headers=token_for("qa1", "qa_analyst")).status_code == 200
    stranger = token_for("mgr", "manager", tenant_id="globex")
    assert client.get(url, headers=stranger).status_code == 404
    assert client.get(f"{url}/report", headers=stranger).status_code == 404
    assert client.post(f"{url}/close", headers=stranger).status_code == 404
    assert put_score(client, token_for("qa1", "qa_analyst", tenant_id="globex"), session_id, "c0001",
                     ("q1y", "q2y", "q3a")).status_code == 404
    assert client.get("/api/v1/calibrations", headers=stranger).get_json()["items"] == []
    # globex's form id is not acme's
    from tests.integration.sampling.world import make_form

    globex_form = make_form(db, "globex")
    assert create(client, token_for("mgr", "manager"), globex_form).status_code == 422


def test_a_form_with_a_multiple_select_question_can_be_calibrated(client, db, facts, token_for):
    from extension.quality import forms as quality_forms

    checks = {"id": "checks", "text": "Which checks were done?", "type": "multiple_select",
              "options": [{"id": "ident", "text": "Identity", "value": 2},
                          {"id": "addr", "text": "Address", "value": 1},
                          {"id": "consent", "text": "Consent", "value": 2}]}
    with db.session() as session:
        form = quality_forms.create_form(session, tenant_id="acme", actor="mgr", data={
            "name": "Checks", "weight_mode": "OFF",
            "groups": [{"id": "g1", "name": "Checks", "weight": 1, "questions": [checks]}]})
        quality_forms.publish(session, tenant_id="acme", form_id=form.id, actor="mgr")
        form_id = form.id
    created = create(client, token_for("mgr", "manager"), form_id, evaluator_ids=["qa1", "qa2"],
                     expert_id=None)
    assert created.status_code == 201, created.get_json()
    url = f"/api/v1/calibrations/{created.get_json()['id']}"
    picks = {("qa1", "c0001"): ["ident", "consent"], ("qa2", "c0001"): ["consent", "ident"],
             ("qa1", "c0002"): ["ident"], ("qa2", "c0002"): ["ident", "addr"]}
    for (rater, conversation), chosen in picks.items():
        response = client.put(f"{url}/scores", headers=token_for(rater, "qa_analyst"), json={
            "conversation_id": conversation, "answers": {"checks": {"option_ids": chosen}}})
        assert response.status_code in (200, 201), response.get_json()
    wrong = client.put(f"{url}/scores", headers=token_for("qa1", "qa_analyst"), json={
        "conversation_id": "c0001", "answers": {"checks": {"option_id": "ident"}}})
    assert wrong.status_code == 422  # a multiple-select question takes option_ids
    with db.session() as session:
        stored = {(r.evaluator_id, r.conversation_id): r.total_score
                  for r in session.query(CalibrationScore).all()}
    assert stored == {("qa1", "c0001"): 80.0, ("qa2", "c0001"): 80.0,
                      ("qa1", "c0002"): 40.0, ("qa2", "c0002"): 60.0}
    closed = client.post(f"{url}/close", headers=token_for("mgr", "manager"))
    assert closed.status_code == 200, closed.get_json()
    report = client.get(f"{url}/report", headers=token_for("mgr", "manager")).get_json()
    [question] = report["questions"]
    # same set on c0001 (order does not matter), different sets on c0002
    assert question["question_id"] == "checks" and question["agreement"] == pytest.approx(0.75)
