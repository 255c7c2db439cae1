"""Genesys forms and scoring sets: import, answers, export, and agreement with Genesys."""

import copy
import json
import math
from pathlib import Path

import pytest

from extension.quality.domain.forms import Condition, InvalidForm, QuestionType, WeightMode
from extension.quality.domain.genesys_forms import (
    answers_from_genesys,
    genesys_form_doc,
    import_form,
    to_scoring_set,
)
from extension.quality.domain.scoring import score
from tests.unit.quality import genesys_fixtures as fx

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared/reference/genesys-cloud-api.json"


@pytest.fixture(scope="module")
def models():
    return json.loads(REFERENCE.read_text())["models"]


def rescore(case):
    form = import_form(case["form"])
    return to_scoring_set(score(form, answers_from_genesys(case["scoring_set"])))


def assert_same(ours, theirs, path="$"):
    """Equal structure, equal keys, floats equal to 1e-9."""
    if isinstance(theirs, dict):
        assert set(ours) == set(theirs), path
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(theirs, float) or isinstance(ours, float):
        assert math.isclose(ours, theirs, abs_tol=1e-9), f"{path}: {ours} != {theirs}"
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


@pytest.mark.parametrize("name", sorted(fx.CASES))
def test_our_score_for_genesys_answers_equals_genesys_scoring_set(name):
    case = fx.CASES[name]
    assert_same(rescore(case), case["scoring_set"])


@pytest.mark.parametrize("name", sorted(fx.CASES))
def test_exported_keys_are_reference_fields(name, models):
    exported = rescore(fx.CASES[name])
    assert set(exported) <= set(models["EvaluationScoringSet"]["fields"])
    for group in exported["questionGroupScores"]:
        assert set(group) == set(models["EvaluationQuestionGroupScore"]["fields"])
        for question in group["questionScores"]:
            assert set(question) <= set(models["EvaluationQuestionScore"]["fields"])


def test_fixtures_use_only_reference_fields(models):
    """The hand-written Genesys shapes are real shapes, not guesses."""
    fields = {name: set(models[name]["fields"]) for name in (
        "EvaluationFormResponse", "EvaluationQuestionGroup", "EvaluationQuestion",
        "AnswerOption", "VisibilityCondition")}
    for case in fx.CASES.values():
        doc = case["form"]
        assert set(doc) <= fields["EvaluationFormResponse"]
        assert doc["weightMode"] in models["EvaluationFormResponse"]["enums"]["weightMode"]
        for group in doc["questionGroups"]:
            assert set(group) <= fields["EvaluationQuestionGroup"]
            for question in group["questions"]:
                assert set(question) <= fields["EvaluationQuestion"]
                assert question["type"] in models["EvaluationQuestion"]["enums"]["type"]
                for option in question["answerOptions"]:
                    assert set(option) <= fields["AnswerOption"]
                for cond in (question.get("visibilityCondition"), group.get("visibilityCondition")):
                    assert cond is None or set(cond) <= fields["VisibilityCondition"]


def test_import_maps_types_flags_and_weights():
    form = import_form(fx.INBOUND["form"])
    assert (form.id, form.name, form.weight_mode) == ("frm-inbound", "Inbound support",
                                                      WeightMode.SCALED)
    assert [g.weight for g in form.groups] == [1.0, 2.0, 1.0]
    verify, resolved, notes = (form.question(q) for q in ("q-verify", "q-resolved", "q-notes"))
    assert verify.type is QuestionType.YES_NO and verify.is_critical and not verify.is_kill
    assert resolved.type is QuestionType.MULTIPLE_CHOICE and resolved.max_value == 4
    assert notes.type is QuestionType.FREE_TEXT and notes.options == ()
    assert form.question("q-disclose").is_kill and form.groups[2].na_enabled


def test_import_turns_text_blocks_into_help_text_and_maps_conditions():
    form = import_form(fx.CALLBACK["form"])
    handling = form.groups[0]
    assert [q.id for q in handling.questions] == ["q-offer", "q-booked"]
    assert handling.questions[0].help_text == "Listen to the whole call before scoring."
    assert handling.questions[1].visibility == Condition("q-offer", ("q-offer-yes",))
    assert form.groups[2].visibility == Condition("q-offer", ("q-offer-no",))
    assert form.question("q-nps").type is QuestionType.SCALE
    assert form.weight_mode is WeightMode.OFF


