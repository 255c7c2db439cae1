"""Threshold and EWMA deviation alerts, deduplication and cool-down."""

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from extension.analytics.domain.alerts import (
    Alert,
    ThresholdRule,
    alert_key,
    deviation_alerts,
    due_alerts,
    ewma_limits,
    out_of_control,
    threshold_alerts,
)

NOW = datetime(2025, 3, 31, 9, 0, tzinfo=UTC)


def test_threshold_rules_fire_on_breach_only_and_ignore_missing_values():
    rules = [ThresholdRule("aht-high", "aht_s", ">", 600), ThresholdRule("csat-low", "csat", "<=", 3.5)]
    values = {
        ("agent", "a1"): {"aht_s": 601.0, "csat": 4.0},
        ("agent", "a2"): {"aht_s": 600.0, "csat": None},
        ("agent", "a3"): {"aht_s": 200.0, "csat": 3.5},
    }
    alerts = threshold_alerts(rules, values)
    assert [(a.key, a.value) for a in alerts] == [
        ("aht-high|agent:a1|aht_s", 601.0),
        ("csat-low|agent:a3|csat", 3.5),
    ]
    assert alerts[0].message == "aht_s 601 > 600"


def test_unknown_operator_is_refused_when_the_rule_is_made():
    with pytest.raises(ValueError, match="operator"):
        ThresholdRule("r", "aht_s", "=>", 1)


def test_ewma_limits_follow_the_textbook_formula():
    series = [10.0, 12.0, 11.0, 13.0, 12.0, 30.0]
    chart = ewma_limits(series, lam=0.2, L=3, baseline=5)
    center = sum(series[:5]) / 5
    sigma = (2 + 1 + 2 + 1) / 4 / 1.128
    assert chart.center == pytest.approx(center)
    assert chart.sigma == pytest.approx(sigma)
    z = center
    for t, (x, point) in enumerate(zip(series, chart.points, strict=True), start=1):
        z = 0.2 * x + 0.8 * z
        half = 3 * sigma * math.sqrt(0.2 / 1.8 * (1 - 0.8 ** (2 * t)))
        assert point.ewma == pytest.approx(z)
        assert (point.lcl, point.ucl) == (pytest.approx(center - half), pytest.approx(center + half))
    assert [p.index for p in out_of_control(chart)] == [5]


def test_an_in_control_process_rarely_signals_and_a_shift_is_caught():
    rng = random.Random(3)
    stable = [100 + rng.gauss(0, 5) for _ in range(500)]
    false_alarms = len(out_of_control(ewma_limits(stable, lam=0.2, L=3)))
    assert false_alarms <= 10  # in-control ARL of this chart is about 500 points
    shifted = stable[:60] + [x + 15 for x in stable[60:80]]
    signals = out_of_control(ewma_limits(shifted, baseline=60))
    assert signals and signals[0].index < 66


def test_short_or_flat_baselines():
    assert not out_of_control(ewma_limits([5.0]))
    flat = ewma_limits([5.0, 5.0, 5.0, 6.0], baseline=3)
    assert flat.sigma == 0 and [p.index for p in out_of_control(flat)] == [3]
    with pytest.raises(ValueError):
        ewma_limits([1.0, 2.0], lam=0)


def test_deviation_alert_judges_the_newest_point_against_the_past():
    rng = random.Random(5)
    calm = [300 + rng.gauss(0, 10) for _ in range(20)]
    alerts = deviation_alerts(
        {("agent", "a1"): [*calm, 420.0], ("agent", "a2"): [*calm, 305.0], ("agent", "a3"): [1.0]},
        metric="aht_s",
    )
    assert [a.subject for a in alerts] == [("agent", "a1")]
    assert "above" in alerts[0].message and alerts[0].key == "deviation|agent:a1|aht_s"


def _alert(key):
    return Alert(key=key, kind="threshold", subject="s", metric="m", value=1.0, message="")


def test_due_alerts_deduplicate_and_respect_the_cool_down():
    candidates = [_alert("k1"), _alert("k1"), _alert("k2"), _alert("k3"), _alert("k4")]
    previous = [
        {"key": "k2", "at": NOW - timedelta(hours=23)},  # inside a 24 h cool-down
        {"key": "k3", "at": NOW - timedelta(hours=24)},  # exactly elapsed: due again
        {"key": "k3", "at": NOW - timedelta(days=9)},
        {"key": "k4", "at": NOW + timedelta(minutes=5)},  # clock skew: treated as recent
    ]
    due = due_alerts(candidates, previous=previous, cooldown=timedelta(hours=24), now=NOW)
    assert [a.key for a in due] == ["k1", "k3"]


def test_due_alerts_uses_the_latest_previous_firing():
    previous = [{"key": "k", "at": NOW - timedelta(days=3)}, {"key": "k", "at": NOW - timedelta(hours=1)}]
    assert due_alerts([_alert("k")], previous=previous, cooldown=timedelta(days=1), now=NOW) == []


def test_alert_keys_are_deterministic():
    assert alert_key(rule_id="r", subject=("team", 7), metric="qa") == "r|team:7|qa"
    assert alert_key(rule_id="r", subject="a1", metric="qa") == "r|a1|qa"
