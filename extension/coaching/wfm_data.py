"""Gather the WFM facts slot finding needs from the host, as plain data for the domain.

Genesys gives shift activities with an activity-code id only, so codes are looked up for their
category; schedules are listed per week (metadata), then the agents' shifts are queried from the
published schedule; the short-term forecast gives offered load and AHT per 15-minute interval.
Weeks are the business unit's: they start on its startDayOfWeek in its time zone (a week id is
that local date), and a schedule or forecast may span several (weekCount; weekNumber).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from extension.coaching.domain import staffing

INTERVAL_MINUTES = 15


@dataclass
class WfmPicture:
    business_unit_id: str
    management_unit_id: str
    activities: list[dict] = field(default_factory=list)  # the agent's
    staffing: list[staffing.Interval] = field(default_factory=list)


WEEKDAYS = {"Monday": 0, "Tuesday": 1, "Wednesday": 2, "Thursday": 3, "Friday": 4,
            "Saturday": 5, "Sunday": 6}


def week_starts(start: datetime, end: datetime, *, start_day: str = "Monday",
                time_zone: str = "UTC") -> list[date]:
    """The BU weeks [start, end] touches, as their first days: weeks begin on the BU's
    `startDayOfWeek` at local midnight in its `timeZone` (so a week id is a local date)."""
    zone = _zone(time_zone)
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    current = first - timedelta(days=(first.weekday() - WEEKDAYS.get(start_day, 0)) % 7)
    weeks = []
    while current <= last:
        weeks.append(current)
        current += timedelta(days=7)
    return weeks


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _week_number(week: date, first: str | None) -> int:
    """Which week of a multi-week schedule or forecast (weekNumber) `week` is, from 0."""
    return max(0, (week - date.fromisoformat(first)).days // 7) if first else 0


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _activities(shifts: list[dict], codes: dict[str, dict]) -> list[dict]:
    found = []
    for shift in shifts or []:
        for activity in shift.get("activities") or []:
            begin = _parse(activity["startDate"])
            code = codes.get(activity.get("activityCodeId"), {})
            found.append({"start": begin,
                          "end": begin + timedelta(minutes=activity.get("lengthMinutes") or 0),
                          "category": code.get("category"),
                          "externalActivityType": activity.get("externalActivityType")})
    return found


def _published(schedules: list[dict]) -> dict | None:
    published = [s for s in schedules if s.get("published")]
    return (published or schedules or cast("list[dict | None]", [None]))[-1]


def gather(client, *, agent_id: str, start: datetime, end: datetime,
           with_staffing: bool) -> WfmPicture:
    unit = client.wfm.agent_management_unit(agent_id)
    bu, mu = unit["businessUnit"]["id"], unit["managementUnit"]["id"]
    picture = WfmPicture(bu, mu)
    settings = client.wfm.business_unit_settings(bu)
    weeks = week_starts(start, end, start_day=settings.get("startDayOfWeek") or "Monday",
                        time_zone=settings.get("timeZone") or "UTC")
    codes = {code["id"]: code for code in client.wfm.activity_codes(bu)}
    everyone: dict[str | None, list[dict]] = {}  # None: an entry without a user id
    queried: set[str] = set()
    for week in weeks:
        schedule = _published(client.wfm.list_week_schedules(bu, week))
        if schedule is None:
            continue
        if schedule["id"] not in queried:
            # a schedule spans weekCount weeks from its weekDate: one query reads them all
            queried.add(schedule["id"])
            _read_schedule(client, bu=bu, mu=mu, week=schedule.get("weekDate") or week,
                           schedule_id=schedule["id"], codes=codes, everyone=everyone,
                           user_ids=None if with_staffing else [agent_id])
        if with_staffing:
            picture.staffing.extend(_week_staffing(client, bu=bu, week=week, everyone=everyone))
    picture.activities = everyone.get(agent_id, [])
    return picture


def _read_schedule(client, *, bu: str, mu: str, week: date | str, schedule_id: str,
                   codes: dict[str, dict], everyone: dict[str | None, list[dict]],
                   user_ids: list[str] | None) -> None:
    answer = client.wfm.query_agent_schedules(bu, week, schedule_id, management_unit_id=mu,
                                              user_ids=user_ids)
    for entry in (answer.get("result") or {}).get("agentSchedules") or []:
        user_id = (entry.get("user") or {}).get("id")
        everyone.setdefault(user_id, []).extend(_activities(entry.get("shifts"), codes))


def _week_staffing(client, *, bu: str, week: date, everyone) -> list[staffing.Interval]:
    forecasts = client.wfm.list_short_term_forecasts(bu, week)
    if not forecasts:
        return []
    chosen = next((f for f in forecasts if f.get("canUseForScheduling")), forecasts[0])
    # a forecast spans weekCount weeks from its weekDate; weekNumber picks this week's data
    number = _week_number(week, chosen.get("weekDate"))
    result = client.wfm.forecast_data(bu, chosen.get("weekDate") or week, chosen["id"],
                                      week_number=number if (chosen.get("weekCount") or 1) > 1
                                      else None)
    groups = result.get("planningGroups") or []
    if not groups or not result.get("referenceStartDate"):
        return []
    offered, aht = _combine(groups)
    # referenceStartDate is the forecast's first week; week n's intervals begin n weeks on
    begin = _parse(result["referenceStartDate"]) + timedelta(weeks=result.get("weekNumber") or 0)
    end = begin + timedelta(minutes=INTERVAL_MINUTES * len(offered))
    counts = staffing.scheduled_counts(everyone, start=begin, end=end,
                                       interval_minutes=INTERVAL_MINUTES)
    return staffing.staffing_from_forecast(
        start=begin, interval_minutes=INTERVAL_MINUTES, offered_per_interval=offered,
        aht_per_interval=aht, scheduled_on_queue=counts)


def _combine(groups: list[dict]) -> tuple[list[float], list[float]]:
    """One queue view of several planning groups: offered adds up, AHT is offered-weighted."""
    length = min(len(g.get("offeredPerInterval") or []) for g in groups)
    offered, aht = [], []
    for i in range(length):
        loads = [(g["offeredPerInterval"][i], g["averageHandleTimeSecondsPerInterval"][i])
                 for g in groups]
        total = sum(load for load, _ in loads)
        offered.append(total)
        aht.append(sum(load * seconds for load, seconds in loads) / total if total else 0.0)
    return offered, aht
