"""KPI figures, AES and local-period buckets agree with the independent pandas implementation."""

from datetime import UTC, date, datetime

import pytest

from extension.analytics.domain.kpis import (
    aes,
    aes_parts,
    in_period,
    kpi_summary,
    kpis_by,
    lower_is_better,
    nps,
    period_label,
    period_start,
)
from tests.unit.analytics import reference
from tests.unit.analytics.generate import AGENTS, EDGE_INSTANTS, NO_INTERACTIONS, ONE_INTERACTION

TOL = 1e-9
DIMENSIONS = [
    ("agent_id",),
    ("team_id",),
    ("queue_id",),
    ("inquiry",),
    ("channel",),
    ("agent_id", "inquiry", "channel"),
]


def assert_same_summary(ours: dict, theirs: dict, context) -> None:
    for name, expected in theirs.items():
        actual = ours[name]
        if isinstance(expected, float) and expected is not None:
            assert actual is not None, (context, name)
            assert abs(actual - expected) <= TOL, (context, name, actual, expected)
        else:
            assert actual == expected, (context, name, actual, expected)


@pytest.mark.parametrize("dims", DIMENSIONS)
@pytest.mark.parametrize("period", [None, "day", "week", "month", "quarter"])
def test_kpis_by_dimension_and_local_period_match_pandas(records, dims, period):
    rows = kpis_by(records, dims=dims, period=period, tz="Europe/London")
    expected = reference.kpis_by(records, dims=list(dims), period=period, tz="Europe/London")
    assert len(rows) == len(expected)
    for row in rows:
        key = tuple(row[d] for d in dims)
        if period is not None:
            key += (row["period_start"], row["period"])
        assert key in expected, key
        assert_same_summary(row, expected[key], key)


def test_grouping_in_a_utc_plus_ten_tenant_matches_pandas_too(records):
    rows = kpis_by(records, dims=("team_id",), period="day", tz="Australia/Sydney")
    expected = reference.kpis_by(records, dims=["team_id"], period="day", tz="Australia/Sydney")
    assert {(r["team_id"], r["period_start"], r["period"]) for r in rows} == set(expected)


def test_agents_with_zero_and_one_interaction_get_rows(records):
    rows = {r["agent_id"]: r for r in kpis_by(records, keys=[(a,) for a in AGENTS])}
    assert len(rows) == len(AGENTS)
    empty = rows[NO_INTERACTIONS]
    assert empty["volume"] == 0
    assert all(empty[k] is None for k in empty if k not in ("agent_id", "volume", "period", "period_start"))
    assert rows[ONE_INTERACTION]["volume"] == 1
    assert rows[ONE_INTERACTION]["aht_s"] is not None


def test_zero_rows_are_filled_for_every_bucket_present():
    record = _record(datetime(2025, 3, 30, 23, 30, tzinfo=UTC))
    rows = kpis_by([record], period="day", keys=[("a1",), ("ghost",)])
    assert [(r["agent_id"], r["period"], r["volume"]) for r in rows] == [
        ("a1", "2025-03-31", 1),
        ("ghost", "2025-03-31", 0),
    ]


@pytest.mark.parametrize(
    ("instant", "period", "start", "label"),
    [
        (datetime(2025, 3, 29, 23, 30, tzinfo=UTC), "day", date(2025, 3, 29), "2025-03-29"),
        (datetime(2025, 3, 30, 23, 30, tzinfo=UTC), "day", date(2025, 3, 31), "2025-03-31"),
        (datetime(2025, 3, 31, 23, 30, tzinfo=UTC), "month", date(2025, 4, 1), "2025-04"),
        (datetime(2025, 3, 31, 23, 30, tzinfo=UTC), "quarter", date(2025, 4, 1), "2025-Q2"),
        (datetime(2025, 4, 6, 23, 30, tzinfo=UTC), "week", date(2025, 4, 7), "2025-W15"),
        (datetime(2025, 10, 25, 23, 30, tzinfo=UTC), "day", date(2025, 10, 26), "2025-10-26"),
        (datetime(2025, 10, 26, 23, 30, tzinfo=UTC), "day", date(2025, 10, 26), "2025-10-26"),
        (datetime(2025, 12, 31, 23, 30, tzinfo=UTC), "week", date(2025, 12, 29), "2026-W01"),
    ],
)
def test_buckets_follow_the_tenants_local_calendar(instant, period, start, label):
    assert period_start(instant, period=period, tz="Europe/London") == start
    assert period_label(start, period) == label


