"""Genesys Cloud evaluation forms and scoring sets, translated to and from Coachwire's.

``import_form`` turns an ``EvaluationFormResponse`` (``GET /api/v2/quality/publishedforms/
evaluations/{formId}``) into a ``Form``; ``answers_from_genesys`` reads the answers out of an
``EvaluationScoringSet``; ``to_scoring_set`` writes our ``ScoringSet`` in that model's field
names, so our score for Genesys's answers can be compared with Genesys's own field by field.

Mapping choices
* ``multipleChoiceQuestion`` with exactly two options becomes yes/no, otherwise multiple choice;
  ``freeTextQuestion`` free text; ``npsQuestion`` a scale. ``readOnlyTextBlockQuestion`` is not
  a question: its text is prepended to the help text of the next real question (or appended to
  the last one when nothing follows). ``multipleSelectQuestion`` cannot be represented yet.
* Ids stay Genesys's (question, option and group ids appear in Genesys scoring sets).
* A missing ``weightMode`` is read as OFF and a missing group weight as 1 (assumption).
* ``visibilityCondition``: predicates are option paths, ``/form/questionGroup/{g}/question/{q}/
  answer/{a}`` or ``../question/{q}/answer/{a}`` (same group). We can express "question X
  answered with one of these options": any OR over one question, or an AND of one predicate.
  Anything else (several questions, an AND of two options of one question) is an import issue.
* Group scores are exported as weighted points (``totalScore = weight * raw``, raw in the
  ``…Unweighted`` fields), percentages only at form level; ``None`` percentages become 0.
"""

from __future__ import annotations

import re
from typing import Any

from .forms import Form, InvalidForm, Issue, parse_form
from .scoring import Answer, Answers, GroupScore, QuestionScore, ScoringSet

__all__ = ["answers_from_genesys", "genesys_form_doc", "import_form", "to_scoring_set"]

_ABSOLUTE = re.compile(r"^/form/questionGroup/(\d+)/question/(\d+)/answer/(\d+)$")
_RELATIVE = re.compile(r"^\.\./question/(\d+)/answer/(\d+)$")
_TEXT_BLOCK = "readOnlyTextBlockQuestion"


def import_form(evaluation_form_response: dict) -> Form:
    """A ``Form`` equivalent to a Genesys form, or ``InvalidForm`` with Genesys-side paths."""
    doc, issues = genesys_form_doc(evaluation_form_response)
    if issues:
        raise InvalidForm(issues)
    return parse_form(doc)


def genesys_form_doc(response: dict) -> tuple[dict, list[Issue]]:
    """Our form document for a Genesys form, and what could not be carried over."""
    issues: list[Issue] = []
    pending: list[str] = []  # read-only text waiting for the next real question
    groups = []
    for gi, group in enumerate(response.get("questionGroups") or []):
        questions = []
        for qi, question in enumerate(group.get("questions") or []):
            if question.get("type") == _TEXT_BLOCK:
                pending.append(question.get("text") or "")
                continue
            path = f"/questionGroups/{gi}/questions/{qi}"
            converted = _question(question, path=path, context=(response, gi), issues=issues)
            if converted is not None:
                converted["help_text"] = _join([*pending, converted["help_text"]])
                pending = []
                questions.append(converted)
        if questions:
            groups.append(_group(group, questions, path=f"/questionGroups/{gi}",
                                 context=(response, gi), issues=issues))
    if pending and groups:
        last = groups[-1]["questions"][-1]
        last["help_text"] = _join([last["help_text"], *pending])
    doc = {"id": response.get("id"), "name": response.get("name"), "version": 1,
           "weight_mode": response.get("weightMode") or "OFF", "groups": groups}
    return doc, issues


def _join(texts: list[str]) -> str:
    return "\n\n".join(t for t in texts if t)


def _group(group: dict, questions: list[dict], *, path: str, context: tuple,
           issues: list[Issue]) -> dict:
    weight = group.get("weight")
    return {
        "id": group.get("id"),
        "name": group.get("name") or "",
        "weight": 1.0 if weight is None else weight,
        "na_enabled": bool(group.get("naEnabled")),
        "visibility": _condition(group.get("visibilityCondition"), path=path, context=context,
                                 issues=issues, relative_ok=False),
        "questions": questions,
    }


def _question(question: dict, *, path: str, context: tuple, issues: list[Issue]) -> dict | None:
    kind = _kind(question)
    if kind is None:
        issues.append(Issue(f"{path}/type", f"{question.get('type')!r} cannot be imported"))
        return None
    options = [] if kind == "free_text" else question.get("answerOptions") or []
    return {
        "id": question.get("id"),
        "text": question.get("text") or "",
        "help_text": question.get("helpText") or "",
        "type": kind,
        "na_enabled": bool(question.get("naEnabled")),
        "is_critical": bool(question.get("isCritical")),
        "is_kill": bool(question.get("isKill")),
        "options": [{"id": o.get("id"), "text": o.get("text") or "", "value": o.get("value", 0)}
                    for o in options],
        "visibility": _condition(question.get("visibilityCondition"), path=path,
                                 context=context, issues=issues, relative_ok=True),
    }


