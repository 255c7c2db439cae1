"""One call that runs every detector over a transcript, in the order storage needs.

PII is redacted first and every later detector reads the redacted text, so all offsets in the
result index exactly what gets stored, and no detector's output can leak a card number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from extension.text.domain import phrase_lists
from extension.text.domain.escalation import EscalationRules, find_escalations
from extension.text.domain.keyphrases import key_phrases
from extension.text.domain.phrases import PhraseRule, prohibited_phrases, required_statements
from extension.text.domain.pii import redact
from extension.text.domain.sentiment import SentimentModel
from extension.text.domain.spans import Span, Utterance, as_utterances
from extension.text.domain.timing import timing_ratios
from extension.text.domain.utterance_sentiment import (
    AGENT_FLAG_BELOW,
    CUSTOMER_FLAG_BELOW,
    coaching_flag,
    utterance_sentiment,
)


@dataclass(frozen=True)
class TextConfig:
    """Per-tenant settings; defaults are the product's out-of-the-box lists and the guide's thresholds."""

    required: tuple[PhraseRule, ...] = phrase_lists.REQUIRED
    prohibited: tuple[PhraseRule, ...] = phrase_lists.PROHIBITED
    escalation: EscalationRules = field(default_factory=EscalationRules)
    customer_flag_below: float = CUSTOMER_FLAG_BELOW
    agent_flag_below: float = AGENT_FLAG_BELOW
    key_phrase_count: int = 8


def redact_utterances(utterances: Iterable[Utterance]) -> tuple[list[Utterance], list[Span]]:
    clean, spans = [], []
    for index, utterance in enumerate(utterances):
        result = redact(utterance.text, utterance=index)
        clean.append(replace(utterance, text=result.text))
        spans.extend(result.spans)
    return clean, spans


def analyze_transcript(
    raw: Iterable[Mapping[str, Any] | Utterance],
    *,
    model: SentimentModel,
    config: TextConfig | None = None,
) -> dict[str, Any]:
    """All text analytics for one interaction, JSON-ready (spans as dicts)."""
    config = config or TextConfig()
    utterances, pii = redact_utterances(as_utterances(raw))
    compliance = required_statements(utterances, config.required)
    flag = coaching_flag(utterances, model=model, customer_below=config.customer_flag_below,
                         agent_below=config.agent_flag_below)
    escalations = find_escalations(utterances, config.escalation)
    return {
        "utterances": [{"party": u.party, "text": u.text, "offset_ms": u.offset_ms,
                        "duration_ms": u.duration_ms} for u in utterances],
        "pii": _dicts(pii),
        "sentiment": {"utterances": utterance_sentiment(utterances, model=model),
                      "customer": flag["customer"], "agent": flag["agent"]},
        "coaching_flag": flag["flag"],
        "key_phrases": [{**k, "spans": _dicts(k["spans"])}
                        for k in key_phrases(utterances, top=config.key_phrase_count)],
        "compliance": {name: {"present": c["present"], "spans": _dicts(c["spans"])}
                       for name, c in compliance.items()},
        "prohibited": _dicts(prohibited_phrases(utterances, config.prohibited)),
        "escalation": {"present": bool(escalations), "spans": _dicts(escalations)},
        "timing": timing_ratios(utterances),
    }


def _dicts(spans: Iterable[Span]) -> list[dict[str, Any]]:
    return [s.as_dict() for s in spans]
