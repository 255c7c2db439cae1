"""Multiple-select questions: the form model, scoring (one worked example each), and the
Genesys ``multipleSelectQuestion`` import and scoring-set round trip.

A multiple-select question is answered with a set of option ids. Its score is the sum of the
selected options' values, clamped to 0..maximum; its maximum is the sum of the positive option
values (assumption (A) rule 1b in ``extension.quality.domain.scoring``).
"""

import copy
import json
from pathlib import Path

import pytest

from extension.quality.domain.forms import QuestionType, validate_form
from extension.quality.domain.genesys_forms import (
    answers_from_genesys,
    genesys_form_doc,
    import_form,
    to_scoring_set,
)
from extension.quality.domain.scoring import Answer, Answers, InvalidAnswers, OptionPick, score
from tests.unit.quality import genesys_fixtures as fx
from tests.unit.quality.builders import form, form_doc, group, when, yes_no
from tests.unit.quality.test_genesys_forms import assert_same

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared/reference/genesys-cloud-api.json"


def multi(qid: str, values: list[int], **extra) -> dict:
    """A multiple-select question with options ``<qid>s<i>`` worth ``values[i]`` when picked."""
    options = [{"id": f"{qid}s{i}", "text": f"item {i}", "value": v} for i, v in enumerate(values)]
    return {"id": qid, "text": f"Which of {qid}?", "type": "multiple_select", "options": options,
            **extra}


def picked(qid: str, *indexes: int, **others) -> Answers:
    questions = {qid: Answer(option_ids=frozenset(f"{qid}s{i}" for i in indexes))}
    questions.update({q: Answer(option_id=v) for q, v in others.items()})
    return Answers(questions=questions)


# ---------------------------------------------------------------- scoring


def test_score_is_the_sum_of_picked_values_out_of_the_sum_of_positive_values():
    # greet 2, name 1, empathy 2, rude -3: max 2+1+2 = 5; {greet, empathy} = 4 of 5 = 80%
    f = form(group("A", multi("m", [2, 1, 2, -3])))
    result = score(f, picked("m", 0, 2))
    assert result.total_score == pytest.approx(80.0)
    question = result.group_scores[0].question_scores[0]
    assert (question.score, question.max_score, f.question("m").max_value) == (4, 5, 5)
    assert question.picks == (OptionPick("ms0", True, 2), OptionPick("ms1", False, 0),
                              OptionPick("ms2", True, 2), OptionPick("ms3", False, 0))


def test_negative_options_never_take_the_score_below_zero():
    # {greet, rude} = 2 - 3 = -1, clamped to 0 of 5
    result = score(form(group("A", multi("m", [2, 1, 2, -3]))), picked("m", 0, 3))
    assert result.group_scores[0].total.score == 0
    assert result.total_score == pytest.approx(0.0)


def test_empty_selection_is_an_answer_and_no_selection_is_unanswered():
    f = form(group("A", multi("m", [1, 1]), yes_no("q")))
    empty = score(f, picked("m", q="qy"))  # 100 * (0 + 1) / (2 + 1)
    assert empty.total_score == pytest.approx(100 / 3) and empty.unanswered == ()
    missing = score(f, Answers(questions={"q": Answer(option_id="qy")}))
    assert missing.unanswered == ("m",)


def test_multiple_select_counts_in_weighted_and_critical_totals():
    # A (w 2): m critical {0,1} = 3 of 4; B (w 1): q yes 1/1
    # total = 100 * (2*3 + 1*1) / (2*4 + 1*1) = 77.78; critical = 100 * 2*3 / (2*4) = 75
    f = form(group("A", multi("m", [1, 2, 1], is_critical=True), weight=2),
             group("B", yes_no("q"), weight=1))
    result = score(f, picked("m", 0, 1, q="qy"))
    assert result.total_score == pytest.approx(700 / 9)
    assert result.total_critical_score == pytest.approx(75.0)
    assert result.max_total_raw_critical_score == 4


