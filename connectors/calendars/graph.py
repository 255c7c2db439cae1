"""Microsoft Graph calendar availability (POST /users/{id}/calendar/getSchedule).

App-only access: a client-credentials token from the Microsoft identity platform with the
`.default` scope of Graph (the app needs Calendars.ReadBasic or Calendars.Read).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from connectors.calendars.base import CalendarUnavailable, Interval, utc
from connectors.errors import Invalid
from connectors.http import Transport
from connectors.tokens import CachedTokenProvider, MemoryTokenCache, RedisTokenCache, cache_key

LOGIN_BASE = "https://login.microsoftonline.com"
GRAPH_BASE = "https://graph.microsoft.com/v1.0"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# "workingElsewhere" means available (e.g. at home), so only these block a slot.
BUSY_STATUSES = frozenset({"tentative", "busy", "oof"})
VIEW_INTERVAL_MINUTES = 15  # matches the 15-minute grid of coaching slots


class GraphCalendar:
    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        login_base: str = LOGIN_BASE,
        graph_base: str = GRAPH_BASE,
        token_cache: MemoryTokenCache | RedisTokenCache | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        login = Transport(login_base, session=session, sleep=sleep)
        form = {
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": GRAPH_SCOPE,
            "grant_type": "client_credentials",
        }

        def fetch() -> tuple[str, float]:
            answer = login.request("POST", f"/{quote(tenant_id)}/oauth2/v2.0/token", data=form)
            if not isinstance(answer, dict) or not answer.get("access_token"):
                raise Invalid("token response without access_token")
            return answer["access_token"], float(answer.get("expires_in") or 300)

        key = "graph:" + cache_key(login.base_url, tenant_id, client_id)
        token = CachedTokenProvider(fetch, key=key, cache=token_cache)
        self.transport = Transport(graph_base, token_provider=token, session=session, sleep=sleep)

    def busy_intervals(self, email_or_id: str, start: datetime, end: datetime) -> list[Interval]:
        """Busy (tentative, busy, out-of-office) items of one mailbox in [start, end)."""
        body = {
            "schedules": [email_or_id],
            "startTime": _graph_time(start),
            "endTime": _graph_time(end),
            "availabilityViewInterval": VIEW_INTERVAL_MINUTES,
        }
        answer = self.transport.request(
            "POST",
            f"/users/{quote(email_or_id, safe='@')}/calendar/getSchedule",
            json=body,
            headers={"Prefer": 'outlook.timezone="UTC"'},  # so returned times are UTC
        )
        return _busy_from(_schedule_for(answer, email_or_id))


def _graph_time(moment: datetime) -> dict[str, str]:
    # DateTimeTimeZone: a local time without offset plus the zone it is in.
    return {"dateTime": utc(moment).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def _schedule_for(answer: Any, schedule_id: str) -> dict[str, Any]:
    schedules = (answer or {}).get("value") or []
    info = next(
        (s for s in schedules if s.get("scheduleId", "").lower() == schedule_id.lower()),
        schedules[0] if schedules else None,
    )
    if info is None:
        raise CalendarUnavailable("no schedule returned", reason="missing")
    if info.get("error"):
        error = info["error"]
        raise CalendarUnavailable(
            error.get("message") or "schedule error", reason=error.get("responseCode") or ""
        )
    return info


def _busy_from(info: dict[str, Any]) -> list[Interval]:
    items = [i for i in info.get("scheduleItems") or [] if i.get("status") in BUSY_STATUSES]
    return sorted((_parse_graph_time(i["start"]), _parse_graph_time(i["end"])) for i in items)


def _parse_graph_time(value: dict[str, str]) -> datetime:
    # Graph writes up to 7 fractional digits ("2024-05-01T09:00:00.0000000"); keep seconds.
    local = datetime.fromisoformat(value["dateTime"].split(".")[0])
    return utc(local.replace(tzinfo=_zone(value.get("timeZone") or "UTC")))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo("UTC" if name.upper() in ("UTC", "Z") else name)
    except (ZoneInfoNotFoundError, ValueError):
        # We ask for UTC via Prefer; a Windows zone name here means the header was ignored.
        raise CalendarUnavailable(f"unsupported time zone {name!r}", reason="timezone") from None
