"""Quality: published evaluation forms, GET /api/v2/quality/publishedforms/evaluations/{formId}.

Responses are EvaluationFormResponse objects (EvaluationQuestionGroup, EvaluationQuestion,
AnswerOption, VisibilityCondition) with only fields the reference model defines. The sandbox
holds two fixed forms with stable ids:

* ``SUPPORT_FORM_ID`` "Support call": SCALED, two groups, a kill question, a critical question,
  a read-only text block and a question shown only when another was answered "No";
* ``SURVEY_FORM_ID`` "Survey follow-up": uses a multipleSelectQuestion (which Coachwire cannot
  import, so clients can exercise their error path).

Any other id is a 404 in the reference's ErrorBody shape.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from sandbox.errors import not_found
from sandbox.ids import stable_id
from sandbox.state import state
from sandbox.timeutil import iso

bp = Blueprint("sandbox_quality", __name__)

SUPPORT_FORM_ID = stable_id("evaluation-form", "support-call")
SURVEY_FORM_ID = stable_id("evaluation-form", "survey-follow-up")
PATH = "/api/v2/quality/publishedforms/evaluations"


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


def _form(form_id: str, name: str, groups: list[dict]) -> dict:
    return {"id": form_id, "name": name, "contextId": stable_id("form-context", form_id),
            "published": True, "weightMode": "SCALED", "questionGroups": groups,
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
    return {SUPPORT_FORM_ID: _form(SUPPORT_FORM_ID, "Support call", [opening, resolution]),
            SURVEY_FORM_ID: _form(SURVEY_FORM_ID, "Survey follow-up", [survey])}


@bp.get(f"{PATH}/<form_id>")
def published_form(form_id: str):
    form = forms().get(form_id)
    if form is None:
        raise not_found(f"Evaluation form {form_id}")
    return jsonify({**form, "modifiedDate": iso(state().now())})