def test_a_kill_multiple_select_fails_unless_every_point_is_scored():
    f = form(group("A", multi("m", [1, 1], is_kill=True), yes_no("q")))
    failed = score(f, picked("m", 0, q="qy"))
    assert failed.any_failed_kill_questions and failed.total_score == 0.0
    assert failed.group_scores[0].question_scores[0].failed_kill
    passed = score(f, picked("m", 0, 1, q="qy"))
    assert not passed.any_failed_kill_questions and passed.total_score == pytest.approx(100.0)


def test_na_multiple_select_counts_zero_of_zero():
    f = form(group("A", multi("m", [3, 3], na_enabled=True), yes_no("q")))
    result = score(f, Answers(questions={"m": Answer(na=True), "q": Answer(option_id="qn")}))
    assert (result.group_scores[0].total.score, result.group_scores[0].total.max) == (0, 1)
    assert result.group_scores[0].question_scores[0].picks == ()


@pytest.mark.parametrize(("answer", "message"), [
    (Answer(option_id="ms0"), "answered with option_ids"),
    (Answer(option_ids=frozenset({"ms0", "nope"})), "unknown option 'nope'"),
    (Answer(option_ids=frozenset({"ms0"}), na=True), "both N/A"),
])
def test_wrong_multiple_select_answers_are_rejected_with_the_question_path(answer, message):
    f = form(group("A", multi("m", [1, 1], na_enabled=True)))
    with pytest.raises(InvalidAnswers) as caught:
        score(f, Answers(questions={"m": answer}))
    [issue] = caught.value.issues
    assert issue.path == "/questions/m" and message in issue.message


def test_option_ids_on_a_single_choice_question_are_rejected():
    f = form(group("A", yes_no("q")))
    with pytest.raises(InvalidAnswers, match="only a multiple-select question"):
        score(f, Answers(questions={"q": Answer(option_ids=frozenset({"qy"}))}))


# ---------------------------------------------------------------- form validation


def test_multiple_select_needs_options_and_takes_no_auto_rule():
    doc = form_doc(group("A", multi("m", []), {**multi("k", [1, 0]), "auto": {
        "metric": "fcr", "yes": "ks0", "no": "ks1"}}))
    paths = [i.path for i in validate_form(doc)]
    assert "/groups/0/questions/0/options" in paths
    assert "/groups/0/questions/1/auto" in paths


def test_a_condition_cannot_depend_on_a_multiple_select_question():
    doc = form_doc(group("A", multi("m", [1, 1]), yes_no("q", visibility=when("m", "ms0"))))
    issues = validate_form(doc)
    assert [(i.path, i.message) for i in issues] == [
        ("/groups/0/questions/1/visibility/question_id",
         "a question cannot depend on a multiple-select question")]


# ---------------------------------------------------------------- Genesys


def select_option(qid: str, text: str, value: int) -> dict:
    """One ``multipleSelectOptionQuestions`` entry: a sub-question with Selected/Unselected."""
    sub = fx.question(qid, text, [
        {**fx.option(f"{qid}-sel", "Selected", value), "builtInType": "Selected"},
        {**fx.option(f"{qid}-unsel", "Unselected", 0), "builtInType": "Unselected"}])
    return sub


def multi_select(qid: str, text: str, options: list[dict], **flags) -> dict:
    doc = fx.question(qid, text, [], kind="multipleSelectQuestion", **flags)
    doc["multipleSelectOptionQuestions"] = options
    return doc


def pick(qid: str, selected: bool, value: int) -> dict:
    return {"questionId": qid, "answerId": f"{qid}-{'sel' if selected else 'unsel'}",
            "score": value if selected else 0, "markedNA": False, "systemMarkedNA": False,
            "failedKillQuestion": False}


