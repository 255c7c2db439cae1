"""Calibration maths against hand-computed examples."""

from __future__ import annotations

import math

import pytest

from extension.quality.domain.calibration import Rating, krippendorff_alpha, report


def r(evaluator, conversation, total, **answers):
    return Rating(evaluator, conversation, total, answers)


def test_nominal_alpha_matches_the_coincidence_matrix_by_hand():
    # Units: (a,a) (a,b) (b,b) (b,b). o_aa=2, o_ab=o_ba=1, o_bb=4; n_a=3, n_b=5, n=8.
    # D_o = 2/8; D_e = 2*3*5/(8*7) = 30/56; alpha = 1 - (2/8)/(30/56) = 8/15.
    alpha = krippendorff_alpha([[0, 0, 1, 1], [0, 1, 1, 1]], level="nominal")
    assert alpha == pytest.approx(8 / 15)


def test_interval_alpha_by_hand():
    # Rater A 80, 90, 70; rater B 80, 80, 70. D_o = 2*10^2/6; pooled ordered-pair squared
    # differences = 2*6*283.33 = 3400, D_e = 3400/30; alpha = 1 - (200/6)/(3400/30) = 12/17.
    alpha = krippendorff_alpha([[80, 90, 70], [80, 80, 70]], level="interval")
    assert alpha == pytest.approx(12 / 17)


def test_alpha_is_undefined_without_variation_or_pairs():
    assert krippendorff_alpha([[1, 1], [1, 1]], level="nominal") is None
    assert krippendorff_alpha([[1, math.nan], [math.nan, 2]], level="interval") is None
    assert krippendorff_alpha([[1, 2]], level="interval") is None


def test_missing_values_are_skipped_not_counted_as_disagreement():
    full = krippendorff_alpha([[0, 0, 1, 1], [0, 1, 1, 1]], level="nominal")
    with_gap = krippendorff_alpha([[0, 0, 1, 1, math.nan], [0, 1, 1, 1, 0]], level="nominal")
    assert with_gap == pytest.approx(full)


def test_per_question_agreement_and_consensus_deviation_by_hand():
    ratings = [
        r("e1", "c1", 80.0, q1="yes", q2="no"), r("e2", "c1", 80.0, q1="yes", q2="yes"),
        r("e3", "c1", 50.0, q1="no", q2="yes"),
        r("e1", "c2", 90.0, q1="yes", q2="yes"), r("e2", "c2", 100.0, q1="yes", q2="yes"),
        r("e3", "c2", 60.0, q1="no", q2="yes"),
    ]
    out = report(ratings, drift_threshold=20)
    agreement = {q.question_id: q for q in out.questions}
    # q1: c1 yes,yes,no -> 2/3; c2 the same -> 2/3. q2: c1 no,yes,yes -> 2/3; c2 all yes -> 1.
    assert agreement["q1"].agreement == pytest.approx(2 / 3) and agreement["q1"].units == 2
    assert agreement["q2"].agreement == pytest.approx(5 / 6)
    assert out.overall_agreement == pytest.approx((2 / 3 + 2 / 3 + 2 / 3 + 1) / 4)
    dev = {e.evaluator_id: e for e in out.evaluators}
    # e3 against the others' mean: c1 |50-80| = 30, c2 |60-95| = 35 -> 32.5 > 20: drift.
    assert dev["e3"].mean_abs_diff == pytest.approx(32.5) and dev["e3"].drift
    assert dev["e3"].reference == "consensus"
    # e3's q1 differs from the others' mode (yes) twice; q2 in c1 has others no/yes (no unique
    # mode, not compared), in c2 matches (yes) -> 2 of 3.
    assert dev["e3"].disagreement_rate == pytest.approx(2 / 3) and dev["e3"].questions_compared == 3
    # e1: c1 |80-65| = 15, c2 |90-80| = 10 -> 12.5; q1's others are yes/no (tied) in both
    # conversations; q2: c1 others yes/yes vs no (differs), c2 yes/yes vs yes -> 1 of 2.
    assert dev["e1"].mean_abs_diff == pytest.approx(12.5) and not dev["e1"].drift
    assert dev["e1"].disagreement_rate == pytest.approx(0.5) and dev["e1"].questions_compared == 2
    # e2: others' q1 is yes/no in both conversations and q2 no/yes in c1 (no unique mode);
    # only q2 in c2 (yes/yes vs yes) compares. Totals: |80-65| = 15, |100-75| = 25 -> 20.
    assert dev["e2"].questions_compared == 1 and dev["e2"].disagreement_rate == 0.0
    assert dev["e2"].mean_abs_diff == pytest.approx(20.0)


def test_expert_is_the_reference_and_is_not_judged():
    ratings = [
        r("x", "c1", 70.0, q1="no"), r("e1", "c1", 72.0, q1="no"), r("e2", "c1", 95.0, q1="yes"),
        r("x", "c2", 60.0, q1="no"), r("e1", "c2", 58.0, q1="yes"), r("e2", "c2", 90.0, q1="yes"),
    ]
    out = report(ratings, expert_id="x", drift_threshold=10)
    dev = {e.evaluator_id: e for e in out.evaluators}
    assert set(dev) == {"e1", "e2"}
    assert dev["e1"].mean_abs_diff == pytest.approx(2.0) and not dev["e1"].drift
    assert dev["e1"].disagreement_rate == pytest.approx(0.5)
    assert dev["e2"].mean_abs_diff == pytest.approx(27.5) and dev["e2"].drift
    assert dev["e2"].disagreement_rate == pytest.approx(1.0) and dev["e2"].reference == "expert"


def test_report_alphas_use_every_rater_and_code_answers_nominally():
    ratings = [r("e1", "c1", 80.0, q="a"), r("e2", "c1", 80.0, q="a"),
               r("e1", "c2", 90.0, q="b"), r("e2", "c2", 80.0, q="b"),
               r("e1", "c3", 70.0, q="b"), r("e2", "c3", 70.0, q="a")]
    out = report(ratings, drift_threshold=50)
    assert out.alpha_total_interval == pytest.approx(12 / 17)
    # answers a,a | b,b | b,a: o_aa=2, o_bb=2, o_ab=o_ba=1, n_a=n_b=3: D_o=2/6, D_e=18/30 -> 4/9
    assert out.alpha_answers_nominal == pytest.approx(1 - (2 / 6) / (18 / 30))


def test_a_rating_twice_is_refused():
    with pytest.raises(ValueError, match="one rating"):
        report([r("e1", "c1", 1.0), r("e1", "c1", 2.0)], drift_threshold=1)
