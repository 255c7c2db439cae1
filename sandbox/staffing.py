"""Short-term forecast and staffing arithmetic.

The forecast is what Genesys publishes (offered contacts and average handle time per 15-minute
interval per planning group); required headcount is derived from it with a target occupancy,
the same workload formula a client without the slots API would use:
    required = sum(offered * aht_seconds) / 900 / OCCUPANCY
Surplus = on-queue headcount scheduled minus required, so coaching is best placed where it is high.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sandbox.schedules import Shift
from sandbox.timeutil import INTERVAL

INTERVALS_PER_WEEK = 7 * 96
OCCUPANCY = 0.85
# Planning group mix: share of the workload and average handle time in seconds.
GROUP_MIX = {"voice": (0.55, 360.0), "chat": (0.2, 480.0), "message": (0.15, 420.0),
             "email": (0.10, 600.0)}


def demand_shape(local: datetime) -> float:
    """0..1 demand for a local time: a mid-morning and an early-afternoon peak, quiet edges."""
    if local.weekday() >= 5:
        return 0.05
    hour = local.hour + local.minute / 60 + 7.5 / 60  # centre of the interval
    if hour < 7 or hour >= 19:
        return 0.03
    base = 0.42 * _ramp(hour)
    morning = 0.58 * math.exp(-(((hour - 10.5) / 1.0) ** 2))
    afternoon = 0.5 * math.exp(-(((hour - 14.25) / 0.9) ** 2))
    return min(1.0, base + morning + afternoon)


def _ramp(hour: float) -> float:
    """Demand builds from 07:00 to 08:30 and fades from 17:00 to 19:00."""
    return max(0.0, min(1.0, (hour - 7) / 1.5, (19 - hour) / 2))


def required_curve(*, reference: datetime, tz: ZoneInfo, peak_required: float) -> list[float]:
    return [round(peak_required * demand_shape((reference + INTERVAL * i).astimezone(tz)), 3)
            for i in range(INTERVALS_PER_WEEK)]


def forecast_groups(required: list[float], group_ids: dict[str, str]) -> list[dict]:
    """ForecastPlanningGroupData per media group, consistent with `required` via OCCUPANCY."""
    groups = []
    for media, (share, aht) in GROUP_MIX.items():
        offered = [round(need * share * OCCUPANCY * 900 / aht, 3) for need in required]
        groups.append({"planningGroupId": group_ids[media], "offeredPerInterval": offered,
                       "averageHandleTimeSecondsPerInterval": [aht] * len(required)})
    return groups


def required_from_groups(groups: list[dict]) -> list[float]:
    """Inverse of forecast_groups: what the slots API uses, so it honours the served data."""
    total = [0.0] * len(groups[0]["offeredPerInterval"])
    for group in groups:
        pairs = zip(group["offeredPerInterval"], group["averageHandleTimeSecondsPerInterval"],
                    strict=True)
        for i, (offered, aht) in enumerate(pairs):
            total[i] += offered * aht / 900 / OCCUPANCY
    return total


def on_queue_headcount(shifts: dict[str, list[Shift]], *, reference: datetime) -> list[int]:
    counts = [0] * INTERVALS_PER_WEEK
    for user_shifts in shifts.values():
        for shift in user_shifts:
            for activity in shift.activities:
                if activity.category == "OnQueueWork":
                    _add_span(counts, reference, activity.start, activity.minutes)
    return counts


def _add_span(counts: list[int], reference: datetime, start: datetime, minutes: int) -> None:
    first = int((start - reference) / INTERVAL)
    for i in range(first, first + minutes // 15):
        if 0 <= i < len(counts):
            counts[i] += 1


def interval_index(reference: datetime, when: datetime) -> int:
    return int((when - reference) / INTERVAL)


def peak_for(headcount: list[int]) -> float:
    """Make the busiest forecast interval need slightly more than the best-staffed one has,
    so peaks run short and shoulders have room, as in a real contact centre."""
    return max(headcount) * 0.95 if headcount else 1.0


def week_reference(monday_local: datetime) -> datetime:
    return monday_local.astimezone(ZoneInfo("UTC"))


def span(start: datetime, minutes: int) -> list[datetime]:
    return [start + timedelta(minutes=m) for m in range(0, minutes, 15)]