def ms(qid: str, score_: int, picks: list[dict] | None, **flags) -> dict:
    doc = fx.qs(qid, None, score_, **flags)
    if picks is not None:
        doc["multipleSelectQuestionOptionScores"] = picks
    return doc


# Sales call, SCALED. Opening (w 1): greeted yes 1/1; checks done (multiple select, critical):
#    identity 2, address 1, consent 2 (max 5), picked identity + consent → 4/5. Group 5/6,
#    critical 4/5. Closing (w 2): wrap-up (multiple select, N/A allowed) summary 2, next steps 2,
#    nothing picked → 0/4; thanked yes 1/1. Group 1/5.
#    total = 100 * (1*5 + 2*1) / (1*6 + 2*5) = 43.75; critical = 100 * 1*4 / (1*5) = 80
#    non-critical = 100 * (1*1 + 2*1) / (1*1 + 2*5) = 27.27…; raw max 11, raw critical max 5
SALES = {
    "form": fx.form("frm-sales", "Sales call", "SCALED", [
        fx.group("g-open", "Opening", [
            fx.yes_no("q-greet", "Greeted the customer?"),
            multi_select("q-checks", "Which checks were done?", [
                select_option("q-chk-id", "Identity", 2),
                select_option("q-chk-addr", "Address", 1),
                select_option("q-chk-consent", "Consent", 2)], isCritical=True),
        ], weight=1),
        fx.group("g-close", "Closing", [
            multi_select("q-wrap", "Wrap-up covered", [
                select_option("q-wrap-sum", "Summary", 2),
                select_option("q-wrap-next", "Next steps", 2)], naEnabled=True),
            fx.yes_no("q-thanks", "Thanked the customer?"),
        ], weight=2),
    ]),
    "scoring_set": {
        "totalScore": 43.75, "totalCriticalScore": 80.0, "totalNonCriticalScore": 300 / 11,
        "maxTotalRawScore": 11.0, "maxTotalRawCriticalScore": 5.0,
        "anyFailedKillQuestions": False,
        "questionGroupScores": [
            fx.gs("g-open", 1, total=(5, 6), critical=(4, 5), questions=[
                fx.qs("q-greet", "q-greet-yes", 1),
                ms("q-checks", 4, [pick("q-chk-id", True, 2), pick("q-chk-addr", False, 1),
                                   pick("q-chk-consent", True, 2)])]),
            fx.gs("g-close", 2, total=(1, 5), critical=(0, 0), questions=[
                ms("q-wrap", 0, [pick("q-wrap-sum", False, 2), pick("q-wrap-next", False, 2)]),
                fx.qs("q-thanks", "q-thanks-yes", 1)]),
        ],
    },
}

# Upsell desk, OFF. Offer (kill, multiple select): plan 3, add-on 1 (max 4), picked the plan
#    only → 3/4, a failed kill question, total forced to 0. Extras (multiple select, N/A
#    allowed) marked N/A → 0 of 0, no option scores. Closed politely yes 1/1.
#    non-critical = 100 * (3 + 1) / (4 + 1) = 80; no critical question → 0; raw max 5
UPSELL = {
    "form": fx.form("frm-upsell", "Upsell desk", "OFF", [
        fx.group("g-offer", "Offer", [
            multi_select("q-offer", "What was offered?", [
                select_option("q-off-plan", "Plan", 3), select_option("q-off-addon", "Add-on", 1)],
                isKill=True),
            multi_select("q-extra", "Extras mentioned", [
                select_option("q-ext-a", "Warranty", 1)], naEnabled=True),
            fx.yes_no("q-polite", "Closed politely?"),
        ], weight=1),
    ]),
    "scoring_set": {
        "totalScore": 0.0, "totalCriticalScore": 0.0, "totalNonCriticalScore": 80.0,
        "maxTotalRawScore": 5.0, "maxTotalRawCriticalScore": 0.0,
        "anyFailedKillQuestions": True,
        "questionGroupScores": [
            fx.gs("g-offer", 1, total=(4, 5), critical=(0, 0), questions=[
                ms("q-offer", 3, [pick("q-off-plan", True, 3), pick("q-off-addon", False, 1)],
                   kill=True),
                ms("q-extra", 0, None, na=True),
                fx.qs("q-polite", "q-polite-yes", 1)]),
        ],
    },
}

