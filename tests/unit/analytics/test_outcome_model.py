"""The outcome model: labels, held-out Brier against the base rate, JSON parameters, email."""

import json
from datetime import UTC, datetime

import pytest

from extension.analytics import demo as analytics_demo
from extension.analytics.domain import outcome_model

FITTED = datetime(2025, 4, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def records():
    end = datetime(2025, 4, 1, tzinfo=UTC)
    return list(analytics_demo.interactions(agents=36, days=40, seed=11, end=end))


@pytest.fixture(scope="module")
def fitted(records):
    return outcome_model.fit(records, fitted_at=FITTED)


def test_satisfied_means_csat_at_or_above_four_and_email_is_not_labelled():
    assert outcome_model.label({"channel": "voice", "csat": 4}, "satisfaction") == 1
    assert outcome_model.label({"channel": "voice", "csat": 3.9}, "satisfaction") == 0
    assert outcome_model.label({"channel": "voice", "csat": None}, "satisfaction") is None
    assert outcome_model.label({"channel": "email", "csat": 5}, "satisfaction") is None
    assert outcome_model.label({"channel": "chat", "fcr": False}, "resolution") == 0


@pytest.mark.parametrize("target", outcome_model.TARGETS)
def test_held_out_brier_beats_the_base_rate_predictor(fitted, target):
    report = fitted[target]
    assert report["n_test"] > 100
    assert report["brier"] < report["brier_base"]
    assert len(report["calibration"]) == 10
    assert sum(row["n"] for row in report["calibration"]) == report["n_test"]


def test_parameters_are_plain_json_and_predict_the_same_after_a_round_trip(fitted, records):
    params = fitted["satisfaction"]["params"]
    again = json.loads(json.dumps(params))
    sample = records[:200]
    assert outcome_model.predict(again, sample) == outcome_model.predict(params, sample)
    assert {"coefficients", "intercept", "means", "scales", "vocabularies", "threshold", "fitted_at", "n",
            "brier", "brier_base"} <= set(params)
    assert params["threshold"] == 4.0 and params["fitted_at"] == FITTED.isoformat()
    assert len(params["coefficients"]) == len(outcome_model.feature_names(params))


def test_email_gets_no_prediction_and_unknown_categories_encode_as_zeros(fitted):
    params = fitted["resolution"]["params"]
    base = {"conversation_id": "x", "customer_sentiment": 0.2, "agent_sentiment": 0.5, "t_talk_ms": 200_000,
            "t_hold_ms": 0, "t_acw_ms": 30_000, "t_handle_ms": 230_000, "transferred": False,
            "inquiry": "tech"}
    cases = [{**base, "channel": "email"}, {**base, "channel": "voice"},
             {**base, "channel": "fax", "inquiry": "never-seen"}]
    email, voice, odd = outcome_model.predict(params, cases)
    assert email is None
    assert 0 < voice < 1 and 0 < odd < 1 and voice != odd


def test_happier_customers_are_predicted_more_satisfied(fitted):
    params = fitted["satisfaction"]["params"]
    base = {"channel": "voice", "inquiry": "billing", "t_handle_ms": 300_000, "agent_sentiment": 0.4}
    low, high = outcome_model.predict(params, [{**base, "customer_sentiment": -0.8},
                                               {**base, "customer_sentiment": 0.8}])
    assert high > low + 0.1


def test_too_few_labelled_interactions_fit_nothing():
    few = [{"conversation_id": str(i), "channel": "voice", "csat": 5, "fcr": True} for i in range(10)]
    assert outcome_model.fit(few, fitted_at=FITTED) == {"satisfaction": None, "resolution": None}
