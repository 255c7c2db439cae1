"""Genesys Cloud evaluation forms and scoring sets, translated to and from Coachwire's.

``import_form`` turns an ``EvaluationFormResponse`` (``GET /api/v2/quality/publishedforms/
evaluations/{formId}``) into a ``Form``; ``answers_from_genesys`` reads the answers out of an
``EvaluationScoringSet``; ``to_scoring_set`` writes our ``ScoringSet`` in that model's field
names, so our score for Genesys's answers can be compared with Genesys's own field by field.

Mapping choices
* ``multipleChoiceQuestion`` with exactly two options becomes yes/no, otherwise multiple choice;
  ``freeTextQuestion`` free text; ``npsQuestion`` a scale. ``readOnlyTextBlockQuestion`` is not
  a question: its text is prepended to the help text of the next real question (or appended to
  the last one when nothing follows).
* ``multipleSelectQuestion`` becomes multiple select: each of its ``multipleSelectOptionQuestions``
  (a sub-question whose answer options are typed by ``AnswerOption.builtInType`` ``Selected`` /
  ``Unselected``) becomes one option, id = the sub-question's id, value = its ``Selected``
  answer's value. A sub-question without exactly one ``Selected`` answer, or whose
  ``Unselected`` answer is worth anything but 0, is an import issue (we score an unpicked
  option 0). How the per-option scores add up to the question's score is assumption (A) rule 1b
  in ``extension.quality.domain.scoring``.
* Multiple-select answers live in ``multipleSelectQuestionOptionScores`` (one
  ``EvaluationQuestionScore`` per option, ``answerId`` = the sub-question's Selected or
  Unselected answer). Reading them needs the form (which answer id means "selected"), so
  ``answers_from_genesys`` and ``to_scoring_set`` take the ``EvaluationFormResponse`` as
  ``form_response``. (A) An N/A or unanswered multiple-select question has no option scores.
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

from extension.quality.domain.forms import Form, InvalidForm, Issue, parse_form
from extension.quality.domain.scoring import (
    Answer,
    Answers,
    GroupScore,
    OptionPick,
    QuestionScore,
    ScoringSet,
)

__all__ = ["answers_from_genesys", "genesys_form_doc", "import_form", "select_answer_ids",
           "to_scoring_set"]

_ABSOLUTE = re.compile(r"^/form/questionGroup/(\d+)/question/(\d+)/answer/(\d+)$")
_RELATIVE = re.compile(r"^\.\./question/(\d+)/answer/(\d+)$")
_TEXT_BLOCK = "readOnlyTextBlockQuestion"
_MULTIPLE = "multipleSelectQuestion"


def import_form(evaluation_form_response: dict[str, Any]) -> Form:
    """A ``Form`` equivalent to a Genesys form, or ``InvalidForm`` with Genesys-side paths."""
    doc, issues = genesys_form_doc(evaluation_form_response)
    if issues:
        raise InvalidForm(issues)
    return parse_form(doc)


def genesys_form_doc(response: dict[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
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


def _group(group: dict[str, Any], questions: list[dict[str, Any]], *, path: str,
           context: tuple[dict[str, Any], int], issues: list[Issue]) -> dict[str, Any]:
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


def _question(question: dict[str, Any], *, path: str, context: tuple[dict[str, Any], int],
              issues: list[Issue]) -> dict[str, Any] | None:
    kind = _kind(question)
    if kind is None:
        issues.append(Issue(f"{path}/type", f"{question.get('type')!r} cannot be imported"))
        return None
    if kind == "multiple_select":
        options = _select_options(question, path=path, issues=issues)
    else:
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


def _kind(question: dict[str, Any]) -> str | None:
    kind: Any = question.get("type")  # whatever Genesys sent
    if kind == "multipleChoiceQuestion":
        return "yes_no" if len(question.get("answerOptions") or []) == 2 else "multiple_choice"
    return {"freeTextQuestion": "free_text", "npsQuestion": "scale",
            _MULTIPLE: "multiple_select"}.get(kind)


def _select_options(question: dict[str, Any], *, path: str, issues: list[Issue]) -> list[dict[str, Any]]:
    """Our options for the sub-questions of a multiple-select question (issues for the rest)."""
    options = []
    subs = question.get("multipleSelectOptionQuestions") or []
    if not subs:
        issues.append(Issue(f"{path}/type", "a multipleSelectQuestion without "
                                            "multipleSelectOptionQuestions cannot be imported"))
    for i, sub in enumerate(subs):
        answers = sub.get("answerOptions") or []
        selected = [a for a in answers if a.get("builtInType") == "Selected"]
        unselected = [a for a in answers if a.get("builtInType") == "Unselected"]
        where = f"{path}/multipleSelectOptionQuestions/{i}/answerOptions"
        if len(selected) != 1 or len(selected) + len(unselected) != len(answers):
            issues.append(Issue(where, "needs exactly one Selected answer and at most one "
                                       "Unselected answer"))
        elif any(a.get("value", 0) != 0 for a in unselected):
            issues.append(Issue(where, "an Unselected answer worth points cannot be represented"))
        else:
            options.append({"id": sub.get("id"), "text": sub.get("text") or "",
                            "value": selected[0].get("value", 0)})
    return options


def select_answer_ids(form_response: dict[str, Any] | None) -> dict[str, dict[str, str]]:
    """For each multiple-select option (sub-question id): its answer id per builtInType."""
    ids: dict[str, dict[str, str]] = {}
    for group in (form_response or {}).get("questionGroups") or []:
        for question in group.get("questions") or []:
            for sub in question.get("multipleSelectOptionQuestions") or []:
                ids[sub.get("id")] = {a.get("builtInType"): a.get("id")
                                      for a in sub.get("answerOptions") or []}
    return ids


def _condition(condition: dict[str, Any] | None, *, path: str, context: tuple[dict[str, Any], int],
               issues: list[Issue], relative_ok: bool) -> dict[str, Any] | None:
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
    assert condition is not None  # it has predicates
    combining = condition.get("combiningOperation") or "AND"
    if len(question_ids) > 1 or (combining == "AND" and len(option_ids) > 1):
        issues.append(Issue(path, "only conditions on the answer of a single question "
                                  "(OR of its options) can be represented"))
        return None
    return {"question_id": question_ids.pop(), "option_ids": option_ids}


def _resolve(predicate: Any, *, context: tuple[dict[str, Any], int],
             relative_ok: bool) -> tuple[str, str] | None:
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


def answers_from_genesys(scoring_set_answers: dict[str, Any],
                         form_response: dict[str, Any] | None = None) -> Answers:
    """The evaluator's own answers in an ``EvaluationScoringSet``.

    N/A set by the system (visibility) is skipped: scoring decides visibility again. Question
    N/A inside a group the evaluator marked N/A is implied by the group. Multiple-select answers
    need ``form_response`` (ValueError without it): its ``Selected`` answer ids say which
    options were picked.
    """
    questions: dict[str, Answer] = {}
    na_groups = set()
    select_ids = select_answer_ids(form_response) if form_response is not None else None
    for group in scoring_set_answers.get("questionGroupScores") or []:
        group_na = bool(group.get("markedNA")) and not group.get("systemMarkedNA")
        if group_na:
            na_groups.add(group["questionGroupId"])
        for score in group.get("questionScores") or []:
            answer = _answer(score, group_na=group_na, select_ids=select_ids)
            if answer is not None:
                questions[score["questionId"]] = answer
    return Answers(questions=questions, na_groups=frozenset(na_groups))


def _answer(score: dict[str, Any], *, group_na: bool,
            select_ids: dict[str, dict[str, str]] | None) -> Answer | None:
    if score.get("systemMarkedNA") or group_na:
        return None
    comments = score.get("comments") or ""
    if score.get("markedNA"):
        return Answer(na=True, text=comments)
    picks = score.get("multipleSelectQuestionOptionScores")
    if picks:
        return Answer(option_ids=_picked(picks, select_ids), text=comments)
    if score.get("answerId") is None and not comments:
        return None
    return Answer(option_id=score.get("answerId"), text=comments)


def _picked(picks: list[dict[str, Any]], select_ids: dict[str, dict[str, str]] | None) -> frozenset[str]:
    if select_ids is None:
        raise ValueError("multiple-select answers can only be read with the form")
    by_question: dict[Any, dict[str, str]] = select_ids  # a pick's questionId may be missing (None)
    picked: frozenset[Any] = frozenset(
        p.get("questionId") for p in picks
        if p.get("answerId") is not None
        and p.get("answerId") == by_question.get(p.get("questionId"), {}).get("Selected"))
    return picked


def to_scoring_set(result: ScoringSet, form_response: dict[str, Any] | None = None) -> dict[str, Any]:
    """``result`` as an ``EvaluationScoringSet`` (only fields the reference model defines).

    With ``form_response`` the per-option scores of multiple-select questions carry Genesys's
    Selected/Unselected answer ids; without it they have none.
    """
    select_ids = select_answer_ids(form_response)
    return {
        "totalScore": result.total_score or 0.0,
        "totalCriticalScore": result.total_critical_score or 0.0,
        "totalNonCriticalScore": result.total_non_critical_score or 0.0,
        "maxTotalRawScore": float(result.max_total_raw_score),
        "maxTotalRawCriticalScore": float(result.max_total_raw_critical_score),
        "anyFailedKillQuestions": result.any_failed_kill_questions,
        "questionGroupScores": [_group_score(g, select_ids) for g in result.group_scores],
    }


def _group_score(group: GroupScore, select_ids: dict[str, dict[str, str]]) -> dict[str, Any]:
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
        "questionScores": [_question_score(q, select_ids) for q in group.question_scores],
    }


def _question_score(question: QuestionScore, select_ids: dict[str, dict[str, str]]) -> dict[str, Any]:
    doc = {
        "questionId": question.question_id,
        "score": question.score,
        "markedNA": question.marked_na,
        "systemMarkedNA": question.marked_na and question.system_marked_na,
        "failedKillQuestion": question.failed_kill,
    }
    if question.option_id is not None:
        doc["answerId"] = question.option_id
    if question.picks and not question.marked_na:
        doc["multipleSelectQuestionOptionScores"] = [_pick(p, select_ids) for p in question.picks]
    return doc


def _pick(pick: OptionPick, select_ids: dict[str, dict[str, str]]) -> dict[str, Any]:
    doc = {"questionId": pick.option_id, "score": pick.score, "markedNA": False,
           "systemMarkedNA": False, "failedKillQuestion": False}
    answer_id = select_ids.get(pick.option_id, {}).get("Selected" if pick.selected else "Unselected")
    if answer_id is not None:
        doc["answerId"] = answer_id
    return doc
