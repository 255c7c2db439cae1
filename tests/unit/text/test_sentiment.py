"""Per-party sentiment from transcript phrases."""

import pytest

from extension.text.domain.sentiment import SentimentModel, VaderModel, get_default_model, party_sentiment


class FixedModel:
    """Scores each text by a lookup, so weighting can be checked by hand."""

    def __init__(self, scores):
        self.scores = scores
        self.calls = []

    def score(self, texts):
        self.calls.append(list(texts))
        return [self.scores[t] for t in texts]


PHRASES = [
    {"party": "customer", "text": "no"},  # 2 chars, -1.0
    {"party": "agent", "text": "happy to help"},
    {"party": "customer", "text": "that works great"},  # 16 chars, +0.5
    {"party": "customer", "text": "   "},  # blank utterances carry no signal
]


def test_aggregate_is_length_weighted_mean_of_the_partys_utterances():
    model = FixedModel({"no": -1.0, "that works great": 0.5, "happy to help": 0.9})
    value = party_sentiment(PHRASES, party="customer", model=model)
    assert value == pytest.approx((2 * -1.0 + 16 * 0.5) / 18)
    assert model.calls == [["no", "that works great"]]  # one batch, only that party


def test_none_when_the_party_never_spoke():
    model = FixedModel({})
    assert party_sentiment(PHRASES[1:2], party="customer", model=model) is None
    assert party_sentiment([], party="agent", model=model) is None
    assert model.calls == []


def test_vader_scores_obvious_polarity_within_bounds():
    scores = VaderModel().score(["This is wonderful, thank you!", "This is awful and useless."])
    assert scores[0] > 0.5 and scores[1] < -0.5
    assert all(-1 <= s <= 1 for s in scores)


def test_default_model_is_shared_and_learned_when_the_ml_extra_is_installed():
    from extension.text.domain.ml_extra import learned_model_available

    model = get_default_model()
    assert isinstance(model, SentimentModel) and get_default_model() is model
    expected = "EmbeddingSentimentModel" if learned_model_available() else "VaderModel"
    assert type(model).__name__ == expected


def test_angry_customer_scores_negative_with_the_default_model():
    phrases = [
        {"party": "customer", "text": "This is terrible, I am furious and I hate this service."},
        {"party": "agent", "text": "I'm glad to help, thanks for your patience!"},
    ]
    model = get_default_model()
    assert party_sentiment(phrases, party="customer", model=model) < -0.6
    assert party_sentiment(phrases, party="agent", model=model) > 0.3
