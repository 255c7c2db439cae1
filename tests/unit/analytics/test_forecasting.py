"""Weekly forecasts: intervals, backtest against the naive baseline, and the decline list."""

import random
from datetime import date, timedelta
from statistics import mean

import pytest

from extension.analytics.domain.forecasting import (
    Forecast,
    ForecastPoint,
    backtest,
    forecast,
    likely_to_decline,
)

MONDAY = date(2024, 1, 1)


def weekly(values):
    return [(MONDAY + timedelta(weeks=i), v) for i, v in enumerate(values)]


def trend_with_noise(seed, *, weeks=52, slope=3.0, noise=10.0):
    rng = random.Random(seed)
    return weekly([400 + slope * i + rng.gauss(0, noise) for i in range(weeks)])


@pytest.mark.parametrize("seed", range(10))
def test_backtest_beats_the_naive_last_value_on_a_trend(seed):
    result = backtest(trend_with_noise(seed), horizon=4, min_train=8)
    assert result["forecasts"] == sum(min(4, 52 - t) for t in range(8, 52))
    assert result["model_mape"] < result["naive_mape"]
    assert result["beats_naive"]


@pytest.mark.parametrize("level", [0.8, 0.95])
def test_intervals_cover_the_truth_at_roughly_the_nominal_rate(level):
    coverage = [backtest(trend_with_noise(seed), level=level)["coverage"] for seed in range(20)]
    assert level - 0.06 <= mean(coverage) <= level + 0.04


def test_forecast_continues_a_clean_line_with_tight_intervals():
    result = forecast(weekly([100.0 + 2 * i for i in range(20)]), horizon_weeks=4)
    assert [p.week for p in result.points] == [MONDAY + timedelta(weeks=20 + h) for h in range(4)]
    assert [p.value for p in result.points] == pytest.approx([140, 142, 144, 146], abs=0.5)
    assert all(p.hi - p.lo < 1 for p in result.points)


def test_intervals_widen_with_the_horizon():
    result = forecast(trend_with_noise(1), horizon_weeks=4)
    widths = [p.hi - p.lo for p in result.points]
    assert widths == sorted(widths) and widths[0] < widths[-1]
    assert result.method == "damped-trend"


def test_short_series_fall_back_to_the_last_value():
    three = forecast(weekly([10.0, 12.0, 11.0]), horizon_weeks=2)
    assert three.method == "naive" and [p.value for p in three.points] == [11.0, 11.0]
    assert three.points[1].hi - three.points[1].lo > three.points[0].hi - three.points[0].lo
    one = forecast(weekly([10.0]))
    assert one.points[0].lo is None
    with pytest.raises(ValueError):
        forecast([])


def test_missing_weeks_are_dropped_and_order_does_not_matter():
    series = trend_with_noise(2)
    shuffled = [*reversed(series), (MONDAY + timedelta(weeks=60), None)]
    assert forecast(shuffled) == forecast(series)


def _fc(last, end, lo, hi):
    week = MONDAY + timedelta(weeks=4)
    return Forecast([ForecastPoint(week, end, lo, hi)], MONDAY, last, "damped-trend", None, 1.0, 0.8)


def test_likely_to_decline_lists_worsening_beyond_the_threshold_with_a_reason():
    forecasts = {
        "a1": _fc(400, 480, 450, 510),  # AHT up 80: clear decline
        "a2": _fc(400, 430, 390, 470),  # up 30, within noise
        "a3": _fc(400, 405, 380, 430),  # below threshold
        "a4": _fc(400, 300, 280, 320),  # improving
    }
    flagged = likely_to_decline(forecasts, threshold=20, metric="aht_s")
    assert [(f["subject"], f["clear"]) for f in flagged] == [("a1", True), ("a2", False)]
    assert flagged[0]["reason"].startswith("aht_s forecast to worsen by 80 within 1 weeks (from 400 to 480")
    assert "80% interval 450 to 510" in flagged[0]["reason"]


def test_decline_direction_flips_for_higher_is_better_metrics():
    flagged = likely_to_decline(
        {"a1": _fc(4.5, 4.0, 3.8, 4.2)}, threshold=0.2, lower_is_better=False, metric="csat"
    )
    assert flagged[0]["worsening"] == pytest.approx(0.5) and flagged[0]["clear"]


def noisy_level(seed, *, weeks=17, drift=0.0, noise=0.08):
    """A weekly agent KPI: a level that drifts slowly, buried in week-to-week noise."""
    rng = random.Random(seed)
    return weekly([100 * (1 + drift * i / weeks) * (1 + rng.gauss(0, noise)) for i in range(weeks)])


def test_on_noisy_weekly_kpis_the_combination_beats_the_last_value_clearly():
    results = [backtest(noisy_level(seed, drift=d), horizon=4) for seed in range(30) for d in (-0.3, 0, 0.3)]
    model = mean(r["model_mape"] for r in results)
    naive = mean(r["naive_mape"] for r in results)
    assert model < 0.95 * naive


def test_the_recent_mean_pulls_a_noisy_forecast_towards_the_last_weeks():
    values = [100, 120, 80, 110, 90, 115, 85, 105, 95, 118, 82, 125]
    result = forecast(weekly(values), horizon_weeks=1)
    recent = mean(values[-4:])
    assert abs(result.points[0].value - recent) < abs(values[-1] - recent) + 1e-9
    assert abs(result.points[0].value - values[-1]) > 5
