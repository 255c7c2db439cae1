"""Quality: published evaluation forms, GET /api/v2/quality/publishedforms/evaluations/{formId}.

Responses are EvaluationFormResponse objects (EvaluationQuestionGroup, EvaluationQuestion,
AnswerOption, VisibilityCondition) with only fields the reference model defines. The sandbox
holds two fixed forms with stable ids:

* ``SUPPORT_FORM_ID`` "Support call": SCALED, two groups, a kill question, a critical question,
  a read-only text block and a question shown only when another was answered "No";
* ``SURVEY_FORM_ID`` "Survey follow-up": a multipleSelectQuestion without
  ``multipleSelectOptionQuestions`` (which Coachwire cannot import, so clients can exercise
  their error path);
* ``SALES_FORM_ID`` "Sales follow-up": OFF weights, a yes/no question and a multipleSelectQuestion
  whose options are sub-questions with ``Selected`` / ``Unselected`` answers (``builtInType``).

Any other id is a 404 in the reference's ErrorBody shape.

Evaluations: ``GET /api/v2/quality/conversations/{conversationId}/evaluations/{evaluationId}``
returns an EvaluationResponse (``expand=evaluationForm`` puts the full form in
``evaluationForm``). ``POST /sandbox/control/evaluations`` creates or changes one, as an
evaluator in the Genesys UI would: the body names ``id`` (optional), ``conversationId``,
``agentId``, ``evaluatorId``, ``formId``, ``status`` (PENDING, INPROGRESS, FINISHED, INREVIEW,
RETRACTED), ``answers`` (the EvaluationScoringSet Genesys computed: the sandbox does not score),
``released`` and ``agentHasRead``. Each change bumps ``version`` and ``changedDate`` and
publishes a ``v2.quality.evaluations`` notification (EvaluationQualityV2TopicEvaluationV2),
which the response also returns so a test can deliver it to a webhook.
"""

from __future__ import annotations

import threading

from flask import Blueprint, current_app, jsonify, request

from sandbox.errors import bad_request, not_found
from sandbox.ids import stable_id
from sandbox.state import state, world
from sandbox.timeutil import iso

bp = Blueprint("sandbox_quality", __name__)

SUPPORT_FORM_ID = stable_id("evaluation-form", "support-call")
SURVEY_FORM_ID = stable_id("evaluation-form", "survey-follow-up")
SALES_FORM_ID = stable_id("evaluation-form", "sales-follow-up")
PATH = "/api/v2/quality/publishedforms/evaluations"
EVALUATIONS = "/api/v2/quality/conversations/<conversation_id>/evaluations/<evaluation_id>"
STATUSES = ("PENDING", "INPROGRESS", "FINISHED", "INREVIEW", "RETRACTED")
TOPIC_STATUS = {"PENDING": "Pending", "INPROGRESS": "InProgress", "FINISHED": "Finished",
                "INREVIEW": "InReview", "RETRACTED": "Retracted"}  # the topic model's enum


def _option(key: str, text: str, value: int) -> dict:
    oid = stable_id("answer", key)
    return {"id": oid, "contextId": stable_id("answer-context", key), "text": text, "value": value}


def _question(key: str, text: str, *, kind: str = "multipleChoiceQuestion", options=None,
              visibility: dict | None = None, **flags) -> dict:
    doc = {"id": stable_id("question", key), "contextId": stable_id("question-context", key),
           "text": text, "helpText": flags.pop("help_text", ""), "type": kind,
           "naEnabled": flags.pop("na", False), "commentsRequired": False,
           "isKill": flags.pop("kill", False), "isCritical": flags.pop("critical", False),
           "answerOptions": options or []}
    if visibility:
        doc["visibilityCondition"] = visibility
    return doc


def _yes_no(key: str, text: str, **flags) -> dict:
    return _question(key, text, options=[_option(f"{key}-yes", "Yes", 1), _option(f"{key}-no", "No", 0)],
                     **flags)


def _group(key: str, name: str, weight: float, questions: list[dict], *, na: bool = False) -> dict:
    return {"id": stable_id("group", key), "contextId": stable_id("group-context", key), "name": name,
            "type": "questionGroup", "defaultAnswersToHighest": False, "defaultAnswersToNA": False,
            "naEnabled": na, "weight": weight, "manualWeight": True, "questions": questions}


def _select_option(key: str, text: str, value: int) -> dict:
    """One option of a multipleSelectQuestion: a sub-question answered Selected or Unselected."""
    return _question(key, text, options=[
        {**_option(f"{key}-selected", "Selected", value), "builtInType": "Selected"},
        {**_option(f"{key}-unselected", "Unselected", 0), "builtInType": "Unselected"}])


def _form(form_id: str, name: str, groups: list[dict], *, mode: str = "SCALED") -> dict:
    return {"id": form_id, "name": name, "contextId": stable_id("form-context", form_id),
            "published": True, "weightMode": mode, "questionGroups": groups,
            "evaluationSettings": {"revisionsEnabled": True, "disputesEnabled": True},
            "latestVersionFormName": name, "selfUri": f"{PATH}/{form_id}"}


