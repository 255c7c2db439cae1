"""Acceptance report on the HELD-OUT set (tests/data/text/heldout_*): per-detector figures vs
baselines, with floors that fail the build if a change lowers them.

The held-out files were written before the detectors were tuned and are never used for training
(scripts/train_sentiment.py reads only train_utterances.tsv). Figures print in the terminal summary.
"""

from __future__ import annotations

import pytest

from extension.text.domain.escalation import has_escalation
from extension.text.domain.phrase_lists import CLOSING_OFFER, IDENTITY_VERIFICATION, RECORDING_DISCLOSURE
from extension.text.domain.phrases import keyword_present, match_rule
from extension.text.domain.pii import find_pii
from extension.text.domain.spans import Utterance
from extension.text.domain.utterance_sentiment import classify, coaching_flag
from tests.unit.text.datasets import labelled_utterances, pii_snippets, transcripts
from tests.unit.text.metrics import REPORT, accuracy, f1_binary, macro_f1

UTTERANCES = labelled_utterances()
TRANSCRIPTS = transcripts()
STATEMENTS = {"recording": RECORDING_DISCLOSURE, "identity": IDENTITY_VERIFICATION}
# The naive baseline: a statement "counts" if one of its keywords appears in anything the agent says.
KEYWORDS = {"recording": ("recorded", "recording", "monitored"),
            "identity": ("date of birth", "verify", "security", "postcode", "confirm your")}


def test_the_held_out_set_has_the_promised_size():
    assert len(UTTERANCES) >= 150 and len(TRANSCRIPTS) >= 40
    assert {label for label, _, _ in UTTERANCES} == {"neg", "neu", "pos"}


def test_sentiment_macro_f1_beats_the_floor_and_vader(learned_model, vader_model):
    truth = [label for label, _, _ in UTTERANCES]
    texts = [text for _, _, text in UTTERANCES]
    learned = macro_f1(truth, classify(learned_model, texts))
    vader = macro_f1(truth, classify(vader_model, texts))
    REPORT.append(f"sentiment macro-F1 ({len(texts)} utterances): learned {learned:.3f} | VADER {vader:.3f}")
    assert learned >= 0.75


def test_coaching_flag_accuracy_beats_the_floor(learned_model, vader_model):
    truth = [t.labels["flag"] for t in TRANSCRIPTS]
    learned = [coaching_flag(t.utterances, model=learned_model)["flag"] for t in TRANSCRIPTS]
    vader = [coaching_flag(t.utterances, model=vader_model)["flag"] for t in TRANSCRIPTS]
    REPORT.append(f"coaching flag accuracy ({len(truth)} transcripts, guide thresholds -0.6/-0.3): "
                  f"learned {accuracy(truth, learned):.3f} (F1 {f1_binary(truth, learned):.3f}) | "
                  f"VADER {accuracy(truth, vader):.3f} (F1 {f1_binary(truth, vader):.3f})")
    assert accuracy(truth, learned) >= 0.9


def test_required_statements_f1_beats_the_floor_and_keywords():
    truth, fuzzy, keywords = [], [], []
    for transcript in TRANSCRIPTS:
        for key, rule in STATEMENTS.items():
            truth.append(transcript.labels[key])
            fuzzy.append(bool(match_rule(transcript.utterances, rule)))
            keywords.append(keyword_present(transcript.utterances, keywords=KEYWORDS[key]))
    REPORT.append(f"compliance statements F1 ({len(truth)} transcript x statement pairs): "
                  f"fuzzy {f1_binary(truth, fuzzy):.3f} | keywords {f1_binary(truth, keywords):.3f}")
    assert f1_binary(truth, fuzzy) >= 0.97


@pytest.mark.parametrize(("name", "floor"), [
    # written before the matcher's redesign; its two misses later added identity wordings, so
    # it is no longer unbiased (0.900 before those wordings, 1.000 after)
    ("heldout_compliance_fresh.txt", 0.95),
    # written after those wordings and measured once, untuned: the unbiased figure (0.957,
    # one false positive: "your date of birth is already on the booking")
    ("heldout_compliance_fresh2.txt", 0.95),
])
def test_required_statements_on_the_fresh_sets(name, floor):
    truth, fuzzy, keywords = [], [], []
    for transcript in transcripts(name):
        for key, rule in STATEMENTS.items():
            truth.append(transcript.labels[key])
            fuzzy.append(bool(match_rule(transcript.utterances, rule)))
            keywords.append(keyword_present(transcript.utterances, keywords=KEYWORDS[key]))
    REPORT.append(f"compliance statements F1, {name} ({len(truth)} pairs): "
                  f"fuzzy {f1_binary(truth, fuzzy):.3f} | keywords {f1_binary(truth, keywords):.3f}")
    assert f1_binary(truth, fuzzy) >= floor


