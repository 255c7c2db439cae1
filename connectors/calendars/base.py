"""What every calendar connector offers: busy intervals of one person, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from connectors.errors import ConnectorError

Interval = tuple[datetime, datetime]


class CalendarUnavailable(ConnectorError):
    """The provider answered, but could not tell this calendar's availability (unknown
    mailbox, no permission, too many calendars): the slot finder must not treat it as free."""

    def __init__(self, message: str = "", *, reason: str = "", **kwargs):
        super().__init__(message, **kwargs)
        self.reason = reason


class BusyCalendar(Protocol):
    def busy_intervals(self, email_or_id: str, start: datetime, end: datetime) -> list[Interval]:
        """Busy periods overlapping [start, end), as (start, end) aware UTC datetimes, sorted."""
        ...


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    return moment.astimezone(UTC)


def parse_rfc3339(text: str) -> datetime:
    """RFC 3339 timestamp (with Z or an offset) as an aware UTC datetime."""
    return utc(datetime.fromisoformat(text))
