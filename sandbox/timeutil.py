"""Time helpers shared by the sandbox: ISO-8601 on the wire, UTC inside."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

INTERVAL = timedelta(minutes=15)


def iso(value: datetime) -> str:
    """Genesys style timestamp: milliseconds and a literal Z."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_dt(text: str) -> datetime:
    """Parse an ISO-8601 instant; naive values are taken as UTC (as Genesys does)."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_interval(text: str) -> tuple[datetime, datetime]:
    """An ISO-8601 interval `start/end`; raises ValueError when malformed or empty."""
    start_text, end_text = text.split("/", 1)
    start, end = parse_dt(start_text), parse_dt(end_text)
    if end <= start:
        raise ValueError("interval end must be after its start")
    return start, end


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def monday_of(day: date) -> date:
    """The Monday of an ISO week."""
    return day - timedelta(days=day.weekday())


def week_start_of(day: date, start_day: str = "Monday") -> date:
    """The first day of the business-unit week holding `day` (BU startDayOfWeek)."""
    return day - timedelta(days=(day.weekday() - WEEKDAYS.index(start_day)) % 7)


def floor_quarter(value: datetime) -> datetime:
    """Round down to the 15-minute grid that WFM intervals use."""
    return value.replace(minute=value.minute - value.minute % 15, second=0, microsecond=0)


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end
