"""Escalation triggers with their context rules (negation, reported speech, questions)."""

import pytest

from extension.text.domain.escalation import find_escalations, has_escalation
from extension.text.domain.spans import Utterance


def escalations(text, party="customer"):
    return [(s.detail["trigger"], s.text) for s in find_escalations([Utterance(party=party, text=text)])]


@pytest.mark.parametrize(("text", "trigger"), [
    ("I want to speak to a manager.", "manager"),
    ("Get me your supervisor, now.", "manager"),
    ("Can I have your manager's name please?", "manager"),
    ("Just cancel my subscription.", "cancel"),
    ("If this isn't fixed I'll be closing my account.", "cancel"),
    ("If I don't get a refund I'm speaking to my solicitor.", "legal"),
    ("I'll see you in court.", "legal"),
    ("I'm reporting this to the ombudsman.", "regulator"),
    ("I want to make a formal complaint.", "complaint"),
])
def test_requests_and_threats_are_escalations(text, trigger):
    assert [kind for kind, _ in escalations(text)] == [trigger]


@pytest.mark.parametrize("text", [
    "My manager asked me to call about the invoice.",
    "I spoke to a supervisor yesterday and she said it was sorted.",
    "I don't want to speak to a manager, I just want an answer.",
    "I'm not going to cancel my account, don't worry.",
    "I was going to cancel my account, but the discount helps.",
    "Do I need to cancel my contract first?",
    "My wife's a lawyer and she checked the wording.",
    "The lawyer who handled the estate told me to close her account.",
    "Please cancel my order for the blue one.",
])
def test_near_misses_are_not_escalations(text):
    assert escalations(text) == []


def test_only_the_customer_escalates():
    assert escalations("I can get my manager to call you back.", party="agent") == []


def test_spans_carry_offsets_into_the_utterance():
    text = "Honestly. Put me through to your manager."
    span = find_escalations([Utterance(party="customer", text=text)])[0]
    assert text[span.start:span.end] == span.text and span.kind == "escalation"


@pytest.mark.parametrize("text", [
    "I'm going to leave you a one-star review on Trustpilot.",
    "I'll be posting all of this on Facebook tonight.",
    "I'm reporting you to the Financial Conduct Authority.",
    "I'll contact the energy ombudsman about this.",
    "Because of this I'm taking my business elsewhere.",
    "I'm going to the local newspaper.",
])
def test_public_exposure_regulators_and_leaving_are_escalations(text):
    assert has_escalation([Utterance(party="customer", text=text)])


@pytest.mark.parametrize("text", [
    "I'm cancelling my contract because I'm moving to Spain.",
    "I'll happily leave you a five-star review.",
    "My manager at work asked me to call.",
    "I saw your post on Facebook about the outage.",
    "I'm leaving for work in a minute, can we be quick?",
])
def test_routine_requests_and_praise_are_not(text):
    assert not has_escalation([Utterance(party="customer", text=text)])
