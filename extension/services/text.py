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


@lru_cache(maxsize=1)
def _model():
    from extension.domain.sentiment import get_default_model

    return get_default_model()


def party_scores(phrases: list[dict]) -> dict[str, float | None]:
    from extension.domain.sentiment import party_sentiment

    model = _model()
    return {party: party_sentiment(phrases, party=party, model=model)
            for party in ("agent", "customer")}