def forms() -> dict[str, dict]:
    opening = _group("opening", "Opening", 40, [
        _question("script-note", "Read the opening script exactly.", kind="readOnlyTextBlockQuestion"),
        _yes_no("greeting", "Did the agent greet the customer by name?"),
        _yes_no("recording", "Did the agent say the call may be recorded?", kill=True),
    ])
    resolution = _group("resolution", "Resolution", 20, [
        _yes_no("resolved", "Was the issue resolved?", critical=True),
        _yes_no("next-steps", "Were next steps explained?", na=True, visibility={
            "combiningOperation": "AND", "predicates": ["../question/0/answer/1"]}),
        _question("notes", "Notes", kind="freeTextQuestion"),
    ], na=True)
    survey = _group("survey", "Survey", 1, [
        _question("topics", "Which topics came up?", kind="multipleSelectQuestion"),
    ])
    checks = _question("checks", "Which checks were done?", kind="multipleSelectQuestion")
    checks["multipleSelectOptionQuestions"] = [
        _select_option("check-identity", "Identity verified", 2),
        _select_option("check-address", "Address confirmed", 1),
        _select_option("check-consent", "Marketing consent asked", 2)]
    sales = _group("sales", "Sales", 1, [_yes_no("offer", "Was an offer made?"), checks])
    return {SUPPORT_FORM_ID: _form(SUPPORT_FORM_ID, "Support call", [opening, resolution]),
            SURVEY_FORM_ID: _form(SURVEY_FORM_ID, "Survey follow-up", [survey]),
            SALES_FORM_ID: _form(SALES_FORM_ID, "Sales follow-up", [sales], mode="OFF")}


@bp.get(f"{PATH}/<form_id>")
def published_form(form_id: str):
    form = forms().get(form_id)
    if form is None:
        raise not_found(f"Evaluation form {form_id}")
    return jsonify({**form, "modifiedDate": iso(state().now())})


# ---------------------------------------------------------------- evaluations


def _store() -> tuple[threading.Lock, dict[str, dict]]:
    return current_app.extensions.setdefault("sandbox_evaluations", (threading.Lock(), {}))


@bp.get(EVALUATIONS)
def evaluation(conversation_id: str, evaluation_id: str):
    lock, evaluations = _store()
    with lock:
        found = evaluations.get(evaluation_id)
    if found is None or found["conversation"]["id"] != conversation_id:
        raise not_found(f"Evaluation {evaluation_id}")
    expand = {part.strip() for part in request.args.get("expand", "").split(",")}
    form = forms().get(found["evaluationForm"]["id"])
    if "evaluationForm" in expand and form is not None:
        found = {**found, "evaluationForm": {**form, "modifiedDate": found["createdDate"]}}
    return jsonify(found)


@bp.post("/sandbox/control/evaluations")
def change_evaluation():
    body = request.get_json(silent=True) or {}
    if body.get("status") not in STATUSES:
        raise bad_request(f"status must be one of {', '.join(STATUSES)}")
    if body.get("formId") not in forms():
        raise bad_request("formId must be a sandbox form id")
    for key in ("conversationId", "agentId", "evaluatorId"):
        if not isinstance(body.get(key), str) or not body[key]:
            raise bad_request(f"{key} is required")
    lock, evaluations = _store()
    with lock:
        evaluation_id = body.get("id") or stable_id(
            "evaluation", body["conversationId"], body["formId"], body["agentId"])
        found = _changed(evaluations.get(evaluation_id), {**body, "id": evaluation_id})
        evaluations[found["id"]] = found
    message = {"topicName": "v2.quality.evaluations", "version": "2",
               "eventBody": topic_body(found),
               "metadata": {"CorrelationId": f"{found['id']}-v{found['version']}"}}
    state().hub.publish_message(message)
    return jsonify(evaluation=found, notification=message)


def _changed(previous: dict | None, body: dict) -> dict:
    now = iso(state().now())
    evaluation_id = body["id"]
    doc = {
        "id": evaluation_id, "conversation": {"id": body["conversationId"]},
        "evaluationForm": {"id": body["formId"], "name": forms()[body["formId"]]["name"]},
        "evaluator": _user(body["evaluatorId"]), "agent": _user(body["agentId"]),
        "status": body["status"], "answers": body.get("answers") or {},
        "agentHasRead": bool(body.get("agentHasRead")),
        "assignedDate": (previous or {}).get("assignedDate", now),
        "createdDate": (previous or {}).get("createdDate", now), "changedDate": now,
        "version": (previous or {}).get("version", 0) + 1,
        "selfUri": f"/api/v2/quality/conversations/{body['conversationId']}/evaluations/"
                   f"{evaluation_id}",
    }
    if body["status"] in ("FINISHED", "INREVIEW"):
        doc["submittedDate"] = (previous or {}).get("submittedDate", now)
    if body.get("released"):
        doc["releaseDate"] = (previous or {}).get("releaseDate", now)
    return doc


def _user(user_id: str) -> dict:
    person = world().people.get(user_id)
    return {"id": user_id, "name": person.name if person else user_id, "version": 1}


def topic_body(evaluation_: dict) -> dict:
    """The ``v2.quality.evaluations`` eventBody for an evaluation (no answers: the topic model
    carries only the totals)."""
    answers = evaluation_.get("answers") or {}
    body = {
        "id": evaluation_["id"], "conversationId": evaluation_["conversation"]["id"],
        "agent": {"id": evaluation_["agent"]["id"]},
        "evaluator": {"id": evaluation_["evaluator"]["id"]}, "eventTime": evaluation_["changedDate"],
        "evaluationFormId": evaluation_["evaluationForm"]["id"],
        "formName": evaluation_["evaluationForm"]["name"],
        "status": TOPIC_STATUS[evaluation_["status"]], "agentHasRead": evaluation_["agentHasRead"],
        "assignedDate": evaluation_["assignedDate"], "changedDate": evaluation_["changedDate"],
        "version": evaluation_["version"],
    }
    if "totalScore" in answers:
        body["scoringSet"] = {"totalScore": round(answers["totalScore"]),
                              "totalCriticalScore": round(answers.get("totalCriticalScore") or 0)}
    if "releaseDate" in evaluation_:
        body["releaseDate"] = evaluation_["releaseDate"]
    return body