# Written for issue 13's categories (chat/email/social disclosures, terse and one-time-code
# identity checks, the closing offer); wordings were tuned on statements_tune.txt only. The
# held-out part measured 0.364 overall before tuning (recording 0.500, identity 0.545, closing
# 0.000: there was no closing rule) and 1.000 after (bench/RESULTS.md); the floor is the target.
ALL_STATEMENTS = {**STATEMENTS, "closing": CLOSING_OFFER}


@pytest.mark.parametrize("name", ["statements_heldout.txt", "statements_tune.txt"])
def test_required_statements_in_every_channel_meet_the_target(name):
    sets = transcripts(name)
    assert len(sets) >= 24 and {t.channel for t in sets} >= {"voice", "chat", "email", "social"}
    pooled_truth, pooled = [], []
    for key, rule in ALL_STATEMENTS.items():
        truth = [t.labels[key] for t in sets]
        found = [bool(match_rule(t.utterances, rule)) for t in sets]
        assert any(truth) and not all(truth), f"{name}: {key} needs positives and negatives"
        REPORT.append(f"required statement {key}, {name} ({len(truth)} transcripts): "
                      f"F1 {f1_binary(truth, found):.3f}")
        pooled_truth += truth
        pooled += found
    pooled_f1 = f1_binary(pooled_truth, pooled)
    REPORT.append(f"required statements F1, {name} ({len(pooled)} pairs): {pooled_f1:.3f}")
    assert pooled_f1 >= 0.97


def test_escalation_f1_beats_the_floor():
    truth = [t.labels["escalation"] for t in TRANSCRIPTS]
    found = [has_escalation(t.utterances) for t in TRANSCRIPTS]
    naive = [any(k in u.text.lower() for u in t.utterances if u.party == "customer"
                 for k in ("manager", "supervisor", "cancel", "lawyer", "solicitor", "court"))
             for t in TRANSCRIPTS]
    REPORT.append(f"escalation F1 ({len(truth)} transcripts): rules {f1_binary(truth, found):.3f} | "
                  f"keywords {f1_binary(truth, naive):.3f}")
    assert f1_binary(truth, found) >= 0.85


# issue 13's escalation categories (public exposure, regulators and ombudsmen named with a
# qualifier, rephrased "I'm leaving because of this"; neutral-reason cancellations and the
# customer's own manager are not escalations). Triggers tuned on escalation_tune.tsv only; the
# held-out part measured 0.222 before and 1.000 after (bench/RESULTS.md). The floor is the target.
@pytest.mark.parametrize("name", ["escalation_heldout.tsv", "escalation_tune.tsv"])
def test_escalation_on_the_issue_13_categories_meets_the_target(name):
    rows = labelled_utterances(name)
    truth = [label == "yes" for label, _, _ in rows]
    found = [has_escalation([Utterance(party=party, text=text)]) for _, party, text in rows]
    assert len(rows) >= 38 and 0 < sum(truth) < len(truth)
    REPORT.append(f"escalation F1, {name} ({len(rows)} utterances): {f1_binary(truth, found):.3f}")
    assert f1_binary(truth, found) >= 0.90


@pytest.mark.parametrize(("name", "floor_recall", "floor_precision"), [
    ("heldout_pii.txt", 0.99, 0.95),
    # issue 13: written before the IBAN / date-of-birth / address / spoken-digit detectors and
    # measured once before them (recall 0.217, precision 0.688) and once after (recall 1.000,
    # precision 0.979: 47 spans, one false positive); never tuned on. The floors are the figures
    # recorded after, so a change that lowers either fails here.
    ("heldout_pii_fresh.txt", 0.999, 0.978),
    # issue 13: the part the detectors were tuned on (not a measure of generalisation)
    ("tune_pii.txt", 0.99, 0.95),
])
def test_pii_recall_and_precision_beat_the_floors(name, floor_recall, floor_precision):
    expected = found_total = covered = correct = 0
    for snippet in pii_snippets(name):
        spans = find_pii(snippet.text)
        expected += len(snippet.expected)
        found_total += len(spans)
        covered += sum(any(s.start <= start and end <= s.end for s in spans)
                       for _, start, end in snippet.expected)
        correct += sum(any(s.start < end and start < s.end for _, start, end in snippet.expected)
                       for s in spans)
    recall = covered / expected
    precision = correct / found_total if found_total else 1.0
    REPORT.append(f"PII redaction, {name} ({expected} entities): "
                  f"recall {recall:.3f} | precision {precision:.3f}")
    assert recall >= floor_recall
    assert precision >= floor_precision


@pytest.mark.parametrize("key", ["flag", "recording", "identity", "escalation"])
def test_every_transcript_is_labelled(key):
    assert all(key in t.labels for t in TRANSCRIPTS)
