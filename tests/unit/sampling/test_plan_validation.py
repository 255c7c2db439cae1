"""Sampling plans: what validation rejects, and where it points."""

import pytest

from extension.sampling.domain.selection import DEFAULT_PLAN, InvalidPlan, parse_plan, select, validate_plan
from tests.unit.sampling.builders import MONTH_END, MONTH_START, plan, record


def paths(doc):
    return [issue.path for issue in validate_plan(doc)]


def test_the_default_plan_is_valid_and_parses():
    assert validate_plan(DEFAULT_PLAN) == []
    parsed = parse_plan(DEFAULT_PLAN)
    assert parsed.period == "month" and parsed.min_per_agent == 4
    assert parsed.risk_rules[0].id == "negative_sentiment"
    assert parsed.risk_rules[0].param("threshold") == -0.3  # the catalogue default


def test_unknown_period_is_reported_at_its_path():
    assert paths(plan(period="quarter")) == ["/period"]


def test_negative_minimum_is_rejected():
    assert paths(plan(min_per_agent=-1)) == ["/min_per_agent"]


def test_mix_must_sum_to_one():
    issues = validate_plan(plan(mix={"risk": 0.5, "random": 0.6}))
    assert [(i.path, "sum to 1" in i.message) for i in issues] == [("/mix", True)]


def test_budget_takes_exactly_one_of_rate_or_count():
    assert paths(plan(budget={"rate": 0.1, "count": 10})) == ["/budget"]
    assert paths(plan(budget={})) == ["/budget"]
    assert paths(plan(budget={"rate": 0})) == ["/budget/rate"]


def test_unknown_rule_is_reported_at_its_id():
    doc = plan(risk={"rules": [{"id": "escalation"}, {"id": "bad_mood"}]})
    assert paths(doc) == ["/risk/rules/1/id"]


def test_a_parameter_that_does_not_belong_to_the_rule_is_rejected():
    doc = plan(risk={"rules": [{"id": "escalation", "threshold": 0.5}]})
    issues = validate_plan(doc)
    assert [i.path for i in issues] == ["/risk/rules/0"]
    assert "threshold" in issues[0].message


def test_out_of_range_threshold_is_reported_at_the_parameter():
    doc = plan(risk={"rules": [{"id": "negative_sentiment", "threshold": -30}]})
    assert paths(doc) == ["/risk/rules/0/threshold"]


def test_weight_must_be_positive():
    assert paths(plan(risk={"rules": [{"id": "transfer", "weight": 0}]})) == ["/risk/rules/0/weight"]


def test_duplicate_rule_is_reported_at_the_second_one():
    doc = plan(risk={"rules": [{"id": "transfer"}, {"id": "low_csat"}, {"id": "transfer"}]})
    assert paths(doc) == ["/risk/rules/2/id"]


def test_a_risk_share_without_rules_is_rejected():
    assert paths(plan(risk={"rules": []})) == ["/risk/rules"]
    assert paths(plan(risk={"rules": []}, mix={"risk": 0, "random": 1})) == []


def test_agent_must_be_the_outermost_stratum():
    assert paths(plan(random={"strata": ["channel", "agent_id"]})) == ["/random/strata/0"]
    assert paths(plan(random={"strata": ["agent_id", "channel", "channel"]})) == ["/random/strata"]
    assert paths(plan(random={"strata": ["agent_id", "skill"]})) == ["/random/strata/1"]


def test_precision_needs_a_positive_margin_and_a_sensible_confidence():
    assert paths(plan(precision={"margin": 0})) == ["/precision/margin"]
    assert paths(plan(precision={"margin": 5, "confidence": 1.0})) == ["/precision/confidence"]
    assert paths(plan(precision={"margin": 5, "prior_sd": -1})) == ["/precision/prior_sd"]


def test_missing_and_unknown_top_level_keys_are_reported():
    doc = plan()
    del doc["period"]
    doc["colour"] = "blue"
    assert len(validate_plan(doc)) == 2


def test_parse_plan_raises_with_every_issue():
    with pytest.raises(InvalidPlan) as caught:
        parse_plan(plan(period="day", min_per_agent=-3))
    assert sorted(i.path for i in caught.value.issues) == ["/min_per_agent", "/period"]


def test_select_refuses_an_invalid_document():
    with pytest.raises(InvalidPlan):
        select([record(1)], plan(mix={"risk": 2, "random": 0}), seed=1, period_start=MONTH_START,
               period_end=MONTH_END)
