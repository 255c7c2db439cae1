"""Google Calendar availability (POST {google_base}/calendar/v3/freeBusy).

The token comes from a callable the caller supplies (a service account with domain-wide
delegation, or a user's OAuth grant): this module does not hold Google credentials.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import requests

from connectors.calendars.base import CalendarUnavailable, Interval, parse_rfc3339, utc
from connectors.http import Transport

GOOGLE_BASE = "https://www.googleapis.com"


class GoogleCalendar:
    def __init__(
        self,
        *,
        token: Callable[[], str],
        google_base: str = GOOGLE_BASE,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        def provider(*, refresh: bool = False) -> str:
            # The supplier owns caching and refresh; on a 401 we simply ask it again.
            return token()

        self.transport = Transport(
            google_base, token_provider=provider, session=session, sleep=sleep
        )

    def busy_intervals(self, email_or_id: str, start: datetime, end: datetime) -> list[Interval]:
        """Busy periods of one calendar in [start, end); raises CalendarUnavailable on errors."""
        body = {
            "timeMin": utc(start).isoformat().replace("+00:00", "Z"),
            "timeMax": utc(end).isoformat().replace("+00:00", "Z"),
            "timeZone": "UTC",
            "items": [{"id": email_or_id}],
        }
        answer = self.transport.request("POST", "/calendar/v3/freeBusy", json=body)
        return _busy_from(_calendar_for(answer, email_or_id))


def _calendar_for(answer: Any, calendar_id: str) -> dict[str, Any]:
    calendar = ((answer or {}).get("calendars") or {}).get(calendar_id)
    if calendar is None:
        raise CalendarUnavailable("calendar missing from freeBusy answer", reason="missing")
    if calendar.get("errors"):
        reasons = ",".join(e.get("reason") or "unknown" for e in calendar["errors"])
        raise CalendarUnavailable(f"freeBusy error: {reasons}", reason=reasons)
    return calendar


def _busy_from(calendar: dict[str, Any]) -> list[Interval]:
    periods = calendar.get("busy") or []
    return sorted((parse_rfc3339(p["start"]), parse_rfc3339(p["end"])) for p in periods)
