"""Transcript handling for the coaching pipeline: redact before storage, score each party.

The redaction here is the first line (cards that pass Luhn, emails, phone numbers, long digit
runs); the quality issue replaces it with the full text-analytics detector set.
"""

from __future__ import annotations

import re
from functools import lru_cache

CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
PHONE = re.compile(r"(?<!\w)\+?\d[\d ().-]{7,}\d(?!\w)")


def _luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for index, char in enumerate(digits):
        value = int(char)
        if index % 2 == parity:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def redact(text: str) -> str:
    def card(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group())
        return "[CARD]" if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group()

    text = CARD.sub(card, text)
    text = EMAIL.sub("[EMAIL]", text)
    return PHONE.sub("[PHONE]", text)


def store_phrases(existing: list | None, incoming: list[dict]) -> list[dict]:
    """Merge transcript chunks (they may arrive in several events) without duplicates."""
    merged = {(p["party"], p.get("offset_ms"), p["text"]): p for p in (existing or [])}
    for phrase in incoming:
        party = phrase.get("party")
        if party not in ("agent", "customer") or not phrase.get("text"):
            continue
        clean = {"party": party, "offset_ms": phrase.get("offset_ms"),
                 "text": redact(phrase["text"])}
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
