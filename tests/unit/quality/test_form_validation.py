"""Evaluation forms: what validation rejects, where it points, and how versions move."""

import copy

import pytest

from extension.quality.domain.forms import (
    Condition,
    InvalidForm,
    QuestionType,
    WeightMode,
    next_version,
    parse_form,
    validate_form,
)
from tests.unit.quality.builders import choice, form_doc, free_text, group, when, yes_no


def issues(doc):
    return [(i.path, i.message) for i in validate_form(doc)]


def paths(doc):
    return [i.path for i in validate_form(doc)]


def valid_doc():
    return form_doc(
        group("greet", yes_no("q1"), choice("q2", [0, 2, 5], visibility=when("q1", "q1y")),
              weight=2, na_enabled=True),
        group("close", yes_no("q3", is_kill=True), free_text("q4"),
              visibility=when("q1", "q1y", "q1n")),
    )


def test_a_well_formed_form_has_no_issues_and_parses():
    doc = valid_doc()
    assert validate_form(doc) == []
    parsed = parse_form(doc)
    assert parsed.weight_mode is WeightMode.SCALED and parsed.version == 1
    q2 = parsed.groups[0].questions[1]
    assert q2.type is QuestionType.MULTIPLE_CHOICE and q2.max_value == 5
    assert q2.visibility == Condition("q1", ("q1y",))
    assert parsed.groups[0].weight == 2.0 and parsed.groups[0].na_enabled


def test_parse_form_raises_with_every_issue():
    doc = valid_doc()
    doc["groups"][0]["weight"] = -1
    with pytest.raises(InvalidForm) as caught:
        parse_form(doc)
    assert [i.path for i in caught.value.issues] == ["/groups/0/weight"]


def test_structural_errors_point_at_the_field():
    doc = valid_doc()
    doc["groups"][1]["questions"][0]["type"] = "essay"
    doc["groups"][0]["questions"][0]["options"][1]["value"] = "zero"
    assert paths(doc) == ["/groups/0/questions/0/options/1/value", "/groups/1/questions/0/type"]


def test_a_form_needs_groups_and_a_group_needs_questions():
    assert paths(form_doc()) == ["/groups"]
    assert paths(form_doc(group("g"))) == ["/groups/0/questions"]


def test_negative_weight_is_rejected():
    doc = form_doc(group("a", yes_no("q1"), weight=-0.5), group("b", yes_no("q2")))
    assert issues(doc) == [("/groups/0/weight", "weight must not be negative")]


def test_all_zero_weights_are_rejected_in_scaled_mode_only():
    groups = (group("a", yes_no("q1"), weight=0), group("b", yes_no("q2"), weight=0))
    assert paths(form_doc(*groups)) == ["/groups"]
    assert paths(form_doc(*groups, mode="OFF")) == []


def test_weights_need_not_sum_to_one():
    doc = form_doc(group("a", yes_no("q1"), weight=40), group("b", yes_no("q2"), weight=0))
    assert paths(doc) == []


def test_scored_question_without_options_is_rejected():
    doc = form_doc(group("a", yes_no("q1"), choice("q2", [])))
    assert issues(doc) == [("/groups/0/questions/1/options",
                            "a scored question needs answer options")]


def test_yes_no_needs_exactly_two_options():
    question = yes_no("q1")
    question["options"].append({"id": "maybe", "text": "Maybe", "value": 0})
    assert paths(form_doc(group("a", question))) == ["/groups/0/questions/0/options"]


def test_a_scale_needs_two_points():
    question = {**choice("q1", [3]), "type": "scale"}
    assert paths(form_doc(group("a", question))) == ["/groups/0/questions/0/options"]


def test_kill_or_critical_free_text_is_rejected():
    doc = form_doc(group("a", yes_no("q0"), free_text("q1", is_kill=True, is_critical=True)))
    assert paths(doc) == ["/groups/0/questions/1/is_kill", "/groups/0/questions/1/is_critical"]


def test_free_text_takes_no_options():
    doc = form_doc(group("a", {**yes_no("q1"), "type": "free_text"}))
    assert paths(doc) == ["/groups/0/questions/0/options"]


