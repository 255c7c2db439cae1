"""Calibration: how far several evaluators scoring the same interactions agree, and who drifts.

Input is one ``Rating`` per (evaluator, conversation): the form's total score (0-100, or None when
nothing counted) and each question's answer as a code (an option id, ``"na"`` for N/A; for a
multiple-select question the sorted picks joined by ``+``, or ``"none"``, so raters agree only on
the same set; an unanswered question is simply absent). Everything below is computed from those alone.

* **Per-question agreement**: for each (conversation, question) answered by two or more
  evaluators, the share of them giving the modal answer; a question's agreement is the mean of
  that share over its conversations. With 3 evaluators answering a, a, b the share is 2/3.
* **Deviation per evaluator** from a reference: the expert when the session has one, else the
  *consensus of the others* (leave-one-out, so an evaluator never pulls the reference towards
  themselves): the mean of the other evaluators' totals and the others' modal answer.
  ``mean_abs_diff`` is the mean over conversations of ``|total - reference total|``;
  ``disagreement_rate`` the share of compared questions whose answer differs from the reference
  answer. Without an expert, a question whose other answers have no unique mode is not compared.
  The expert is never judged against themselves.
* **Drift**: an evaluator drifts when ``mean_abs_diff > drift_threshold`` (QA points).
* **Inter-rater reliability**: Krippendorff's alpha (the ``krippendorff`` package) over every
  rater including the expert, on totals (interval level; units = conversations) and on answers
  (nominal level; units = (conversation, question) pairs, answers coded as integers). Alpha is
  None when it is undefined: fewer than two pairable values, or a single value overall (no
  expected disagreement, so perfect agreement cannot be told apart from no variation).

Hand-checked examples live in tests/unit/quality/calibration/test_calibration.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["EvaluatorDeviation", "QuestionAgreement", "Rating", "Report", "krippendorff_alpha", "report"]

NA = "na"
NONE_PICKED = "none"  # a multiple-select answer with nothing picked (its picks are joined by "+")


@dataclass(frozen=True)
class Rating:
    evaluator_id: str
    conversation_id: str
    total: float | None
    answers: Mapping[str, str] = field(default_factory=dict)  # question id -> option id or "na"


@dataclass(frozen=True)
class QuestionAgreement:
    question_id: str
    agreement: float | None  # mean share agreeing with the modal answer; None: never 2+ answers
    units: int  # conversations where 2+ evaluators answered it


@dataclass(frozen=True)
class EvaluatorDeviation:
    evaluator_id: str
    reference: str  # "expert" | "consensus"
    conversations_compared: int
    mean_abs_diff: float | None
    questions_compared: int
    disagreement_rate: float | None
    drift: bool


@dataclass(frozen=True)
class Report:
    questions: tuple[QuestionAgreement, ...]
    evaluators: tuple[EvaluatorDeviation, ...]
    alpha_total_interval: float | None
    alpha_answers_nominal: float | None
    overall_agreement: float | None  # mean over every (conversation, question) unit

    def as_dict(self) -> dict[str, Any]:
        return {
            "questions": [q.__dict__.copy() for q in self.questions],
            "evaluators": [e.__dict__.copy() for e in self.evaluators],
            "alpha": {"total_interval": self.alpha_total_interval,
                      "answers_nominal": self.alpha_answers_nominal},
            "overall_agreement": self.overall_agreement,
        }


def report(ratings: Iterable[Rating], *, expert_id: str | None = None,
           drift_threshold: float) -> Report:
    """The calibration report over ``ratings`` (see the module docstring)."""
    ratings = list(ratings)
    by_key = {(r.evaluator_id, r.conversation_id): r for r in ratings}
    if len(by_key) != len(ratings):
        raise ValueError("one rating per evaluator and conversation")
    evaluators = sorted({r.evaluator_id for r in ratings})
    conversations = sorted({r.conversation_id for r in ratings})
    questions = sorted({q for r in ratings for q in r.answers})

    shares: dict[str, list[float]] = {q: [] for q in questions}
    for conversation in conversations:
        for question in questions:
            answers = [by_key[(e, conversation)].answers[question] for e in evaluators
                       if (e, conversation) in by_key and question in by_key[(e, conversation)].answers]
            if len(answers) >= 2:
                shares[question].append(Counter(answers).most_common(1)[0][1] / len(answers))
    agreements = tuple(QuestionAgreement(q, _mean(shares[q]), len(shares[q])) for q in questions)
    every_share = [s for q in questions for s in shares[q]]

    deviations = tuple(
        _deviation(e, by_key=by_key, evaluators=evaluators, conversations=conversations,
                   expert_id=expert_id, drift_threshold=drift_threshold)
        for e in evaluators if e != expert_id)
    totals = [[_nan(by_key.get((e, c))) for c in conversations] for e in evaluators]
    units = [(c, q) for c in conversations for q in questions]
    codes: dict[str, int] = {}
    coded = [[_code(by_key.get((e, c)), q, codes) for c, q in units] for e in evaluators]
    return Report(
        questions=agreements,
        evaluators=deviations,
        alpha_total_interval=krippendorff_alpha(totals, level="interval"),
        alpha_answers_nominal=krippendorff_alpha(coded, level="nominal"),
        overall_agreement=_mean(every_share),
    )


def _deviation(evaluator: str, *, by_key: Mapping[tuple[str, str], Rating], evaluators: Sequence[str],
               conversations: Sequence[str], expert_id: str | None,
               drift_threshold: float) -> EvaluatorDeviation:
    others = [expert_id] if expert_id is not None else [e for e in evaluators if e != evaluator]
    diffs: list[float] = []
    compared = differing = 0
    for conversation in conversations:
        mine = by_key.get((evaluator, conversation))
        theirs = [by_key[(e, conversation)] for e in others if (e, conversation) in by_key]
        if mine is None or not theirs:
            continue
        reference_totals = [r.total for r in theirs if r.total is not None]
        if mine.total is not None and reference_totals:
            diffs.append(abs(mine.total - sum(reference_totals) / len(reference_totals)))
        for question, answer in mine.answers.items():
            reference = _unique_mode([r.answers[question] for r in theirs if question in r.answers])
            if reference is not None:
                compared += 1
                differing += answer != reference
    mean_abs = _mean(diffs)
    return EvaluatorDeviation(
        evaluator_id=evaluator, reference="expert" if expert_id is not None else "consensus",
        conversations_compared=len(diffs), mean_abs_diff=mean_abs, questions_compared=compared,
        disagreement_rate=differing / compared if compared else None,
        drift=mean_abs is not None and mean_abs > drift_threshold)


def _unique_mode(values: Sequence[str]) -> str | None:
    counts = Counter(values).most_common(2)
    if not counts or (len(counts) == 2 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _nan(rating: Rating | None) -> float:
    return np.nan if rating is None or rating.total is None else float(rating.total)


def _code(rating: Rating | None, question: str, codes: dict[str, int]) -> float:
    if rating is None or question not in rating.answers:
        return np.nan
    return float(codes.setdefault(rating.answers[question], len(codes)))


def krippendorff_alpha(data: Sequence[Sequence[float]], *, level: str) -> float | None:
    """Alpha over a raters x units matrix with NaN for missing values; None when undefined."""
    import krippendorff  # imported late: only calibration reports need it

    matrix = np.asarray(data, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] < 2:
        return None
    pairable = matrix[:, (~np.isnan(matrix)).sum(axis=0) >= 2]
    values = pairable[~np.isnan(pairable)]
    if values.size < 2 or np.unique(values).size < 2:
        return None
    try:
        alpha = float(krippendorff.alpha(reliability_data=pairable, level_of_measurement=level))
    except (ValueError, ZeroDivisionError):
        return None
    return None if np.isnan(alpha) else alpha