CASES = {"sales": SALES, "upsell": UPSELL}


@pytest.fixture(scope="module")
def models():
    return json.loads(REFERENCE.read_text())["models"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_our_score_for_genesys_multiple_select_answers_equals_genesys_scoring_set(name):
    case = CASES[name]
    form_ = import_form(case["form"])
    answers = answers_from_genesys(case["scoring_set"], case["form"])
    assert_same(to_scoring_set(score(form_, answers), case["form"]), case["scoring_set"])


def test_import_maps_multiple_select_options_from_their_sub_questions():
    checks = import_form(SALES["form"]).question("q-checks")
    assert checks.type is QuestionType.MULTIPLE_SELECT and checks.is_critical
    assert [(o.id, o.text, o.value) for o in checks.options] == [
        ("q-chk-id", "Identity", 2), ("q-chk-addr", "Address", 1), ("q-chk-consent", "Consent", 2)]
    assert checks.max_value == 5


def test_answers_read_picks_by_the_selected_answer_id():
    answers = answers_from_genesys(SALES["scoring_set"], SALES["form"])
    assert answers.questions["q-checks"].option_ids == {"q-chk-id", "q-chk-consent"}
    assert answers.questions["q-wrap"].option_ids == frozenset()
    with pytest.raises(ValueError, match="with the form"):
        answers_from_genesys(SALES["scoring_set"])


@pytest.mark.parametrize(("change", "where"), [
    (lambda sub: sub["answerOptions"].pop(0), "answerOptions"),  # no Selected answer
    (lambda sub: sub["answerOptions"][1].update(value=1), "answerOptions"),  # Unselected worth 1
])
def test_option_questions_we_cannot_represent_are_import_issues(change, where):
    doc = copy.deepcopy(SALES["form"])
    change(doc["questionGroups"][0]["questions"][1]["multipleSelectOptionQuestions"][1])
    _, issues = genesys_form_doc(doc)
    assert [i.path for i in issues] == [
        f"/questionGroups/0/questions/1/multipleSelectOptionQuestions/1/{where}"]


def test_multiple_select_fixtures_use_only_reference_fields(models):
    fields = {name: set(models[name]["fields"]) for name in (
        "EvaluationQuestion", "AnswerOption", "EvaluationQuestionScore")}
    built_in = models["AnswerOption"]["enums"]["builtInType"]
    for case in CASES.values():
        for group_ in case["form"]["questionGroups"]:
            for question in group_["questions"]:
                assert set(question) <= fields["EvaluationQuestion"]
                for sub in question.get("multipleSelectOptionQuestions", []):
                    assert set(sub) <= fields["EvaluationQuestion"]
                    for option in sub["answerOptions"]:
                        assert set(option) <= fields["AnswerOption"]
                        assert option["builtInType"] in built_in
        for group_ in case["scoring_set"]["questionGroupScores"]:
            for question in group_["questionScores"]:
                for option_score in question.get("multipleSelectQuestionOptionScores", []):
                    assert set(option_score) <= fields["EvaluationQuestionScore"]


def test_native_export_without_the_genesys_form_has_option_scores_without_answer_ids():
    f = form(group("A", multi("m", [2, 1])))
    exported = to_scoring_set(score(f, picked("m", 1)))
    [question] = exported["questionGroupScores"][0]["questionScores"]
    assert question["score"] == 1
    assert [(p["questionId"], p["score"], "answerId" in p)
            for p in question["multipleSelectQuestionOptionScores"]] == [
        ("ms0", 0, False), ("ms1", 1, False)]
