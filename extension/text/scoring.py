"""Transcript handling for the coaching pipeline: redact before storage, score each party.

Redaction is the one PII redactor, ``extension.text.domain.pii.redact``: every path that stores a
transcript (live events and the listener through the inbox, STA fetches, the sync's fetches, API
input) goes through ``store_phrases`` or ``handlers.normalize`` and both call it. There used to be
a second, cruder redactor here (any run of 9+ digits was a phone number): it blanked the tracking
and order numbers the main one keeps, and on STA transcripts, which met only this one, it let
spelled-out emails and spoken phone numbers through.
"""

from __future__ import annotations

from functools import lru_cache

from extension.text.domain.pii import redact


def store_phrases(existing: list | None, incoming: list[dict]) -> list[dict]:
    """Merge transcript chunks (they may arrive in several events) without duplicates, each
    phrase redacted by the one PII redactor before it is kept."""
    merged = {(p["party"], p.get("offset_ms"), p["text"]): p for p in (existing or [])}
    for phrase in incoming:
        party = phrase.get("party")
        if party not in ("agent", "customer") or not phrase.get("text"):
            continue
        clean = {"party": party, "offset_ms": phrase.get("offset_ms"),
                 "text": redact(phrase["text"]).text}
        merged.setdefault((party, clean["offset_ms"], clean["text"]), clean)
    return sorted(merged.values(), key=lambda p: (p["offset_ms"] is None, p["offset_ms"] or 0))


@lru_cache(maxsize=2)
def _build(choice: str):
    from extension.text.domain.sentiment import VaderModel, get_default_model

    return VaderModel() if choice == "vader" else get_default_model()


def _model():
    """COACHWIRE_SENTIMENT: auto (the learned model when the ML extra is installed, else VADER)
    or vader (a lexicon: ~100x cheaper per utterance, less accurate; see bench/worker.py)."""

    from extension.platform import context

    return _build(context.settings().sentiment_model)


PARTIES = ("agent", "customer")


def party_scores(phrases: list[dict]) -> dict[str, float | None]:
    return party_scores_many([phrases])[0]


def party_scores_many(transcripts: list[list[dict]]) -> list[dict[str, float | None]]:
    """Per-party sentiment of many transcripts with ONE model call (the same length-weighted
    mean as domain.sentiment.party_sentiment, which scores one transcript at a time)."""
    texts, owners = [], []
    for index, phrases in enumerate(transcripts):
        for phrase in phrases:
            text = (phrase.get("text") or "").strip()
            if text and phrase.get("party") in PARTIES:
                texts.append(text)
                owners.append((index, phrase["party"]))
    scores = _model().score(texts) if texts else []
    sums: dict[tuple[int, str], list[float]] = {}
    for (index, party), text, score in zip(owners, texts, scores, strict=True):
        acc = sums.setdefault((index, party), [0.0, 0.0])
        acc[0] += score * len(text)
        acc[1] += len(text)
    return [{party: _clip(sums[(i, party)]) if (i, party) in sums else None for party in PARTIES}
            for i in range(len(transcripts))]


def _clip(acc: list[float]) -> float:
    return max(-1.0, min(1.0, acc[0] / acc[1]))
