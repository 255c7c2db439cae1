"""Time arithmetic shared by staffing, slot finding and coaching decisions.

Intervals are half-open ``(start, end)`` pairs of timezone-aware datetimes, so adjacent
activities (a break ending at 10:15 and queue work starting at 10:15) never overlap.
Calendar questions (business days, ISO weeks) are answered in the tenant's time zone because
"this week" and "the next five working days" mean what the tenant's people see on the wall.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Span = tuple[datetime, datetime]
QUARTER = timedelta(minutes=15)


def merge(spans: Iterable[Span]) -> list[Span]:
    """Union of spans, sorted; touching spans are joined so coverage checks stay simple."""
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract(spans: Iterable[Span], holes: Iterable[Span]) -> list[Span]:
    """Parts of ``spans`` not covered by any hole (e.g. queue time minus breaks)."""
    result = merge(spans)
    for hole_start, hole_end in merge(holes):
        pieces: list[Span] = []
        for start, end in result:
            if hole_start > start:
                pieces.append((start, min(end, hole_start)))
            if hole_end < end:
                pieces.append((max(start, hole_end), end))
        result = [p for p in pieces if p[0] < p[1]]
    return result


def covers(spans: Iterable[Span], start: datetime, end: datetime) -> bool:
    """True when one merged span contains the whole of ``[start, end)``."""
    return any(s <= start and end <= e for s, e in merge(spans))


def overlaps(spans: Iterable[Span], start: datetime, end: datetime) -> bool:
    """True when any span shares time with ``[start, end)`` (touching is not sharing)."""
    return any(s < end and start < e for s, e in spans)


def ceil_quarter(moment: datetime) -> datetime:
    """Next 15-minute boundary at or after ``moment``.

    UTC boundaries are local boundaries too: every real UTC offset is a multiple of 15 minutes.
    """
    floor = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    return floor if floor == moment else floor + QUARTER


def is_quarter(moment: datetime) -> bool:
    """True when ``moment`` sits exactly on a 15-minute boundary."""
    return moment == ceil_quarter(moment)


def business_days(
    now: datetime, count: int, *, tz: str, holidays: Iterable[date] = ()
) -> list[date]:
    """The next ``count`` local business days (Mon-Fri, minus holidays), today included."""
    closed = set(holidays)
    day = now.astimezone(ZoneInfo(tz)).date()
    days: list[date] = []
    while len(days) < count:
        if day.weekday() < 5 and day not in closed:
            days.append(day)
        day += timedelta(days=1)
    return days


def local_midnight(day: date, *, tz: str) -> datetime:
    """Start of ``day`` in ``tz`` as an aware datetime (DST-correct, unlike adding 24 hours)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz))


def iso_week(moment: datetime, *, tz: str) -> tuple[int, int]:
    """(ISO year, ISO week) of ``moment`` as seen in the tenant's time zone."""
    year, week, _ = moment.astimezone(ZoneInfo(tz)).isocalendar()
    return year, week


def quantile(values: list[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default), without pulling in numpy."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
