"""Staffing per interval: Erlang C requirements and on-queue head counts."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from extension.coaching.domain.staffing import (
    Interval,
    erlang_c,
    required_agents,
    scheduled_counts,
    service_level,
    staffing_from_forecast,
)

T0 = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def textbook_erlang_c(agents, traffic):
    """Erlang C straight from the formula with factorials, independent of the code under test."""
    top = traffic**agents / math.factorial(agents) * agents / (agents - traffic)
    bottom = sum(traffic**k / math.factorial(k) for k in range(agents)) + top
    return top / bottom


@pytest.mark.parametrize("agents", [11, 12, 13, 14, 20])
def test_erlang_c_matches_the_textbook_formula(agents):
    assert erlang_c(agents, 10.0) == pytest.approx(textbook_erlang_c(agents, 10.0), rel=1e-9)


def test_erlang_c_is_certain_wait_when_agents_do_not_exceed_traffic():
    assert erlang_c(10, 10.0) == 1.0
    assert service_level(10, 10.0, aht_seconds=180, target_seconds=20) == 0.0


def test_textbook_case_100_calls_per_half_hour_aht_180_needs_14_agents_for_80_20():
    # 10 Erlangs. 13 agents reach only ~79.6%; 14 reach ~88.8% (the classic worked example).
    def sl(n):
        return 1 - textbook_erlang_c(n, 10.0) * math.exp(-(n - 10.0) * 20 / 180)

    assert sl(13) < 0.8 <= sl(14)
    assert sl(13) == pytest.approx(0.7956, abs=1e-4)
    assert required_agents(100, 180, interval_minutes=30) == 14


def test_occupancy_cap_adds_agents_beyond_what_erlang_c_needs():
    # 1000 calls/15 min at 180 s = 200 Erlangs: Erlang C alone is met near 95% occupancy.
    relaxed = required_agents(1000, 180, max_occupancy=1.0)
    capped = required_agents(1000, 180, max_occupancy=0.85)
    assert relaxed < capped == math.ceil(200 / 0.85)


def test_no_calls_need_no_agents():
    assert required_agents(0, 180) == 0
    assert required_agents(5, 0) == 0


def test_staffing_from_forecast_pairs_need_with_scheduled_heads():
    intervals = staffing_from_forecast(
        start=T0,
        interval_minutes=30,
        offered_per_interval=[100, 0],
        aht_per_interval=[180, 180],
        scheduled_on_queue={T0: 16},
    )
    assert intervals == [
        Interval(T0, at(30), scheduled=16, required=14, surplus=2),
        Interval(at(30), at(60), scheduled=0, required=0, surplus=0),
    ]


def test_staffing_from_forecast_passes_service_targets_through():
    [strict] = staffing_from_forecast(
        start=T0,
        interval_minutes=30,
        offered_per_interval=[100],
        aht_per_interval=[180],
        scheduled_on_queue={},
        service_level=0.95,
    )
    assert strict.required > 14 and strict.surplus == -strict.required


def test_staffing_from_forecast_rejects_mismatched_series():
    with pytest.raises(ValueError):
        staffing_from_forecast(
            start=T0,
            interval_minutes=15,
            offered_per_interval=[1, 2],
            aht_per_interval=[180],
            scheduled_on_queue={},
        )


def test_scheduled_counts_only_agents_on_queue_for_the_whole_interval():
    shifts = {
        "ann": [
            {"start": at(0), "end": at(30), "category": "OnQueueWork"},
            {"start": at(30), "end": at(45), "category": "Break"},
            {"start": at(45), "end": at(60), "category": "OnQueueWork"},
        ],
        "bob": [
            {"start": at(0), "end": at(60), "category": "OnQueueWork"},
            {"start": at(15), "end": at(30), "category": "Meeting"},  # laid over queue work
        ],
        "cy": [{"start": at(5), "end": at(60), "category": "OnQueueWork"}],  # late by 5 min
        "dee": [
            {
                "start": at(45),
                "end": at(60),
                "category": "OnQueueWork",
                "externalActivityType": "Coaching",
            }
        ],
    }
    counts = scheduled_counts(shifts, start=T0, end=at(60), interval_minutes=15)
    assert counts == {at(0): 2, at(15): 2, at(30): 2, at(45): 3}
