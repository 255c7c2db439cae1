"""Silence / over-talk ratios and key phrases."""

from extension.text.domain.keyphrases import key_phrases
from extension.text.domain.spans import Utterance, as_utterances
from extension.text.domain.timing import timing_ratios


def test_silence_and_overtalk_are_shares_of_the_conversation_span():
    # agent 0-4000, customer 3000-6000 (1000 ms over-talk), gap 6000-8000, agent 8000-10000
    utterances = as_utterances([
        {"party": "agent", "text": "a", "offset_ms": 0, "duration_ms": 4000},
        {"party": "customer", "text": "b", "offset_ms": 3000, "duration_ms": 3000},
        {"party": "agent", "text": "c", "offset_ms": 8000, "duration_ms": 2000},
    ])
    assert timing_ratios(utterances) == {"silence_ratio": 0.2, "overtalk_ratio": 0.1}


def test_one_partys_own_overlapping_segments_are_not_overtalk():
    utterances = [Utterance("agent", "a", 0, 3000), Utterance("agent", "b", 1000, 3000)]
    assert timing_ratios(utterances) == {"silence_ratio": 0.0, "overtalk_ratio": 0.0}


def test_no_ratios_without_full_timing():
    assert timing_ratios([Utterance("agent", "a", 0, 1000), Utterance("customer", "b")]) == {
        "silence_ratio": None, "overtalk_ratio": None}
    assert timing_ratios([]) == {"silence_ratio": None, "overtalk_ratio": None}


def test_key_phrases_are_located_in_the_utterances():
    utterances = [Utterance("customer", "The broadband keeps dropping and the status page says no issues."),
                  Utterance("agent", "I can see a broadband fault, and the status page is wrong.")]
    phrases = key_phrases(utterances)
    assert phrases and all(p["spans"] for p in phrases)
    assert any("status page" in p["phrase"].lower() for p in phrases)
    for phrase in phrases:
        for span in phrase["spans"]:
            assert utterances[span.utterance].text[span.start:span.end].lower() == span.text.lower()


def test_redaction_placeholders_are_never_key_phrases():
    phrases = key_phrases([Utterance("customer", "My card [CARD] was charged twice for the [CARD] order.")])
    assert all("CARD" not in p["phrase"] for p in phrases)
