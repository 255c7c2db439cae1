"""Hold count: the sync counts the handling agent's hold segments, and the ``hold_count``
auto-score rule decides only when that count is known (live events never carry one)."""

from __future__ import annotations

import pytest

from extension.analytics.sync import map_conversation
from extension.quality.domain.autoscore import InteractionData, prefill, undecided
from extension.quality.domain.forms import parse_form, validate_form
from tests.unit.quality.builders import group, yes_no


def seg(kind: str, start: str, end: str, **extra) -> dict:
    return {"segmentType": kind, "segmentStart": f"2025-06-10T{start}Z", "segmentEnd": f"2025-06-10T{end}Z",
            **extra}


def agent(user: str, *sessions: list[dict], held: int = 0) -> dict:
    return {"purpose": "agent", "userId": user, "sessions": [
        {"mediaType": "voice", "direction": "inbound", "segments": segments,
         "metrics": [{"name": "tTalk", "value": 60000}, {"name": "tHeld", "value": held}]}
        for segments in sessions]}


def conversation(*participants: dict) -> dict:
    return {"conversationId": "c1", "conversationStart": "2025-06-10T09:00:00.000Z",
            "conversationEnd": "2025-06-10T10:00:00.000Z", "participants": list(participants)}


FIRST_AGENT = agent("u1", [seg("interact", "09:00:00", "09:01:00", queueId="q1"),
                           seg("hold", "09:01:00", "09:02:00", queueId="q1"),
                           seg("hold", "09:02:00", "09:02:30", queueId="q1"),
                           seg("hold", "09:02:30", "09:03:00", queueId="q1"),
                           seg("interact", "09:03:00", "09:04:00", queueId="q1")], held=120000)
HANDLER = agent("u2", [seg("interact", "09:05:00", "09:06:00", queueId="q1"),
                       seg("hold", "09:06:00", "09:07:00", queueId="q1"),
                       seg("interact", "09:07:00", "09:08:00", queueId="q1"),
                       seg("hold", "09:08:00", "09:08:30", queueId="q1"),
                       seg("interact", "09:08:30", "09:09:00", queueId="q1"),
                       seg("wrapup", "09:09:00", "09:10:00", wrapUpCode="wc")], held=90000)


def test_the_handling_agents_hold_segments_are_counted_not_another_agents():
    record = map_conversation(conversation(FIRST_AGENT, HANDLER))
    assert (record["agent_id"], record["n_hold"], record["t_hold_ms"]) == ("u2", 2, 90000)
    assert map_conversation(conversation(FIRST_AGENT))["n_hold"] == 3


def test_holds_in_each_of_the_agents_sessions_count_like_their_held_time():
    two_sessions = agent("u3", [seg("interact", "09:00:00", "09:01:00"), seg("hold", "09:01:00", "09:02:00")],
                         [seg("interact", "09:03:00", "09:04:00"), seg("hold", "09:04:00", "09:05:00"),
                          seg("interact", "09:05:00", "09:06:00")], held=60000)
    record = map_conversation(conversation(two_sessions))
    assert (record["n_hold"], record["t_hold_ms"]) == (2, 120000)


def test_a_conversation_never_on_hold_has_a_known_count_of_zero():
    never = agent("u4", [seg("interact", "09:00:00", "09:04:00"), seg("wrapup", "09:04:00", "09:05:00")])
    assert map_conversation(conversation(never))["n_hold"] == 0


HOLDS = {"metric": "hold_count", "bands": [{"max": 1, "option_id": "q1y"}, {"max": None, "option_id": "q1n"}]}


def doc(auto: dict) -> dict:
    return {"id": "f", "name": "F", "groups": [group("g1", yes_no("q1", auto=auto), yes_no("q2"))]}


def test_a_hold_count_rule_is_a_valid_band_rule():
    assert validate_form(doc(HOLDS)) == []
    assert [i.path for i in validate_form(doc({"metric": "hold_count", "yes": "q1y", "no": "q1n"}))]


@pytest.mark.parametrize(("count", "expected"), [(0, "q1y"), (1, "q1y"), (2, "q1n"), (7, "q1n")])
def test_a_known_hold_count_decides_by_band(count, expected):
    answer = prefill(parse_form(doc(HOLDS)), InteractionData(hold_count=count, hold_ms=5000))["q1"]
    assert answer.option_id == expected
    assert answer.evidence == {"metric": "hold_count", "value": count, "band_max": 1 if count <= 1 else None}


def test_an_unknown_hold_count_is_left_to_the_evaluator_with_a_reason_never_guessed():
    form = parse_form(doc(HOLDS))
    live_only = InteractionData(hold_ms=45000, handle_ms=300000)  # held time known, count not
    assert prefill(form, live_only) == {}
    assert undecided(form, live_only) == {"q1": "hold count unknown"}
    assert undecided(form, InteractionData(hold_count=0)) == {}


def test_a_count_above_every_band_is_undecided_with_that_reason():
    closed = {"metric": "hold_count", "bands": [{"max": 2, "option_id": "q1y"}]}
    form = parse_form(doc(closed))
    assert prefill(form, InteractionData(hold_count=3)) == {}
    assert undecided(form, InteractionData(hold_count=3)) == {"q1": "hold_count above every band"}
