"""Scoring rules, one worked example each (the arithmetic is in each test's comment)."""

import pytest

from extension.quality.domain.scoring import Answer, Answers, InvalidAnswers, score
from tests.unit.quality.builders import answers, choice, form, free_text, group, when, yes_no


def two_groups(*, mode="SCALED", q2=None, q3=None, b=None, a=None):
    """Genesys's help-page form: group A (weight 40) q1, q2; group B (weight 20) q3."""
    return form(group("A", yes_no("q1"), yes_no("q2", **(q2 or {})), weight=40, **(a or {})),
                group("B", yes_no("q3", **(q3 or {})), weight=20, **(b or {})), mode=mode)


def group_of(result, gid):
    return next(g for g in result.group_scores if g.group_id == gid)


def test_scaled_total_pools_weighted_points_like_genesys():
    # 100 * (40*1 + 20*1) / (40*2 + 20*1) = 60.0 (not the mean of 50% and 100%)
    result = score(two_groups(), answers(q1="q1y", q2="q2n", q3="q3y"))
    assert result.total_score == pytest.approx(60.0)
    assert group_of(result, "A").percent == pytest.approx(50.0)
    assert (result.max_total_raw_score, result.any_failed_kill_questions) == (3, False)


def test_weights_not_summing_to_one_give_the_same_total_as_scaled_down_ones():
    # 0.5/0.5 (Genesys's second example): 100 * (0.5*0 + 0.5*2) / (0.5*1 + 0.5*2) = 66.67
    doc = (group("G1", yes_no("a1"), weight=0.5), group("G2", yes_no("b1"), yes_no("b2"), weight=0.5))
    picks = {"a1": "a1n", "b1": "b1y", "b2": "b2y"}
    half = score(form(*doc), answers(**picks)).total_score
    assert half == pytest.approx(200 / 3)
    doc_big = (group("G1", yes_no("a1"), weight=7), group("G2", yes_no("b1"), yes_no("b2"), weight=7))
    assert score(form(*doc_big), answers(**picks)).total_score == pytest.approx(half)


def test_off_mode_ignores_weights():
    # 100 * (1 + 0 + 1) / 3 = 66.67; group A totals are raw points (weight 1)
    result = score(two_groups(mode="OFF"), answers(q1="q1y", q2="q2n", q3="q3y"))
    assert result.total_score == pytest.approx(200 / 3)
    assert group_of(result, "A").weight == 1.0


def test_a_question_marked_na_leaves_numerator_and_maximum():
    # q2 N/A: 100 * (40*1 + 20*0) / (40*1 + 20*1) = 66.67
    result = score(two_groups(q2={"na_enabled": True}), answers(q1="q1y", q2="na", q3="q3n"))
    assert result.total_score == pytest.approx(200 / 3)
    q2 = group_of(result, "A").question_scores[1]
    assert (q2.marked_na, q2.system_marked_na, q2.max_score) == (True, False, 0)
    assert result.max_total_raw_score == 2


def test_a_group_marked_na_drops_out_and_other_weights_are_renormalised():
    # B N/A: 100 * (40*1) / (40*2) = 50.0
    result = score(two_groups(b={"na_enabled": True}),
                   answers(na_groups={"B"}, q1="q1y", q2="q2n"))
    assert result.total_score == pytest.approx(50.0)
    b = group_of(result, "B")
    assert (b.marked_na, b.system_marked_na, b.total.max) == (True, False, 0)
    assert b.question_scores[0].marked_na


def test_a_group_whose_questions_are_all_na_is_marked_na():
    # every question of A N/A: A marked N/A; total = 100 * 20*1 / (20*1) = 100
    q = {"na_enabled": True}
    f = form(group("A", yes_no("q1", **q), yes_no("q2", **q), weight=40),
             group("B", yes_no("q3"), weight=20))
    result = score(f, answers(q1="na", q2="na", q3="q3y"))
    a = group_of(result, "A")
    assert (a.marked_na, a.system_marked_na, a.percent) == (True, False, None)
    assert result.total_score == pytest.approx(100.0)


def test_everything_na_gives_no_percentage():
    f = form(group("A", yes_no("q1"), na_enabled=True))
    result = score(f, answers(na_groups={"A"}))
    assert (result.total_score, result.total_critical_score, result.max_total_raw_score) == (
        None, None, 0)


def test_critical_and_non_critical_split():
    # q2 critical "no": critical = 100 * 40*0 / (40*1) = 0; non-critical = 100 * 60/60 = 100
    result = score(two_groups(q2={"is_critical": True}), answers(q1="q1y", q2="q2n", q3="q3y"))
    assert result.total_critical_score == pytest.approx(0.0)
    assert result.total_non_critical_score == pytest.approx(100.0)
    assert result.total_score == pytest.approx(60.0)
    assert result.max_total_raw_critical_score == 1
    a = group_of(result, "A")
    assert (a.critical.score, a.critical.max, a.non_critical.score, a.non_critical.max) == (
        0, 1, 1, 1)


def test_critical_score_is_weighted_like_the_total():
    # critical q1 (A, w=40) yes, critical q3 (B, w=20) no: 100 * 40 / (40 + 20) = 66.67
    crit = {"is_critical": True}
    f = form(group("A", yes_no("q1", **crit), weight=40), group("B", yes_no("q3", **crit), weight=20))
    assert score(f, answers(q1="q1y", q3="q3n")).total_critical_score == pytest.approx(200 / 3)


def test_no_critical_questions_means_no_critical_score():
    assert score(two_groups(), answers(q1="q1y", q2="q2y", q3="q3y")).total_critical_score is None


