"""Per-tenant phrase lists in the domain: the defaults are the built-in lists exactly, a stored
list round-trips, inactive rules are kept but not matched, and a tenant's wording is detected."""

from __future__ import annotations

from extension.text.domain import phrase_lists as lists
from extension.text.domain.analysis import TextConfig, analyze_transcript
from extension.text.domain.sentiment import VaderModel

CALL = [{"party": "agent", "text": "Hello. This call may be recorded for training purposes."},
        {"party": "customer", "text": "Fine."},
        {"party": "agent", "text": "Honestly, not in my job description."}]


def test_the_defaults_are_the_built_in_lists():
    assert TextConfig().required == lists.REQUIRED == lists.DEFAULTS["required"]
    assert lists.active_rules(lists.defaults_as_dicts("prohibited")) == lists.PROHIBITED
    assert lists.active_rules(lists.defaults_as_dicts("required")) == lists.REQUIRED


def test_a_stored_rule_round_trips_and_inactive_rules_are_not_enforced():
    stored = [{"key": "training", "wordings": ["this call may be recorded for training"], "party": "agent",
               "threshold": 0.9, "active": True},
              {"key": "old", "wordings": ["press one"], "party": None, "threshold": 0.85, "active": False}]
    rules = lists.active_rules(stored)
    assert [r.name for r in rules] == ["training"]
    assert lists.rule_as_dict(rules[0]) == stored[0]


def test_a_tenant_wording_is_found_where_the_defaults_see_nothing():
    model = VaderModel()
    prohibited = lists.active_rules([{"key": "job", "wordings": ["not in my job description"],
                                      "party": "agent", "threshold": 0.95}])
    required = lists.active_rules([{"key": "training_disclosure",
                                    "wordings": ["this call may be recorded for training"],
                                    "party": "agent", "threshold": 0.85},
                                   {"key": "name_check", "wordings": ["confirm your full name"],
                                    "party": "agent", "threshold": 0.85}])
    config = TextConfig(required=required, prohibited=prohibited)
    custom = analyze_transcript(CALL, model=model, config=config)
    default = analyze_transcript(CALL, model=model)
    assert custom["compliance"]["training_disclosure"]["present"] is True
    assert custom["compliance"]["name_check"]["present"] is False
    assert "identity_verification" not in custom["compliance"]
    assert [s["detail"]["rule"] for s in custom["prohibited"]] == ["job"]
    assert default["prohibited"] == []
    assert set(default["compliance"]) == {"recording_disclosure", "identity_verification", "closing_offer"}