def _kind(question: dict) -> str | None:
    kind = question.get("type")
    if kind == "multipleChoiceQuestion":
        return "yes_no" if len(question.get("answerOptions") or []) == 2 else "multiple_choice"
    return {"freeTextQuestion": "free_text", "npsQuestion": "scale"}.get(kind)


def _condition(condition: dict | None, *, path: str, context: tuple, issues: list[Issue],
               relative_ok: bool) -> dict | None:
    """Our condition for a Genesys one, or None (and an issue) when it cannot be expressed."""
    predicates = (condition or {}).get("predicates") or []
    if not predicates:
        return None
    path = f"{path}/visibilityCondition"
    targets = []
    for i, predicate in enumerate(predicates):
        target = _resolve(predicate, context=context, relative_ok=relative_ok)
        if target is None:
            issues.append(Issue(f"{path}/predicates/{i}", "does not point at an answer option"))
            return None
        targets.append(target)
    question_ids = {q for q, _ in targets}
    option_ids = list(dict.fromkeys(o for _, o in targets))
    combining = condition.get("combiningOperation") or "AND"
    if len(question_ids) > 1 or (combining == "AND" and len(option_ids) > 1):
        issues.append(Issue(path, "only conditions on the answer of a single question "
                                  "(OR of its options) can be represented"))
        return None
    return {"question_id": question_ids.pop(), "option_ids": option_ids}


def _resolve(predicate: Any, *, context: tuple, relative_ok: bool) -> tuple[str, str] | None:
    response, current_group = context
    if not isinstance(predicate, str):
        return None
    absolute, relative = _ABSOLUTE.match(predicate), _RELATIVE.match(predicate)
    if absolute:
        gi, qi, ai = map(int, absolute.groups())
    elif relative and relative_ok:
        gi, (qi, ai) = current_group, map(int, relative.groups())
    else:
        return None
    try:
        question = response["questionGroups"][gi]["questions"][qi]
        option = question["answerOptions"][ai]
    except (IndexError, KeyError, TypeError):
        return None
    return question.get("id"), option.get("id")


# ---------------------------------------------------------------- scoring sets


def answers_from_genesys(scoring_set_answers: dict) -> Answers:
    """The evaluator's own answers in an ``EvaluationScoringSet``.

    N/A set by the system (visibility) is skipped: scoring decides visibility again. Question
    N/A inside a group the evaluator marked N/A is implied by the group.
    """
    questions: dict[str, Answer] = {}
    na_groups = set()
    for group in scoring_set_answers.get("questionGroupScores") or []:
        group_na = bool(group.get("markedNA")) and not group.get("systemMarkedNA")
        if group_na:
            na_groups.add(group["questionGroupId"])
        for score in group.get("questionScores") or []:
            answer = _answer(score, group_na=group_na)
            if answer is not None:
                questions[score["questionId"]] = answer
    return Answers(questions=questions, na_groups=frozenset(na_groups))


def _answer(score: dict, *, group_na: bool) -> Answer | None:
    if score.get("systemMarkedNA") or group_na:
        return None
    if score.get("markedNA"):
        return Answer(na=True, text=score.get("comments") or "")
    if score.get("answerId") is None and not score.get("comments"):
        return None
    return Answer(option_id=score.get("answerId"), text=score.get("comments") or "")


def to_scoring_set(result: ScoringSet) -> dict:
    """``result`` as an ``EvaluationScoringSet`` (only fields the reference model defines)."""
    return {
        "totalScore": result.total_score or 0.0,
        "totalCriticalScore": result.total_critical_score or 0.0,
        "totalNonCriticalScore": result.total_non_critical_score or 0.0,
        "maxTotalRawScore": float(result.max_total_raw_score),
        "maxTotalRawCriticalScore": float(result.max_total_raw_critical_score),
        "anyFailedKillQuestions": result.any_failed_kill_questions,
        "questionGroupScores": [_group_score(g) for g in result.group_scores],
    }


def _group_score(group: GroupScore) -> dict:
    w = group.weight
    return {
        "questionGroupId": group.group_id,
        "totalScore": w * group.total.score,
        "maxTotalScore": w * group.total.max,
        "markedNA": group.marked_na,
        "systemMarkedNA": group.marked_na and group.system_marked_na,
        "totalCriticalScore": w * group.critical.score,
        "maxTotalCriticalScore": w * group.critical.max,
        "totalNonCriticalScore": w * group.non_critical.score,
        "maxTotalNonCriticalScore": w * group.non_critical.max,
        "totalScoreUnweighted": group.total.score,
        "maxTotalScoreUnweighted": group.total.max,
        "totalCriticalScoreUnweighted": group.critical.score,
        "maxTotalCriticalScoreUnweighted": group.critical.max,
        "totalNonCriticalScoreUnweighted": group.non_critical.score,
        "maxTotalNonCriticalScoreUnweighted": group.non_critical.max,
        "questionScores": [_question_score(q) for q in group.question_scores],
    }


def _question_score(question: QuestionScore) -> dict:
    doc = {
        "questionId": question.question_id,
        "score": question.score,
        "markedNA": question.marked_na,
        "systemMarkedNA": question.marked_na and question.system_marked_na,
        "failedKillQuestion": question.failed_kill,
    }
    if question.option_id is not None:
        doc["answerId"] = question.option_id
    return doc
