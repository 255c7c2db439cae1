"""Scoring an evaluation: Genesys Cloud's ``EvaluationScoringSet`` semantics over a ``Form``.

Coachwire must give the same number Genesys gives for the same answers, so these rules follow
Genesys's help page "Evaluation form weights", the ``EvaluationScoringSet`` model descriptions in
``shared/reference/genesys-cloud-api.json``, and, where both are silent, the assumptions marked
(A) below, each pinned by a test in ``tests/unit/quality``.

Rules
1. A question's score is the value of the chosen option; its maximum is the largest option
   value. Free text is never scored (score 0, maximum 0).
1b. A multiple-select question is answered with a set of its option ids (each option is one of
   Genesys's ``multipleSelectOptionQuestions``, scored per option in
   ``multipleSelectQuestionOptionScores``). (A) Its score is the sum of the selected options'
   values, clamped to 0..maximum, and its maximum is the sum of the positive option values
   (``forms.multi_select_score`` / ``forms.multi_select_max``: the one place to change it).
   The reference names the per-option scores but not how they combine. An empty set is an
   answer (nothing selected); no set at all is unanswered. Critical, N/A and visibility apply
   as to any question; a kill multiple-select question fails when its score is below its
   maximum (rule 7), and no condition may depend on one (it has no single chosen option).
2. N/A: a question the evaluator marks N/A (needs ``na_enabled``), every question of a group the
   evaluator marks N/A (needs the group's ``na_enabled``), and every question hidden by a
   visibility condition (``systemMarkedNA``) count 0 of 0: out of numerator and maximum.
3. Visibility is decided in form order: a question (or group) is shown when the question its
   condition names is shown, not N/A, and answered with one of the listed options.
4. A group is ``markedNA`` when the evaluator marked it, when it is hidden, or when every one of
   its questions is N/A; it then counts 0 of 0. ``systemMarkedNA`` is true when that came from
   visibility alone (the group hidden, or all its questions hidden).
5. Group raw points: ``score`` = sum of counted question scores, ``max`` = sum of their maxima;
   the same over critical questions only and over non-critical questions only.
6. Weights: in SCALED mode each group's points are multiplied by its weight; in OFF mode every
   weight is 1. Form totals (percent) pool the weighted points of every group that counts:
       totalScore = 100 * sum(weight_g * score_g) / sum(weight_g * max_g)
   so weights need not sum to 1 or 100, and an N/A group drops out of both sums (the other
   groups are not inflated to fill its weight). This is Genesys's formula, not an average of
   group percentages: a group with more points weighs more at the same weight.
   totalCriticalScore and totalNonCriticalScore are the same formula over critical questions
   and non-critical questions.
7. A kill ("fatal") question fails when it is answered with an option worth less than its
   best option (``failedKillQuestion``; the reference model: "answered without having the
   highest score available"). Any failure sets ``anyFailedKillQuestions`` and forces
   totalScore to 0. (A) The critical and non-critical scores and every group score are left as
   computed: they show where points were lost, and the reference describes only the total as
   failing. A kill question that is N/A, hidden or unanswered does not fail.
8. ``maxTotalRawScore`` / ``maxTotalRawCriticalScore``: unweighted maxima of counted questions.
9. (A) Nothing counts (every group N/A, or no critical question for the critical score): the
   percentage is ``None`` here and 0 in the Genesys export. (A) A scored question left
   unanswered (an evaluation in progress) scores 0 against its full maximum and is listed in
   ``unanswered``; Genesys refuses to submit such an evaluation.

Worked examples (1-point yes/no questions unless said otherwise)
* SCALED, group A weight 40 with Q1 yes (1/1) and Q2 no (0/1), group B weight 20 with Q3 yes:
  total = 100 * (40*1 + 20*1) / (40*2 + 20*1) = 60.0 (Genesys's own example).
* Same form, group B marked N/A: total = 100 * (40*1) / (40*2) = 50.0.
* OFF mode, same answers as the first example: total = 100 * (1 + 1) / (2 + 1) = 66.67.
* Q2 critical, answered no: totalCriticalScore = 100 * 40*0 / (40*1) = 0.0,
  totalNonCriticalScore = 100 * (40*1 + 20*1) / (40*1 + 20*1) = 100.0, totalScore = 60.0.
* Q3 a kill question answered no (0 of 1): group B = 0/1, anyFailedKillQuestions, totalScore 0.
* Q2 shown only when Q1 is "no", and Q1 is "yes": Q2 is systemMarkedNA;
  total = 100 * (40*1 + 20*1) / (40*1 + 20*1) = 100.0.
* Multiple select with options greet 2, name 1, empathy 2, rude -3 (maximum 2+1+2 = 5):
  {greet, empathy} scores 4 of 5; {greet, rude} scores max(0, 2-3) = 0 of 5; every positive
  option scores 5; {} scores 0 of 5 (answered); no set at all is unanswered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypedDict

from extension.quality.domain.forms import (
    Condition,
    Form,
    Group,
    Issue,
    Question,
    WeightMode,
    multi_select_score,
)

__all__ = ["Answer", "Answers", "GroupScore", "InvalidAnswers", "OptionPick", "QuestionScore",
           "ScoringSet", "Tally", "answer_issues", "score"]


@dataclass(frozen=True)
class Answer:
    option_id: str | None = None
    na: bool = False
    text: str = ""  # free-text answers and comments; never scored
    option_ids: frozenset[str] | None = None  # multiple select only; None = unanswered

    @property
    def answered(self) -> bool:
        return self.option_id is not None or self.option_ids is not None


@dataclass(frozen=True)
class Answers:
    questions: Mapping[str, Answer] = field(default_factory=dict)
    na_groups: frozenset[str] = frozenset()


class InvalidAnswers(ValueError):
    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(f"{i.path}: {i.message}" for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class Tally:
    """Raw (unweighted) points and the most that could have been scored."""

    score: float = 0.0
    max: float = 0.0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.score + other.score, self.max + other.max)


@dataclass(frozen=True)
class OptionPick:
    """One option of an answered multiple-select question: picked or not, and its points."""

    option_id: str
    selected: bool
    score: int


@dataclass(frozen=True)
class QuestionScore:
    question_id: str
    option_id: str | None
    score: int
    max_score: int  # 0 when not counted
    marked_na: bool = False
    system_marked_na: bool = False
    failed_kill: bool = False
    is_critical: bool = False
    picks: tuple[OptionPick, ...] = ()  # answered multiple-select questions only


@dataclass(frozen=True)
class GroupScore:
    group_id: str
    weight: float  # the weight applied: the group's in SCALED mode, 1 in OFF mode
    marked_na: bool
    system_marked_na: bool
    total: Tally
    critical: Tally
    non_critical: Tally
    question_scores: tuple[QuestionScore, ...]

    @property
    def percent(self) -> float | None:
        return _percent(self.total.score, self.total.max)


@dataclass(frozen=True)
class ScoringSet:
    total_score: float | None
    total_critical_score: float | None
    total_non_critical_score: float | None
    max_total_raw_score: float
    max_total_raw_critical_score: float
    any_failed_kill_questions: bool
    group_scores: tuple[GroupScore, ...]
    unanswered: tuple[str, ...] = ()


def score(form: Form, answers: Answers) -> ScoringSet:
    """Score ``answers`` against ``form``; ``InvalidAnswers`` if they do not fit the form."""
    issues = answer_issues(form, answers)
    if issues:
        raise InvalidAnswers(issues)
    chosen: dict[str, str] = {}  # option picked for each shown, answered question
    groups = tuple(_score_group(g, form=form, answers=answers, chosen=chosen) for g in form.groups)
    return _totals(groups, answers)


def answer_issues(form: Form, answers: Answers) -> list[Issue]:
    """Answers that name unknown things or use N/A where the form does not allow it."""
    issues = []
    groups = {g.id: g for g in form.groups}
    for group_id in sorted(answers.na_groups):
        group = groups.get(group_id)
        if group is None or not group.na_enabled:
            issues.append(Issue(f"/na_groups/{group_id}", "group unknown or N/A not allowed"))
    for question_id, answer in answers.questions.items():
        problem = _answer_problem(form.question(question_id), answer)
        if problem:
            issues.append(Issue(f"/questions/{question_id}", problem))
    return issues


def _answer_problem(question: Question | None, answer: Answer) -> str | None:
    if question is None:
        return "unknown question"
    if answer.na and not question.na_enabled:
        return "N/A is not allowed for this question"
    if answer.na and answer.answered:
        return "an answer cannot be both N/A and an option"
    if question.multiple and answer.option_id is not None:
        return "a multiple-select question is answered with option_ids, a list of option ids"
    if not question.multiple and answer.option_ids is not None:
        return "only a multiple-select question takes option_ids; use option_id"
    unknown = sorted(answer.option_ids or ()) + (
        [answer.option_id] if answer.option_id is not None else [])
    for option_id in unknown:
        if question.option(option_id) is None:
            return f"unknown option {option_id!r}"
    return None


def _shown(condition: Condition | None, chosen: Mapping[str, str]) -> bool:
    return condition is None or chosen.get(condition.question_id) in condition.option_ids


def _score_group(group: Group, *, form: Form, answers: Answers, chosen: dict[str, str]) -> GroupScore:
    hidden = not _shown(group.visibility, chosen)
    user_na = group.id in answers.na_groups
    scores = []
    for question in group.questions:
        q_hidden = hidden or not _shown(question.visibility, chosen)
        answer = answers.questions.get(question.id, Answer())
        scores.append(_score_question(question, answer, hidden=q_hidden, group_na=user_na))
        if not scores[-1].marked_na and answer.option_id is not None:
            chosen[question.id] = answer.option_id
    all_na = all(s.marked_na for s in scores)
    marked_na = user_na or hidden or all_na
    system_na = not user_na and (hidden or all(s.system_marked_na for s in scores))
    counted = [] if marked_na else scores
    weight = group.weight if form.weight_mode is WeightMode.SCALED else 1.0
    return GroupScore(
        group_id=group.id, weight=weight, marked_na=marked_na, system_marked_na=system_na,
        total=_tally(counted), critical=_tally(s for s in counted if s.is_critical),
        non_critical=_tally(s for s in counted if not s.is_critical),
        question_scores=tuple(scores))


class _QuestionBase(TypedDict):
    """The ``QuestionScore`` fields every outcome of ``_score_question`` shares."""

    question_id: str
    is_critical: bool


def _score_question(question: Question, answer: Answer, *, hidden: bool,
                    group_na: bool) -> QuestionScore:
    base: _QuestionBase = {"question_id": question.id, "is_critical": question.is_critical}
    if hidden:
        return QuestionScore(**base, option_id=None, score=0, max_score=0, marked_na=True,
                             system_marked_na=True)
    if group_na or answer.na:
        return QuestionScore(**base, option_id=None, score=0, max_score=0, marked_na=True)
    if not question.scored:
        return QuestionScore(**base, option_id=None, score=0, max_score=0)
    if question.multiple:
        return _score_multiple(question, answer.option_ids, base=base)
    option = question.option(answer.option_id) if answer.option_id else None
    value = option.value if option else 0
    failed = question.is_kill and option is not None and value < question.max_value
    return QuestionScore(**base, option_id=answer.option_id, score=value,
                         max_score=question.max_value, failed_kill=failed)


def _score_multiple(question: Question, selected: frozenset[str] | None, *,
                    base: _QuestionBase) -> QuestionScore:
    value = multi_select_score(question.options, selected or frozenset())
    picks = () if selected is None else tuple(
        OptionPick(o.id, o.id in selected, o.value if o.id in selected else 0)
        for o in question.options)
    failed = question.is_kill and selected is not None and value < question.max_value
    return QuestionScore(**base, option_id=None, score=value, max_score=question.max_value,
                         failed_kill=failed, picks=picks)


def _tally(scores: Iterable[QuestionScore]) -> Tally:
    return sum((Tally(s.score, s.max_score) for s in scores), Tally())


def _weighted(groups: tuple[GroupScore, ...], part: str) -> float | None:
    score = sum(g.weight * getattr(g, part).score for g in groups)
    return _percent(score, sum(g.weight * getattr(g, part).max for g in groups))


def _percent(score: float, maximum: float) -> float | None:
    return 100.0 * score / maximum if maximum else None


def _totals(groups: tuple[GroupScore, ...], answers: Answers) -> ScoringSet:
    killed = any(q.failed_kill for g in groups for q in g.question_scores)
    unanswered = tuple(
        q.question_id for g in groups for q in g.question_scores
        if q.max_score and not answers.questions.get(q.question_id, Answer()).answered)
    return ScoringSet(
        total_score=0.0 if killed else _weighted(groups, "total"),
        total_critical_score=_weighted(groups, "critical"),
        total_non_critical_score=_weighted(groups, "non_critical"),
        max_total_raw_score=sum(g.total.max for g in groups),
        max_total_raw_critical_score=sum(g.critical.max for g in groups),
        any_failed_kill_questions=killed,
        group_scores=groups,
        unanswered=unanswered,
    )
