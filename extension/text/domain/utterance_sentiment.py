"""Per-utterance and per-party sentiment, for any ``SentimentModel``, and the coaching flag.

Labels come from the model's own ``classify`` when it has one (the learned model's argmax);
a lexicon model only gives a score, so its label is VADER's usual band (|score| < 0.05 neutral).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from extension.text.domain.sentiment import SentimentModel, party_sentiment
from extension.text.domain.spans import PARTIES, Utterance

NEUTRAL_BAND = 0.05
# The guide's trigger: flag when the customer is very negative and the agent negative too.
CUSTOMER_FLAG_BELOW = -0.6
AGENT_FLAG_BELOW = -0.3


def label_from_score(score: float, *, band: float = NEUTRAL_BAND) -> str:
    if score >= band:
        return "pos"
    return "neg" if score <= -band else "neu"


def classify(model: SentimentModel, texts: list[str]) -> list[str]:
    if hasattr(model, "classify"):
        return list(model.classify(texts))
    return [label_from_score(s) for s in model.score(texts)]


def utterance_sentiment(utterances: Sequence[Utterance], *, model: SentimentModel) -> list[dict[str, Any]]:
    """One entry per agent/customer utterance with text: ``{utterance, party, score, label}``."""
    indexed = [(i, u) for i, u in enumerate(utterances) if u.party in PARTIES and u.text.strip()]
    texts = [u.text for _, u in indexed]
    if not texts:
        return []
    scores = model.score(texts)
    labels = [label_from_score(s) for s in scores]
    if hasattr(model, "classify"):
        labels = classify(model, texts)
    return [{"utterance": i, "party": u.party, "score": round(float(s), 4), "label": label}
            for (i, u), s, label in zip(indexed, scores, labels, strict=True)]


def party_scores(utterances: Sequence[Utterance], *, model: SentimentModel) -> dict[str, float | None]:
    phrases = [{"party": u.party, "text": u.text} for u in utterances]
    return {party: party_sentiment(phrases, party=party, model=model) for party in PARTIES}


def coaching_flag(
    utterances: Sequence[Utterance],
    *,
    model: SentimentModel,
    customer_below: float = CUSTOMER_FLAG_BELOW,
    agent_below: float = AGENT_FLAG_BELOW,
) -> dict[str, Any]:
    """The trigger policy on a whole conversation: ``{flag, customer, agent}``.

    A silent party cannot satisfy its condition, so a one-sided chat never flags.
    """
    scores = party_scores(utterances, model=model)
    customer, agent = scores["customer"], scores["agent"]
    flag = customer is not None and agent is not None and customer < customer_below and agent < agent_below
    return {"flag": flag, "customer": customer, "agent": agent}
