"""Staffing per interval: how many agents the forecast needs versus how many are on queue.

The surplus (scheduled minus required) tells slot finding when taking an agent off the phones
for coaching is harmless. Hosts that offer ``/coaching/scheduleslots/query`` compute this for
us; otherwise it is computed here from the short-term forecast and the published schedule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from extension.coaching.domain.timewindows import Span, covers, merge, subtract

__all__ = [
    "ON_QUEUE",
    "Interval",
    "erlang_c",
    "on_queue_spans",
    "required_agents",
    "scheduled_counts",
    "service_level",
    "staffing_from_forecast",
]

ON_QUEUE = "OnQueueWork"
_MAX_AGENTS = 10_000  # guards the search loop against absurd inputs


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime
    scheduled: int
    required: int
    surplus: int  # scheduled - required; negative means under-staffed


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call waits (Erlang C) with ``agents`` servers and ``traffic`` Erlangs.

    Computed through the Erlang B recursion B(n) = A*B(n-1) / (n + A*B(n-1)), then
    C = N*B / (N - A*(1 - B)); this avoids the factorials and powers that overflow for big N.
    """
    if agents <= traffic:
        return 1.0
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return agents * blocking / (agents - traffic * (1 - blocking))


def service_level(
    agents: int, traffic: float, *, aht_seconds: float, target_seconds: float
) -> float:
    """Share of calls answered within ``target_seconds``: 1 - C * exp(-(N - A) * T / AHT)."""
    if agents <= traffic:
        return 0.0
    wait = erlang_c(agents, traffic)
    return 1.0 - wait * math.exp(-(agents - traffic) * target_seconds / aht_seconds)


def required_agents(
    offered: float,
    aht_seconds: float,
    *,
    interval_minutes: int = 15,
    service_level: float = 0.8,
    target_seconds: float = 20,
    max_occupancy: float = 0.85,
) -> int:
    """Fewest agents meeting the service level (Erlang C) without exceeding ``max_occupancy``.

    ``offered`` calls arrive in an interval of ``interval_minutes`` with average handle time
    ``aht_seconds``; traffic A = offered * AHT / interval length (in Erlangs). The occupancy cap
    matters for large queues, where Erlang C alone would plan agents at near-100% load.
    """
    if offered <= 0 or aht_seconds <= 0:
        return 0
    traffic = offered * aht_seconds / (interval_minutes * 60)
    agents = max(1, math.ceil(traffic / max_occupancy))
    while _service(agents, traffic, aht_seconds, target_seconds) < service_level:
        agents += 1
        if agents > _MAX_AGENTS:
            raise ValueError("service level unreachable with a sane number of agents")
    return agents


def _service(agents: int, traffic: float, aht: float, target: float) -> float:
    # Module-level alias: ``required_agents`` has a parameter named ``service_level``.
    return service_level(agents, traffic, aht_seconds=aht, target_seconds=target)


def staffing_from_forecast(
    *,
    start: datetime,
    interval_minutes: int,
    offered_per_interval: list[float],
    aht_per_interval: list[float],
    scheduled_on_queue: Mapping[datetime, int],
    **targets: Any,
) -> list[Interval]:
    """Intervals from ``start`` pairing forecast need with scheduled heads.

    ``targets`` are passed to ``required_agents`` (service_level, target_seconds,
    max_occupancy). Intervals missing from ``scheduled_on_queue`` count as nobody scheduled.
    """
    if len(offered_per_interval) != len(aht_per_interval):
        raise ValueError("offered and AHT series differ in length")
    step = timedelta(minutes=interval_minutes)
    intervals = []
    for i, (offered, aht) in enumerate(zip(offered_per_interval, aht_per_interval, strict=True)):
        begin = start + i * step
        need = required_agents(offered, aht, interval_minutes=interval_minutes, **targets)
        have = scheduled_on_queue.get(begin, 0)
        intervals.append(Interval(begin, begin + step, have, need, have - need))
    return intervals


def on_queue_spans(activities: Iterable[Mapping[str, Any]]) -> list[Span]:
    """Time an agent is scheduled on queue: OnQueueWork minus anything scheduled over it.

    Coaching placed by Genesys (``externalActivityType`` "Coaching") never counts as queue time.
    """
    activities = list(activities)
    queue = [(a["start"], a["end"]) for a in activities if _is_queue_work(a)]
    other = [(a["start"], a["end"]) for a in activities if not _is_queue_work(a)]
    return subtract(merge(queue), other)


def _is_queue_work(activity: Mapping[str, Any]) -> bool:
    coaching = activity.get("externalActivityType") == "Coaching"
    return activity.get("category") == ON_QUEUE and not coaching


def scheduled_counts(
    shifts_by_agent: Mapping[str, Iterable[Mapping[str, Any]]],
    *,
    start: datetime,
    end: datetime,
    interval_minutes: int,
) -> dict[datetime, int]:
    """Agents on queue per interval start, from each agent's activities ``{start, end, category}``.

    An agent counts only when on queue for the whole interval: under-counting errs towards
    "busy", which is the safe side when deciding whether someone can leave the queue.
    """
    step = timedelta(minutes=interval_minutes)
    spans = [on_queue_spans(acts) for acts in shifts_by_agent.values()]
    counts: dict[datetime, int] = {}
    begin = start
    while begin + step <= end:
        counts[begin] = sum(covers(s, begin, begin + step) for s in spans)
        begin += step
    return counts