def test_failed_kill_question_forces_total_to_zero_but_keeps_the_other_scores():
    # q3 kill, critical, answered no: total 0; critical 0/1 = 0; non-critical 100*40*2/80 = 100
    result = score(two_groups(q3={"is_kill": True, "is_critical": True}),
                   answers(q1="q1y", q2="q2y", q3="q3n"))
    assert result.any_failed_kill_questions and result.total_score == 0.0
    assert result.total_critical_score == pytest.approx(0.0)
    assert result.total_non_critical_score == pytest.approx(100.0)
    assert group_of(result, "B").question_scores[0].failed_kill
    assert group_of(result, "A").percent == pytest.approx(100.0)


def test_kill_question_fails_below_its_best_option_not_only_at_the_lowest():
    # options 0/3/5; "3" is not the highest available → failed (reference model wording)
    f = form(group("A", choice("k", [0, 3, 5], is_kill=True), yes_no("q1")))
    assert score(f, answers(k="ko1", q1="q1y")).any_failed_kill_questions
    assert not score(f, answers(k="ko2", q1="q1y")).any_failed_kill_questions


def test_kill_question_passed_na_or_hidden_does_not_fail():
    kill = {"is_kill": True, "na_enabled": True}
    assert not score(two_groups(q3=kill), answers(q1="q1y", q2="q2y", q3="q3y")
                     ).any_failed_kill_questions
    result = score(two_groups(q3=kill), answers(q1="q1y", q2="q2y", q3="na"))
    assert not result.any_failed_kill_questions and result.total_score == pytest.approx(100.0)


def test_a_question_hidden_by_its_condition_is_system_marked_na():
    # q2 shown only if q1 is "no"; q1 "yes" → q2 hidden: 100 * (40*1 + 20*1) / (40 + 20) = 100
    result = score(two_groups(q2={"visibility": when("q1", "q1n")}),
                   answers(q1="q1y", q2="q2n", q3="q3y"))
    q2 = group_of(result, "A").question_scores[1]
    assert (q2.marked_na, q2.system_marked_na, q2.score) == (True, True, 0)
    assert result.total_score == pytest.approx(100.0)


def test_a_shown_conditional_question_counts():
    # q1 "no" → q2 shown and "no": 100 * (40*0 + 20*1) / (40*2 + 20*1) = 20
    result = score(two_groups(q2={"visibility": when("q1", "q1n")}),
                   answers(q1="q1n", q2="q2n", q3="q3y"))
    assert result.total_score == pytest.approx(20.0)


def test_a_hidden_group_is_system_marked_na_and_hides_dependants():
    # B shown only if q1 "no"; q1 "yes" → B hidden, so a question depending on q3 is hidden too
    f = form(group("A", yes_no("q1")), group("B", yes_no("q3"), visibility=when("q1", "q1n")),
             group("C", yes_no("q4", visibility=when("q3", "q3y")), yes_no("q5")))
    result = score(f, answers(q1="q1y", q3="q3y", q4="q4n", q5="q5y"))
    b, c = group_of(result, "B"), group_of(result, "C")
    assert (b.marked_na, b.system_marked_na) == (True, True)
    assert c.question_scores[0].system_marked_na and not c.marked_na
    assert result.total_score == pytest.approx(100.0)


def test_a_question_depending_on_an_na_answer_is_hidden():
    f = form(group("A", yes_no("q1", na_enabled=True), yes_no("q2", visibility=when("q1", "q1y"))))
    result = score(f, answers(q1="na", q2="q2y"))
    assert group_of(result, "A").system_marked_na is False
    assert group_of(result, "A").marked_na and result.total_score is None


def test_free_text_is_never_scored():
    # 100 * 1 / 1; the free-text answer changes nothing
    f = form(group("A", yes_no("q1"), free_text("notes")))
    result = score(f, Answers({"q1": Answer("q1y"), "notes": Answer(text="Polite and quick")}))
    assert result.total_score == pytest.approx(100.0) and result.max_total_raw_score == 1


def test_multiple_choice_scores_the_chosen_value_against_the_best():
    # 3 of 5 plus 1 of 1: 100 * 4 / 6
    f = form(group("A", choice("q1", [0, 3, 5]), yes_no("q2")))
    assert score(f, answers(q1="q1o1", q2="q2y")).total_score == pytest.approx(400 / 6)


def test_zero_weight_group_counts_for_nothing():
    # fatal-only group at weight 0: 100 * (40*1 + 0) / (40*1 + 0) = 100
    f = form(group("A", yes_no("q1"), weight=40), group("F", yes_no("k"), weight=0))
    assert score(f, answers(q1="q1y", k="kn")).total_score == pytest.approx(100.0)


def test_unanswered_question_scores_zero_and_is_listed():
    # in progress: 100 * 40*1 / (40*2 + 20*1) = 40
    result = score(two_groups(), answers(q1="q1y"))
    assert result.total_score == pytest.approx(40.0)
    assert result.unanswered == ("q2", "q3")


@pytest.mark.parametrize(
    ("picks", "na_groups", "path"),
    [
        ({"zz": "x"}, (), "/questions/zz"),
        ({"q1": "nope"}, (), "/questions/q1"),
        ({"q1": "na"}, (), "/questions/q1"),
        ({}, ("A",), "/na_groups/A"),
        ({}, ("ghost",), "/na_groups/ghost"),
    ],
)
def test_answers_that_do_not_fit_the_form_are_refused(picks, na_groups, path):
    with pytest.raises(InvalidAnswers) as caught:
        score(two_groups(), answers(na_groups=na_groups, **picks))
    assert [i.path for i in caught.value.issues] == [path]


def test_both_na_and_an_option_is_refused():
    f = two_groups(q2={"na_enabled": True})
    with pytest.raises(InvalidAnswers):
        score(f, Answers({"q2": Answer(option_id="q2y", na=True)}))
