"""Interval arithmetic and tenant-calendar helpers behind slot finding and rate limits."""

from datetime import UTC, date, datetime, timedelta

import pytest

from extension.coaching.domain.timewindows import (
    business_days,
    ceil_quarter,
    covers,
    iso_week,
    local_midnight,
    merge,
    overlaps,
    quantile,
    subtract,
)

T0 = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)


def m(minutes):
    return T0 + timedelta(minutes=minutes)


def test_merge_joins_touching_and_overlapping_spans_and_drops_empty_ones():
    assert merge([(m(30), m(45)), (m(0), m(15)), (m(15), m(20)), (m(50), m(50))]) == [
        (m(0), m(20)),
        (m(30), m(45)),
    ]


def test_subtract_cuts_holes_out_of_spans():
    assert subtract([(m(0), m(60))], [(m(10), m(20)), (m(50), m(70))]) == [
        (m(0), m(10)),
        (m(20), m(50)),
    ]


def test_covers_needs_one_continuous_span_and_touching_is_not_overlap():
    assert covers([(m(0), m(15)), (m(15), m(30))], m(0), m(30))
    assert not covers([(m(0), m(15)), (m(16), m(30))], m(0), m(30))
    assert not overlaps([(m(0), m(15))], m(15), m(30))
    assert overlaps([(m(0), m(16))], m(15), m(30))


@pytest.mark.parametrize(
    ("minute", "second", "expected"), [(0, 0, 0), (0, 1, 15), (14, 59, 15), (46, 0, 60)]
)
def test_ceil_quarter(minute, second, expected):
    assert ceil_quarter(T0.replace(minute=minute, second=second)) == m(expected)


def test_business_days_skip_weekends_and_holidays_in_local_time():
    friday_night_utc = datetime(2025, 10, 24, 23, 30, tzinfo=UTC)  # Saturday in London
    assert business_days(friday_night_utc, 2, tz="Europe/London") == [
        date(2025, 10, 27),
        date(2025, 10, 28),
    ]
    assert business_days(friday_night_utc, 2, tz="UTC", holidays=[date(2025, 10, 27)]) == [
        date(2025, 10, 24),
        date(2025, 10, 28),
    ]


def test_local_midnight_follows_dst():
    assert local_midnight(date(2025, 10, 26), tz="Europe/London").astimezone(UTC) == datetime(
        2025, 10, 25, 23, 0, tzinfo=UTC
    )
    assert local_midnight(date(2025, 10, 27), tz="Europe/London").astimezone(UTC) == datetime(
        2025, 10, 27, 0, 0, tzinfo=UTC
    )


def test_iso_week_is_taken_in_the_tenant_zone():
    sunday_late_utc = datetime(2025, 10, 19, 23, 30, tzinfo=UTC)
    assert iso_week(sunday_late_utc, tz="UTC") == (2025, 42)
    assert iso_week(sunday_late_utc, tz="Europe/London") == (2025, 43)


def test_quantile_interpolates_like_numpy():
    assert quantile(list(range(1, 11)), 0.8) == pytest.approx(8.2)
    assert quantile([5], 0.8) == 5
    assert quantile([1, 2], 1.0) == 2
