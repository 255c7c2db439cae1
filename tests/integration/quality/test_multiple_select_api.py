"""Multiple-select questions through the API: a form with one, answering it with a list of
option ids, scoring, release into analytics, and wrong shapes refused with the field path."""

from __future__ import annotations

import pytest

from extension.analytics.models.facts import InteractionFact
from extension.platform.models.audit import AuditEntry
from extension.quality.models.evaluations import Evaluation
from tests.integration.quality.conftest import add_interaction, snapshot, yes_no

CHECKS = {"id": "checks", "text": "Which checks were done?", "type": "multiple_select",
          "is_critical": True,
          "options": [{"id": "ident", "text": "Identity", "value": 2},
                      {"id": "addr", "text": "Address", "value": 1},
                      {"id": "consent", "text": "Consent", "value": 2}]}


def multi_form() -> dict:
    return {"name": "Sales call", "weight_mode": "SCALED",
            "groups": [{"id": "g1", "name": "Opening", "weight": 1,
                        "questions": [yes_no("greet"), CHECKS]}]}


@pytest.fixture
def multi_evaluation(client, db, people, token_for):
    created = client.post("/api/v1/forms", json=multi_form(), headers=token_for("mgr"))
    assert created.status_code == 201, created.get_json()
    form_id = created.get_json()["id"]
    assert client.post(f"/api/v1/forms/{form_id}/publish", headers=token_for("mgr")).status_code == 200
    add_interaction(db, "c1")
    body = {"conversation_id": "c1", "agent_id": "a1", "form_id": form_id, "evaluator_id": "qa1"}
    evaluation = client.post("/api/v1/evaluations", json=body, headers=token_for("mgr")).get_json()
    return f"/api/v1/evaluations/{evaluation['id']}"


def test_a_form_with_a_multiple_select_question_is_stored_as_sent(client, people, token_for):
    created = client.post("/api/v1/forms", json=multi_form(), headers=token_for("mgr"))
    assert created.status_code == 201, created.get_json()
    question = created.get_json()["latest"]["document"]["groups"][0]["questions"][1]
    assert question["type"] == "multiple_select" and len(question["options"]) == 3


def test_a_condition_on_a_multiple_select_question_is_422_at_its_pointer(client, people, token_for):
    doc = multi_form()
    doc["groups"][0]["questions"].append(
        yes_no("late", visibility={"question_id": "checks", "option_ids": ["ident"]}))
    response = client.post("/api/v1/forms", json=doc, headers=token_for("mgr"))
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "/groups/0/questions/2/visibility/question_id" in [
        e["field"] for e in response.get_json()["errors"]]


def test_multiple_select_answers_are_scored_and_released_into_analytics(
        client, db, multi_evaluation, token_for):
    qa, url = token_for("qa1"), multi_evaluation
    # greet yes 1/1, checks {ident, consent} 4 of 5: total 100 * 5/6 = 83.33, critical 80
    answers = {"greet": {"option_id": "greety"}, "checks": {"option_ids": ["consent", "ident"]}}
    saved = client.put(f"{url}/answers", json={"answers": answers}, headers=qa)
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    assert body["answers"]["checks"]["option_ids"] == ["consent", "ident"]
    assert body["total_score"] == pytest.approx(500 / 6)
    assert body["scoring"]["totalCriticalScore"] == pytest.approx(80.0)
    checks = body["scoring"]["questionGroupScores"][0]["questionScores"][1]
    assert checks["score"] == 4
    assert [(p["questionId"], p["score"]) for p in checks["multipleSelectQuestionOptionScores"]] == [
        ("ident", 2), ("addr", 0), ("consent", 2)]
    assert client.post(f"{url}/submit", headers=qa).status_code == 200
    assert client.post(f"{url}/release", headers=qa).status_code == 200
    with db.session() as session:
        assert session.get(InteractionFact, ("acme", "c1")).qa_score == pytest.approx(500 / 6)


def test_an_empty_selection_is_an_answer_and_can_be_submitted(client, db, multi_evaluation, token_for):
    qa, url = token_for("qa1"), multi_evaluation
    answers = {"greet": {"option_id": "greety"}, "checks": {"option_ids": []}}
    body = client.put(f"{url}/answers", json={"answers": answers}, headers=qa).get_json()
    assert body["total_score"] == pytest.approx(100 / 6) and body["scoring"]["unanswered"] == []
    assert client.post(f"{url}/submit", headers=qa).status_code == 200


@pytest.mark.parametrize(("answer", "field"), [
    ({"option_ids": "ident"}, "answers.checks.value.option_ids"),  # not a list
    ({"option_ids": ["ident", 3]}, "answers.checks.value.option_ids.1"),  # not a string
    ({"option_id": "ident"}, "/answers/checks"),  # one option for a multiple-select question
    ({"option_ids": ["ident", "nope"]}, "/answers/checks"),  # unknown option
])
def test_wrong_multiple_select_answers_are_422_and_change_nothing(
        client, db, multi_evaluation, token_for, answer, field):
    before = snapshot(db, Evaluation, AuditEntry)
    response = client.put(f"{multi_evaluation}/answers", json={"answers": {"checks": answer}},
                          headers=token_for("qa1"))
    assert response.status_code == 422, response.get_json()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.get_json()["errors"]], response.get_json()
    assert snapshot(db, Evaluation, AuditEntry) == before


def test_option_ids_on_a_yes_no_question_are_422(client, db, multi_evaluation, token_for):
    response = client.put(f"{multi_evaluation}/answers",
                          json={"answers": {"greet": {"option_ids": ["greety"]}}},
                          headers=token_for("qa1"))
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["/answers/greet"]