def test_edge_instants_are_in_the_generated_data(records):
    assert {r["ended_at"] for r in records} >= set(EDGE_INSTANTS)


def test_drill_down_returns_exactly_the_bucket_records(records):
    for row in kpis_by(records, dims=(), period="week"):
        inside = in_period(records, start=row["period_start"], period="week")
        assert len(inside) == row["volume"]


def test_naive_datetimes_and_unknown_periods_are_refused():
    with pytest.raises(ValueError, match="aware"):
        period_start(datetime(2025, 1, 1), period="day")
    with pytest.raises(ValueError, match="unknown period"):
        kpis_by([], period="fortnight")


def _record(ended_at, **changes):
    base = {
        "agent_id": "a1",
        "channel": "voice",
        "inquiry": "billing",
        "ended_at": ended_at,
        "t_handle_ms": 300_000,
        "p_satisfaction": 0.5,
        "p_resolution": 0.8,
    }
    return {**base, **changes}


def test_aes_is_handle_time_per_expected_satisfied_resolution():
    t = datetime(2025, 3, 1, tzinfo=UTC)
    records = [
        _record(t, t_handle_ms=300_000, p_satisfaction=0.5, p_resolution=0.8),
        _record(t, t_handle_ms=600_000, p_satisfaction=1.0, p_resolution=1.0),
    ]
    # (300 + 600) s / (0.4 + 1.0), not AHT 450 / (0.75 * 0.9)
    assert aes(records) == {"value": pytest.approx(900 / 1.4), "fallback": None, "volume": 2, "scored": 2}


def test_email_aes_falls_back_to_aht_and_says_so():
    t = datetime(2025, 3, 1, tzinfo=UTC)
    emails = [
        _record(t, channel="email", p_satisfaction=None, p_resolution=None, t_handle_ms=ms)
        for ms in (100_000, 200_000)
    ]
    assert aes(emails) == {"value": 150.0, "fallback": "aht", "volume": 2, "scored": 0}


def test_aes_ignores_unscored_records_when_some_are_scored_and_is_none_without_data():
    t = datetime(2025, 3, 1, tzinfo=UTC)
    mixed = [
        _record(t),
        _record(t, channel="email", p_satisfaction=None, p_resolution=None, t_handle_ms=9_000_000),
    ]
    assert aes(mixed)["value"] == pytest.approx(300 / 0.4)
    assert aes([])["value"] is None
    assert aes([_record(t, p_satisfaction=0.0)])["value"] is None
    assert aes_parts(mixed)["timed"] == 2


def test_aes_in_generated_data_matches_pandas_per_agent_and_falls_back_for_email_only(df, records):
    for agent, g in df.groupby("agent_id"):
        ours = aes([r for r in records if r["agent_id"] == agent])
        value, fallback = reference.aes(g)
        assert ours["fallback"] == fallback
        assert abs(ours["value"] - value) <= TOL
    emails = [r for r in records if r["channel"] == "email"]
    assert aes(emails)["fallback"] == "aht"


def test_nps_counts_promoters_minus_detractors():
    assert nps([10, 9, 8, 7, 6, 0]) == pytest.approx(100 * (2 - 2) / 6)
    assert nps([10, 10, 3]) == pytest.approx(100 / 3)
    assert nps([]) is None


def test_summary_of_no_records_is_all_none_but_volume():
    summary = kpi_summary([])
    assert summary.pop("volume") == 0
    assert set(summary.values()) == {None}


def test_records_may_be_objects_as_well_as_dicts():
    from types import SimpleNamespace

    t = datetime(2025, 3, 1, tzinfo=UTC)
    as_dict = _record(t)
    assert kpi_summary([SimpleNamespace(**as_dict)]) == kpi_summary([as_dict])


def test_metric_directions_are_known_and_unknown_metrics_fail():
    assert lower_is_better("aes") and not lower_is_better("csat")
    with pytest.raises(KeyError):
        lower_is_better("happiness")