def test_duplicate_ids_are_reported_where_they_repeat():
    q = yes_no("q1")
    q["options"][1]["id"] = "q1y"
    doc = form_doc(group("a", q, yes_no("q2")), group("a", yes_no("q2")))
    assert sorted(paths(doc)) == ["/groups/0/questions/0/options/1/id", "/groups/1/id",
                                  "/groups/1/questions/0/id"]


def test_condition_on_unknown_question_or_option():
    doc = form_doc(group("a", yes_no("q1"), yes_no("q2", visibility=when("nope", "x")),
                         yes_no("q3", visibility=when("q1", "q1y", "bogus"))))
    assert issues(doc) == [
        ("/groups/0/questions/1/visibility/question_id", "unknown question 'nope'"),
        ("/groups/0/questions/2/visibility/option_ids/1", "question 'q1' has no option 'bogus'"),
    ]


def test_condition_on_a_later_question_or_itself_is_rejected():
    doc = form_doc(group("a", yes_no("q1", visibility=when("q2", "q2y")), yes_no("q2"),
                         yes_no("q3", visibility=when("q3", "q3y"))))
    assert paths(doc) == ["/groups/0/questions/0/visibility/question_id",
                          "/groups/0/questions/2/visibility/question_id"]


def test_a_cycle_is_reported_as_a_forward_reference():
    doc = form_doc(group("a", yes_no("q1", visibility=when("q2", "q2y")),
                         yes_no("q2", visibility=when("q1", "q1y"))))
    assert paths(doc) == ["/groups/0/questions/0/visibility/question_id",
                          "/groups/0/questions/1/visibility"]


def test_a_group_may_only_depend_on_an_earlier_group():
    doc = form_doc(group("a", yes_no("q1"), visibility=when("q1", "q1y")))
    assert paths(doc) == ["/groups/0/visibility/question_id"]


def test_condition_with_no_options_is_never_shown():
    doc = form_doc(group("a", yes_no("q1"), yes_no("q2", visibility=when("q1"))))
    assert paths(doc) == ["/groups/0/questions/1/visibility/option_ids"]


def test_depending_on_a_question_that_is_never_shown_is_rejected():
    doc = form_doc(
        group("a", yes_no("q1"), yes_no("q2", visibility=when("q1"))),
        group("b", yes_no("q3", visibility=when("q2", "q2y"))),
        group("c", yes_no("q4"), visibility=when("q3", "q3n")),
    )
    assert issues(doc)[1:] == [
        ("/groups/1/questions/0/visibility", "depends on question 'q2', which is never shown"),
        ("/groups/2/visibility", "depends on question 'q3', which is never shown"),
    ]


def test_questions_in_a_never_shown_group_are_never_shown():
    doc = form_doc(group("a", yes_no("q1")), group("b", yes_no("q2"), visibility=when("q1")),
                   group("c", yes_no("q3", visibility=when("q2", "q2y"))))
    assert paths(doc) == ["/groups/1/visibility/option_ids", "/groups/2/questions/0/visibility"]


# ---------------------------------------------------------------- versioning


def test_an_unchanged_edit_keeps_the_published_version():
    published = parse_form({**valid_doc(), "version": 3})
    assert next_version(published, copy.deepcopy(valid_doc())) is published


def test_a_changed_edit_becomes_the_next_version_under_the_same_id():
    published = parse_form({**valid_doc(), "version": 3})
    edited = valid_doc()
    edited["id"], edited["version"] = "something-else", 99
    edited["groups"][0]["weight"] = 3
    new = next_version(published, edited)
    assert (new.id, new.version, new.groups[0].weight) == (published.id, 4, 3.0)
    assert published.version == 3 and published.groups[0].weight == 2.0


def test_an_invalid_edit_cannot_be_versioned():
    published = parse_form(valid_doc())
    edited = valid_doc()
    edited["groups"][0]["questions"][0]["options"] = []
    with pytest.raises(InvalidForm):
        next_version(published, edited)
