"""Recognition evidence: praise aimed at the agent, not joy about something else, not politeness."""

from __future__ import annotations

import pytest

from extension.coaching.domain import policies
from extension.text.domain.recognition import praise_for_agent
from extension.text.domain.sentiment import VaderModel
from extension.text.domain.spans import Utterance
from extension.text.domain.utterance_sentiment import party_scores
from tests.unit.text.datasets import transcripts
from tests.unit.text.metrics import REPORT, f1_binary


def said(text: str, party: str = "customer") -> list[Utterance]:
    return [Utterance(party=party, text=text)]


@pytest.mark.parametrize("text", [
    "You've been so helpful, thank you.",
    "Thank you so much for sorting that out.",
    "You're an absolute star.",
    "Best customer service I've ever had.",
    "Please pass my thanks to your manager.",
])
def test_praise_for_the_agent_counts(text):
    assert praise_for_agent(said(text))


@pytest.mark.parametrize("text", [
    "Thanks for your help.",  # politeness
    "Thanks for nothing.",  # sarcasm
    "You haven't been helpful at all.",
    "I love the new app, it's brilliant.",  # not the agent's doing
    "The engineer was fantastic.",
])
def test_politeness_sarcasm_and_other_joy_do_not(text):
    assert not praise_for_agent(said(text))


def test_the_agent_praising_the_customer_is_not_evidence():
    assert not praise_for_agent(said("You've been so patient, thank you so much.", party="agent"))


def test_the_default_policy_recognises_praise_and_keeps_the_threshold_without_a_transcript():
    rule = {o.rule_id for o in policies.evaluate(policies.DEFAULT_POLICY, {
        "customer_sentiment": 0.2, "transcript": "you're a star", "agent_praised": True})}
    assert "delighted-customer" in rule
    joy = {o.rule_id for o in policies.evaluate(policies.DEFAULT_POLICY, {
        "customer_sentiment": 0.95, "transcript": "I love the new app", "agent_praised": False})}
    assert "delighted-customer" not in joy
    host_only = {o.rule_id for o in policies.evaluate(policies.DEFAULT_POLICY, {"customer_sentiment": 0.9})}
    assert "delighted-customer" in host_only


# Issue 13's recognition ("delighted because of the agent"): the held-out part measured 0.750
# with the guide's rule (customer > 0.8, learned model) before, 1.000 with the praise detector
# after (bench/RESULTS.md); tuned only on recognition_tune.txt. The floor is the 0.75 target.
@pytest.mark.parametrize("name", ["recognition_heldout.txt", "recognition_tune.txt"])
def test_recognition_on_whole_conversations_meets_the_target(name):
    model = VaderModel()
    truth, found = [], []
    for transcript in transcripts(name):
        scores = party_scores(transcript.utterances, model=model)
        facts = {"customer_sentiment": scores["customer"],
                 "transcript": " ".join(u.text for u in transcript.utterances),
                 "agent_praised": bool(praise_for_agent(transcript.utterances))}
        known = {k: v for k, v in facts.items() if v is not None}
        outcomes = policies.evaluate(policies.DEFAULT_POLICY, known)
        truth.append(transcript.labels["recognize"])
        found.append(any(o.action == "recognize" for o in outcomes))
    assert len(truth) >= 18 and 0 < sum(truth) < len(truth)
    REPORT.append(f"recognition F1, {name} ({len(truth)} conversations): {f1_binary(truth, found):.3f}")
    assert f1_binary(truth, found) >= 0.75
