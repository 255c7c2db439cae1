"""Trigger policies: validation on save and evaluation over interaction facts."""

import pytest

from extension.coaching.domain.policies import (
    DEFAULT_POLICY,
    Outcome,
    coaching_settings,
    evaluate,
    history_windows,
    validate_policy,
)


def policy_with(when, *, action="flag", rule_id="r1", **extra):
    return {"rules": [{"id": rule_id, "action": action, "when": when}], **extra}


def fired(policy, facts):
    return [o.rule_id for o in evaluate(policy, facts)]


# ---------------------------------------------------------------- default policy


def test_default_policy_is_valid():
    assert validate_policy(DEFAULT_POLICY) == []


def test_default_flags_upset_customer_with_negative_agent_and_explains_why():
    outcomes = evaluate(DEFAULT_POLICY, {"customer_sentiment": -0.82, "agent_sentiment": -0.5})
    assert outcomes == [
        Outcome(
            "negative-interaction",
            "flag",
            ["customer_sentiment -0.82 < -0.6", "agent_sentiment -0.5 < -0.3"],
        )
    ]


@pytest.mark.parametrize(
    ("customer", "agent", "expected"),
    [
        (-0.6, -0.9, []),  # exactly the threshold is not below it
        (-0.61, -0.9, ["negative-interaction"]),
        (-0.9, -0.3, []),
        (-0.9, -0.31, ["negative-interaction"]),
        (0.8, 0.0, []),
        (0.81, 0.0, ["delighted-customer"]),
    ],
)
def test_default_thresholds_are_strict(customer, agent, expected):
    assert (
        fired(DEFAULT_POLICY, {"customer_sentiment": customer, "agent_sentiment": agent})
        == expected
    )


def test_missing_fact_makes_the_comparison_false_not_an_error():
    assert fired(DEFAULT_POLICY, {"customer_sentiment": -0.9}) == []
    assert fired(DEFAULT_POLICY, {}) == []


def test_wrongly_typed_fact_does_not_satisfy_an_ordering():
    assert fired(DEFAULT_POLICY, {"customer_sentiment": "-0.9", "agent_sentiment": -0.9}) == []


def test_default_recognition_is_thank_you_and_coaching_defaults_match_the_guide():
    assert DEFAULT_POLICY["recognition"] == {"type": "ThankYou"}
    assert DEFAULT_POLICY["coaching"] == {
        "min_flags": 2,
        "window_days": 7,
        "max_per_agent_per_week": 1,
        "horizon_days": 5,
        "length_minutes": 30,
        "peak_quantile": 0.8,
        "calendar_unavailable": "book_unchecked",
    }


def test_coaching_settings_fill_gaps_from_defaults_without_sharing_state():
    settings = coaching_settings({"rules": [], "coaching": {"min_flags": 3}})
    assert settings["min_flags"] == 3 and settings["window_days"] == 7
    settings["window_days"] = 99
    assert coaching_settings({"rules": []})["window_days"] == 7


# ---------------------------------------------------------------- richer conditions


def test_qa_score_and_failed_critical_any_branch_reasons_only_from_true_branches():
    policy = policy_with(
        {
            "any": [
                {"fact": "qa_score", "op": "lt", "value": 60},
                {"fact": "failed_critical", "op": "eq", "value": True},
                {"fact": "failed_kill", "op": "eq", "value": True},
            ]
        }
    )
    assert validate_policy(policy) == []
    [outcome] = evaluate(policy, {"qa_score": 75, "failed_critical": True, "failed_kill": False})
    assert outcome.reasons == ["failed_critical True == True"]
    assert fired(policy, {"qa_score": 60, "failed_critical": False}) == []


def test_not_in_and_not_conditions():
    policy = policy_with(
        {
            "all": [
                {"fact": "channel", "op": "in", "value": ["voice", "chat"]},
                {"not": {"fact": "transferred", "op": "eq", "value": True}},
                {"fact": "wrapup_code", "op": "not_in", "value": ["test-call"]},
            ]
        },
        action="alert",
    )
    assert validate_policy(policy) == []
    facts = {"channel": "voice", "transferred": False, "wrapup_code": "billing"}
    [outcome] = evaluate(policy, facts)
    assert outcome.action == "alert"
    assert outcome.reasons == [
        "channel 'voice' in ['voice', 'chat']",
        "not (transferred == True)",
        "wrapup_code 'billing' not in ['test-call']",
    ]
    assert fired(policy, facts | {"channel": "email"}) == []
    assert fired(policy, facts | {"transferred": True}) == []


def test_exists_and_missing():
    policy = policy_with(
        {"all": [{"fact": "qa_score", "op": "exists"}, {"fact": "t_hold_ms", "op": "missing"}]}
    )
    assert validate_policy(policy) == []
    assert fired(policy, {"qa_score": 10}) == ["r1"]
    assert fired(policy, {"qa_score": 10, "t_hold_ms": 5}) == []
    assert fired(policy, {"qa_score": None}) == []


def test_handle_and_hold_times_compare_as_numbers():
    policy = policy_with({"fact": "t_hold_ms", "op": "gte", "value": 120000})
    assert fired(policy, {"t_hold_ms": 120000}) == ["r1"]
    assert fired(policy, {"t_hold_ms": 119999}) == []


# ---------------------------------------------------------------- phrases


ESCALATION = {
    "fact": "transcript",
    "op": "phrase_present",
    "value": ["speak to your manager", "cancel my account"],
}
COMPLIANCE = {"fact": "transcript", "op": "phrase_missing", "value": "this call may be recorded"}


@pytest.mark.parametrize(
    ("transcript", "expected"),
    [
        ("I want to SPEAK to your... manager!!", ["r1"]),
        ("Please, cancel my account.", ["r1"]),
        ("Can I speak to your managers' office", []),  # whole words only
        ("thanks, all good", []),
    ],
)
def test_phrase_present_ignores_case_and_punctuation(transcript, expected):
    assert fired(policy_with(ESCALATION), {"transcript": transcript}) == expected


def test_phrase_missing_fires_only_when_the_transcript_lacks_every_phrase():
    policy = policy_with(COMPLIANCE)
    assert fired(policy, {"transcript": "Hello, how can I help?"}) == ["r1"]
    assert fired(policy, {"transcript": "Hi. This call may be RECORDED, for quality."}) == []
    assert fired(policy, {}) == []  # no transcript yet: unknown, not missing


def test_phrase_reason_names_the_phrase():
    [outcome] = evaluate(policy_with(COMPLIANCE), {"transcript": "hi"})
    assert outcome.reasons == ["transcript lacks 'this call may be recorded'"]


# ---------------------------------------------------------------- flags_within


def test_flags_within_reads_the_count_the_caller_computed_for_its_window():
    policy = {
        "rules": [
            {
                "id": "w",
                "action": "alert",
                "when": {"fact": "flags_within", "days": 7, "op": "gte", "value": 3},
            },
            {
                "id": "m",
                "action": "alert",
                "when": {"not": {"fact": "flags_within", "days": 30, "op": "lt", "value": 10}},
            },
        ]
    }
    assert validate_policy(policy) == []
    assert history_windows(policy) == {7, 30}
    [outcome] = evaluate(policy, {"flags_within:7": 3, "flags_within:30": 4})
    assert outcome == Outcome("w", "alert", ["flags_within:7 3 >= 3"])
    assert fired(policy, {"flags_within:7": 2, "flags_within:30": 10}) == ["m"]


def test_history_windows_of_default_policy_is_empty():
    assert history_windows(DEFAULT_POLICY) == set()
