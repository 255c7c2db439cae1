"""Auto-score rules: validation at JSON Pointers, and pre-filling answers from interaction data."""

from __future__ import annotations

import pytest

from extension.quality.domain.autoscore import InteractionData, prefill
from extension.quality.domain.forms import next_version, parse_form, validate_form
from extension.text.domain.spans import Utterance
from tests.unit.quality.builders import free_text, group, yes_no

BANDS = {"metric": "handle_seconds", "bands": [{"max": 300, "option_id": "q1y"},
                                               {"max": None, "option_id": "q1n"}]}


def doc(auto: dict | None, *, question=yes_no) -> dict:
    q = question("q1", auto=auto) if auto is not None else question("q1")
    return {"id": "f", "name": "F", "groups": [group("g1", q, yes_no("q2"))]}


def paths(document: dict) -> list[str]:
    return [issue.path for issue in validate_form(document)]


@pytest.mark.parametrize("auto", [
    BANDS,
    {"metric": "hold_seconds", "bands": [{"max": 0, "option_id": "q1y"}, {"max": 60, "option_id": "q1n"}]},
    {"metric": "fcr", "yes": "q1y", "no": "q1n"},
    {"metric": "transferred", "yes": "q1n", "no": "q1y"},
    {"metric": "compliance_statement", "phrases": ["this call may be recorded"], "yes": "q1y", "no": "q1n",
     "threshold": 0.9},
])
def test_valid_rules(auto):
    assert validate_form(doc(auto)) == []
    assert parse_form(doc(auto)).question("q1").auto.metric == auto["metric"]


@pytest.mark.parametrize(("auto", "pointer"), [
    ({"metric": "mood", "yes": "q1y", "no": "q1n"}, "/groups/0/questions/0/auto/metric"),
    ({"metric": "fcr", "yes": "q1y"}, "/groups/0/questions/0/auto"),
    ({"metric": "handle_seconds"}, "/groups/0/questions/0/auto"),
    ({"metric": "compliance_statement", "yes": "q1y", "no": "q1n"}, "/groups/0/questions/0/auto"),
    ({"metric": "fcr", "yes": "q1y", "no": "q1x"}, "/groups/0/questions/0/auto/no"),
    ({"metric": "fcr", "yes": "q1y", "no": "q1n", "bands": [{"option_id": "q1y"}]},
     "/groups/0/questions/0/auto/bands"),
    ({"metric": "handle_seconds",
      "bands": [{"max": None, "option_id": "q1y"}, {"max": 5, "option_id": "q1n"}]},
     "/groups/0/questions/0/auto/bands/0/max"),
    ({"metric": "handle_seconds",
      "bands": [{"max": 50, "option_id": "q1y"}, {"max": 50, "option_id": "q1n"}]},
     "/groups/0/questions/0/auto/bands/1/max"),
    ({"metric": "handle_seconds", "bands": [{"max": 50, "option_id": "nope"}]},
     "/groups/0/questions/0/auto/bands/0/option_id"),
    ({"metric": "handle_seconds", "bands": [{"max": -1, "option_id": "q1y"}]},
     "/groups/0/questions/0/auto/bands/0/max"),
    ({"metric": "handle_seconds", "bands": []}, "/groups/0/questions/0/auto/bands"),
    ({"metric": "fcr", "yes": "q1y", "no": "q1n", "colour": "red"}, "/groups/0/questions/0/auto"),
    ({"metric": "compliance_statement", "phrases": [], "yes": "q1y", "no": "q1n"},
     "/groups/0/questions/0/auto/phrases"),
])
def test_invalid_rules_name_their_json_pointer(auto, pointer):
    assert pointer in paths(doc(auto))


def test_free_text_cannot_be_auto_scored():
    document = {"id": "f", "name": "F", "groups": [group("g1", free_text("q1", auto={
        "metric": "fcr", "yes": "a", "no": "b"}), yes_no("q2"))]}
    assert "/groups/0/questions/0/auto" in paths(document)


def test_a_null_rule_is_no_rule():
    assert parse_form(doc(None)).question("q1").auto is None
    assert validate_form({**doc(None), "groups": [group("g1", yes_no("q1", auto=None))]}) == []


@pytest.mark.parametrize(("handle_ms", "expected"), [
    (0, "q1y"), (300_000, "q1y"), (300_001, "q1n"), (None, None)])
def test_handle_time_bands(handle_ms, expected):
    answers = prefill(parse_form(doc(BANDS)), InteractionData(handle_ms=handle_ms))
    assert (answers["q1"].option_id if "q1" in answers else None) == expected


def test_a_value_above_every_closed_band_is_undecided():
    auto = {"metric": "acw_seconds", "bands": [{"max": 30, "option_id": "q1y"}]}
    assert prefill(parse_form(doc(auto)), InteractionData(acw_ms=31_000)) == {}
    assert prefill(parse_form(doc(auto)), InteractionData(acw_ms=30_000))["q1"].option_id == "q1y"


@pytest.mark.parametrize(("metric", "data", "expected"), [
    ("fcr", InteractionData(fcr=True), "q1y"),
    ("fcr", InteractionData(fcr=False), "q1n"),
    ("fcr", InteractionData(), None),
    ("transferred", InteractionData(transferred=True), "q1y"),
])
def test_flags(metric, data, expected):
    answers = prefill(parse_form(doc({"metric": metric, "yes": "q1y", "no": "q1n"})), data)
    assert (answers["q1"].option_id if "q1" in answers else None) == expected


COMPLIANCE = {"metric": "compliance_statement", "phrases": ["this call may be recorded"],
              "yes": "q1y", "no": "q1n"}


def test_compliance_statement_said_by_the_agent():
    form = parse_form(doc(COMPLIANCE))
    said = [Utterance("agent", "Hi! This call may be recorded for training.")]
    answer = prefill(form, InteractionData(utterances=said))["q1"]
    assert answer.option_id == "q1y" and answer.evidence["present"] and answer.evidence["utterance"] == 0


@pytest.mark.parametrize("utterances", [
    [Utterance("customer", "this call may be recorded")],  # the wrong party
    [Utterance("agent", "this call may be recor-")],  # cut off
    [Utterance("agent", "How can I help?")],
])
def test_compliance_statement_missing(utterances):
    answers = prefill(parse_form(doc(COMPLIANCE)), InteractionData(utterances=utterances))
    assert answers["q1"].option_id == "q1n"


def test_no_transcript_leaves_compliance_undecided():
    assert prefill(parse_form(doc(COMPLIANCE)), InteractionData(utterances=None)) == {}


def test_changing_a_rule_is_a_new_version():
    published = parse_form(doc(BANDS))
    same = next_version(published, doc(BANDS))
    assert same is published
    changed = {**BANDS, "bands": [{"max": 200, "option_id": "q1y"}, {"max": None, "option_id": "q1n"}]}
    assert next_version(published, doc(changed)).version == 2
