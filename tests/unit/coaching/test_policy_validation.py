"""Trigger policies: what validation on save rejects, and where it points."""

import copy

import pytest

from extension.coaching.domain.policies import DEFAULT_POLICY, validate_policy


def policy_with(when, *, action="flag", rule_id="r1", **extra):
    return {"rules": [{"id": rule_id, "action": action, "when": when}], **extra}


def issue_paths(doc):
    return [i.path for i in validate_policy(doc)]


def test_unknown_fact_is_reported_at_its_path():
    doc = policy_with(
        {
            "all": [
                {"fact": "qa_score", "op": "lt", "value": 5},
                {"fact": "mood", "op": "lt", "value": 1},
            ]
        }
    )
    assert issue_paths(doc) == ["/rules/0/when/all/1/fact"]


def test_unknown_operator_is_reported_at_its_path():
    doc = policy_with(
        {
            "all": [
                {"fact": "qa_score", "op": "lt", "value": 5},
                {"fact": "qa_score", "op": "below", "value": 1},
            ]
        }
    )
    assert issue_paths(doc) == ["/rules/0/when/all/1/op"]


@pytest.mark.parametrize(
    ("leaf", "path", "fragment"),
    [
        (
            {"fact": "qa_score", "op": "phrase_present", "value": "x"},
            "/rules/0/when/op",
            "does not apply",
        ),
        ({"fact": "channel", "op": "lt", "value": "voice"}, "/rules/0/when/op", "does not apply"),
        (
            {"fact": "qa_score", "op": "lt", "value": "60"},
            "/rules/0/when/value",
            "expected a number",
        ),
        (
            {"fact": "qa_score", "op": "lt", "value": True},
            "/rules/0/when/value",
            "expected a number",
        ),
        ({"fact": "customer_sentiment", "op": "lt", "value": -60}, "/rules/0/when/value", "-1..1"),
        ({"fact": "qa_score", "op": "gt", "value": 101}, "/rules/0/when/value", "0..100"),
        (
            {"fact": "transferred", "op": "eq", "value": "yes"},
            "/rules/0/when/value",
            "expected bool",
        ),
        ({"fact": "channel", "op": "in", "value": []}, "/rules/0/when/value", "non-empty list"),
        (
            {"fact": "channel", "op": "in", "value": ["voice", 3]},
            "/rules/0/when/value",
            "expected string",
        ),
        ({"fact": "qa_score", "op": "exists", "value": 1}, "/rules/0/when/value", "takes no value"),
        ({"fact": "qa_score", "op": "lt"}, "/rules/0/when/value", "needs a value"),
        (
            {"fact": "transcript", "op": "phrase_present", "value": ["ok", "!!"]},
            "/rules/0/when/value",
            "phrase",
        ),
        ({"fact": "flags_within", "op": "gte", "value": 2}, "/rules/0/when", "needs 'days'"),
        (
            {"fact": "qa_score", "op": "lt", "value": 2, "days": 7},
            "/rules/0/when/days",
            "only to flags_within",
        ),
    ],
)
def test_semantic_errors_point_at_the_offending_field(leaf, path, fragment):
    [issue] = validate_policy(policy_with(leaf))
    assert issue.path == path
    assert fragment in issue.message


def test_duplicate_rule_ids_are_rejected():
    doc = copy.deepcopy(DEFAULT_POLICY)
    doc["rules"][1]["id"] = "negative-interaction"
    [issue] = validate_policy(doc)
    assert (issue.path, issue.message) == (
        "/rules/1/id",
        "duplicate rule id 'negative-interaction'",
    )


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ({"rules": [{"id": "a", "action": "flag"}]}, "/rules/0"),
        (
            {
                "rules": [
                    {"id": "a", "action": "punish", "when": {"fact": "qa_score", "op": "exists"}}
                ]
            },
            "/rules/0/action",
        ),
        (
            {"rules": [{"id": "", "action": "flag", "when": {"fact": "qa_score", "op": "exists"}}]},
            "/rules/0/id",
        ),
        ({"rules": [{"id": "a", "action": "flag", "when": {"all": []}}]}, "/rules/0/when/all"),
        (
            {"rules": [{"id": "a", "action": "flag", "when": {"all": [], "any": []}}]},
            "/rules/0/when",
        ),
        ({"rules": [], "coaching": {"length_minutes": 20}}, "/coaching/length_minutes"),
        ({"rules": [], "coaching": {"length_minutes": 75}}, "/coaching/length_minutes"),
        ({"rules": [], "coaching": {"peak_quantile": 0}}, "/coaching/peak_quantile"),
        ({"rules": [], "coaching": {"min_flags": 0}}, "/coaching/min_flags"),
        ({"rules": [], "coaching": {"window_days": "7"}}, "/coaching/window_days"),
        ({"rules": [], "coaching": {"surprise": 1}}, "/coaching"),
        ({"rules": [], "recognition": {"type": "Hug"}}, "/recognition/type"),
        (
            {
                "rules": [
                    {
                        "id": "a",
                        "action": "flag",
                        "when": {"fact": "flags_within", "days": 0, "op": "gt", "value": 1},
                    }
                ]
            },
            "/rules/0/when/days",
        ),
        ({}, "/"),
        ([], "/"),
    ],
)
def test_structural_errors_come_from_the_schema_with_paths(doc, path):
    issues = validate_policy(doc)
    assert issues, doc
    assert issues[0].path == path


def test_valid_lengths_are_quarter_hours_up_to_an_hour():
    for minutes in (15, 30, 45, 60):
        assert validate_policy({"rules": [], "coaching": {"length_minutes": minutes}}) == []