def test_trailing_text_block_is_appended_to_the_last_question():
    doc = copy.deepcopy(fx.INBOUND["form"])
    doc["questionGroups"][2]["questions"].append(
        fx.question("q-bye", "Thank the caller.", [], kind="readOnlyTextBlockQuestion"))
    assert import_form(doc).question("q-disclose").help_text == "Thank the caller."


def test_or_over_options_of_one_question_is_one_condition():
    doc = copy.deepcopy(fx.RETENTION["form"])
    doc["questionGroups"][1]["visibilityCondition"]["predicates"].append(
        "/form/questionGroup/0/question/0/answer/0")
    visibility = import_form(doc).groups[1].visibility
    assert visibility == Condition("q-reason", ("q-reason-cancel", "q-reason-bill"))


@pytest.mark.parametrize(
    ("combining", "predicates"),
    [
        ("OR", ["/form/questionGroup/0/question/0/answer/0",
                "/form/questionGroup/0/question/1/answer/0"]),  # two questions
        ("AND", ["/form/questionGroup/0/question/0/answer/0",
                 "/form/questionGroup/0/question/0/answer/1"]),  # both answers of one question
    ],
)
def test_conditions_we_cannot_express_are_import_issues(combining, predicates):
    doc = copy.deepcopy(fx.INBOUND["form"])
    doc["questionGroups"][1]["questions"][0]["visibilityCondition"] = {
        "combiningOperation": combining, "predicates": predicates}
    _, issues = genesys_form_doc(doc)
    assert [i.path for i in issues] == ["/questionGroups/1/questions/0/visibilityCondition"]
    with pytest.raises(InvalidForm):
        import_form(doc)


@pytest.mark.parametrize("predicate", ["/form/questionGroup/9/question/0/answer/0",
                                       "../question/0/answer/7", "question 1 is yes", {"x": 1}])
def test_predicates_that_point_nowhere_are_import_issues(predicate):
    doc = copy.deepcopy(fx.INBOUND["form"])
    doc["questionGroups"][0]["questions"][1]["visibilityCondition"] = {
        "combiningOperation": "AND", "predicates": [predicate]}
    _, issues = genesys_form_doc(doc)
    assert [i.path for i in issues] == [
        "/questionGroups/0/questions/1/visibilityCondition/predicates/0"]


def test_relative_predicate_on_a_group_is_an_issue():
    doc = copy.deepcopy(fx.INBOUND["form"])
    doc["questionGroups"][1]["visibilityCondition"] = {
        "combiningOperation": "AND", "predicates": ["../question/0/answer/0"]}
    assert [i.path for i in genesys_form_doc(doc)[1]] == [
        "/questionGroups/1/visibilityCondition/predicates/0"]


def test_multiple_select_questions_are_not_imported_silently():
    doc = copy.deepcopy(fx.INBOUND["form"])
    doc["questionGroups"][0]["questions"][0]["type"] = "multipleSelectQuestion"
    assert [i.path for i in genesys_form_doc(doc)[1]] == ["/questionGroups/0/questions/0/type"]


def test_invalid_genesys_form_is_reported_by_our_validation():
    doc = copy.deepcopy(fx.INBOUND["form"])
    for group in doc["questionGroups"]:
        group["weight"] = 0
    with pytest.raises(InvalidForm) as caught:
        import_form(doc)
    assert [i.path for i in caught.value.issues] == ["/groups"]


def test_answers_from_genesys_keep_evaluator_choices_only():
    answers = answers_from_genesys(fx.CALLBACK["scoring_set"])
    assert answers.questions["q-offer"].option_id == "q-offer-no"
    assert answers.questions["q-esc-ok"].na
    assert "q-booked" not in answers.questions  # system N/A is recomputed, not trusted
    assert answers.na_groups == frozenset()
    collections = answers_from_genesys(fx.COLLECTIONS["scoring_set"])
    assert collections.na_groups == {"g-sales"} and "q-upsell" not in collections.questions


def test_free_text_comments_travel_as_answer_text():
    scoring_set = copy.deepcopy(fx.INBOUND["scoring_set"])
    scoring_set["questionGroupScores"][1]["questionScores"][1]["comments"] = "Clear steps given"
    answers = answers_from_genesys(scoring_set)
    assert answers.questions["q-notes"].text == "Clear steps given"
    assert_same(to_scoring_set(score(import_form(fx.INBOUND["form"]), answers)),
                fx.INBOUND["scoring_set"])
