"""Compliance statements and prohibited phrases: fuzzy, order-aware, and cut-offs never count."""

import pytest

from extension.text.domain.phrase_lists import (
    CLOSING_OFFER,
    IDENTITY_VERIFICATION,
    PROHIBITED,
    RECORDING_DISCLOSURE,
)
from extension.text.domain.phrases import PhraseRule, match_rule, prohibited_phrases, required_statements
from extension.text.domain.spans import Utterance


def said(text, party="agent"):
    return [Utterance(party=party, text=text)]


@pytest.mark.parametrize("text", [
    "Thanks for calling, this call may be recorded for quality and training purposes.",
    "Just so you know, calls are recorded.",
    "Hi, this call is being recoded for quality.",  # ASR slip: recoded
    "We record all our calls for training.",  # an inserted word
])
def test_recording_disclosure_variants_count(text):
    assert match_rule(said(text), RECORDING_DISCLOSURE)


@pytest.mark.parametrize("text", [
    "Thanks for calling, this call may be-",
    "Calls are recorded for qual...",  # trails off: interrupted, even though the core was said
    "This call may be recorded for quality and-",
    "I can see you've recorded a meter reading.",
    "Good morning, how can I help?",
])
def test_cut_off_or_unrelated_sentences_do_not_count(text):
    assert not match_rule(said(text), RECORDING_DISCLOSURE)


def test_a_statement_completed_after_a_cut_off_sentence_counts():
    assert match_rule(said("This call may be- sorry. This call may be recorded."), RECORDING_DISCLOSURE)


def test_the_statement_must_come_from_the_rules_party():
    assert not match_rule(said("this call is being recorded, right?", party="customer"), RECORDING_DISCLOSURE)


def test_identity_verification_allows_inserted_words_but_not_other_requests():
    assert match_rule(said("Can you confirm your full name and date of birth?"), IDENTITY_VERIFICATION)
    assert match_rule(said("Can I verify your identity first?"), IDENTITY_VERIFICATION)
    assert not match_rule(said("Could you confirm the delivery address?"), IDENTITY_VERIFICATION)


def test_span_offsets_point_at_the_statement():
    text = "Hello. Calls are recorded for training."
    span = match_rule(said(text), RECORDING_DISCLOSURE)[0]
    assert text[span.start:span.end] == span.text == "Calls are recorded"
    assert span.detail["rule"] == "recording_disclosure" and span.detail["coverage"] == 1.0


def test_custom_rules_and_the_report_shape():
    rule = PhraseRule(name="greeting", wordings=("thank you for calling acme",))
    result = required_statements(said("Thank you for calling Acme, Jo speaking."), [rule])
    assert result["greeting"]["present"] is True
    assert required_statements(said("Hello?"), [rule])["greeting"] == {"present": False, "spans": []}


def test_prohibited_phrases_are_found_and_near_misses_are_not():
    hits = prohibited_phrases(said("Calm down. That's not my problem."), PROHIBITED)
    assert {h.text for h in hits} >= {"Calm down"}
    assert not prohibited_phrases(said("I'll make sure it's not a problem for you."), PROHIBITED)


@pytest.mark.parametrize("text", [
    "This chat is recorded for quality purposes.",
    "Messages in this thread are stored to help us improve.",
    "Please note all correspondence with our team is retained.",
    "Our conversation may be transcribed and monitored.",
])
def test_a_chat_email_or_message_disclosure_counts(text):
    assert match_rule(said(text), RECORDING_DISCLOSURE)


@pytest.mark.parametrize("text", [
    "This call is not recorded.",
    "I've saved your new address.",
    "Your chat history is something we can't keep.",
])
def test_a_negated_or_unrelated_storage_sentence_is_no_disclosure(text):
    assert not match_rule(said(text), RECORDING_DISCLOSURE)


@pytest.mark.parametrize("text", [
    "Passcode please?",
    "Can you read me the one-time code we texted you?",
    "Am I speaking with the account holder?",
    "For security, the last three digits of your card's security code?",
])
def test_terse_and_code_identity_checks_count(text):
    assert match_rule(said(text), IDENTITY_VERIFICATION)


@pytest.mark.parametrize(("text", "counts"), [
    ("Is there anything else I can help you with today?", True),
    ("Anything else?", True),
    ("Is that everything for today?", True),
    ("Bye now!", False),
    ("Is there anything el-", False),
    ("I'm afraid I can't do anything else for you.", False),
])
def test_the_closing_offer(text, counts):
    assert bool(match_rule(said(text), CLOSING_OFFER)) is counts


def test_alternatives_fill_one_place_and_must_be_close_together():
    rule = PhraseRule(name="x", wordings=("(security|access) (code|pin)",))
    assert match_rule(said("Tell me your access pin."), rule)
    assert not match_rule(said("For security reasons please wait while I look up the postcode."), rule)
