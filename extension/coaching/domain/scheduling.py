"""Slot finding for automated coaching: when can this agent leave the queue to be coached?

A slot must sit inside the agent's on-queue time (never over breaks, meals, meetings, existing
coaching or appointments), start on a quarter hour after ``now`` on one of the next
``horizon_days`` business days, and never fall in a peak interval. Survivors are ranked by
staffing surplus after removing the agent (highest first, earliest on ties) and the first one
free in the supervisor's calendar wins. Candidates come either from the host's suggested slots
(Genesys ``CoachingSlot``) or from staffing intervals computed in ``staffing.py``; both share
the same filters so the two sources behave alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from extension.coaching.domain.staffing import Interval, on_queue_spans
from extension.coaching.domain.timewindows import (
    QUARTER,
    Span,
    business_days,
    covers,
    is_quarter,
    local_midnight,
    overlaps,
    quantile,
    subtract,
)

__all__ = ["NoSlot", "SlotChoice", "SlotRequest", "choose_from_host_slots", "choose_from_staffing"]

REJECTIONS = (
    "misaligned",
    "outside_horizon",
    "outside_shift",
    "no_staffing_data",
    "peak",
    "supervisor_busy",
)


@dataclass(frozen=True)
class SlotRequest:
    """Everything about the agent, supervisor and tenant that both sources need.

    ``activities`` are the agent's shift activities ``{start, end, category}`` (Genesys activity
    code categories; Genesys-placed coaching may carry ``externalActivityType: "Coaching"``).
    Busy lists hold ``(start, end)`` tuples or ``{start, end}`` dicts. Datetimes are aware.
    """

    activities: list[Mapping[str, Any]]
    agent_busy: list[Any]
    supervisor_busy: list[Any]
    now: datetime
    tz: str
    horizon_days: int = 5
    length_minutes: int = 30
    peak_quantile: float = 0.8
    holidays: frozenset[date] = frozenset()


@dataclass(frozen=True)
class SlotChoice:
    start: datetime
    end: datetime
    surplus: float  # staffing surplus with the agent already taken off the queue
    reason: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NoSlot:
    reason: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Candidate:
    start: datetime
    end: datetime
    surplus: float | None  # None: no staffing data covers the slot
    peak: bool


def choose_from_staffing(request: SlotRequest, staffing: list[Interval]) -> SlotChoice | NoSlot:
    """Pick a slot from computed staffing intervals (no host slot service available)."""
    threshold = _peak_threshold(request, staffing)
    length = timedelta(minutes=request.length_minutes)
    starts = sorted({t for iv in staffing for t in _quarters(iv.start, iv.end)})
    candidates = [_from_staffing(t, t + length, staffing, threshold) for t in starts]
    return _choose(request, candidates, source="computed", threshold=threshold)


def choose_from_host_slots(
    request: SlotRequest,
    host_slots: list[Mapping[str, Any]],
    *,
    staffing: list[Interval] | None = None,
) -> SlotChoice | NoSlot:
    """Pick among host-suggested ``CoachingSlot``s; with ``staffing`` the peak quantile applies too.

    The host's ``staffingDifference`` is already "after scheduling the appointment", so it is
    used as the surplus as is; a negative one is peak.
    """
    threshold = _peak_threshold(request, staffing or [])
    candidates = [_from_host(s, request, staffing or [], threshold) for s in host_slots]
    return _choose(request, candidates, source="host_slots", threshold=threshold)


# ---------------------------------------------------------------- candidates


def _quarters(start: datetime, end: datetime) -> Iterable[datetime]:
    moment = start
    while moment < end:
        yield moment
        moment += QUARTER


def _from_staffing(
    start: datetime, end: datetime, staffing: list[Interval], threshold: float | None
) -> _Candidate:
    spanned = [iv for iv in staffing if iv.start < end and start < iv.end]
    if not covers([(iv.start, iv.end) for iv in spanned], start, end):
        return _Candidate(start, end, None, peak=False)
    surplus = min(iv.surplus for iv in spanned) - 1  # the agent leaves the queue
    return _Candidate(start, end, surplus, peak=surplus < 0 or _hot(spanned, threshold))


def _from_host(
    slot: Mapping[str, Any], request: SlotRequest, staffing: list[Interval], threshold: float | None
) -> _Candidate:
    start = _as_datetime(slot["dateStart"])
    end = start + timedelta(minutes=request.length_minutes)
    surplus = slot.get("staffingDifference")
    if surplus is None:
        return _Candidate(start, end, None, peak=False)
    spanned = [iv for iv in staffing if iv.start < end and start < iv.end]
    return _Candidate(start, end, surplus, peak=surplus < 0 or _hot(spanned, threshold))


def _hot(spanned: list[Interval], threshold: float | None) -> bool:
    """Peak by forecast: any spanned interval needs at least the quantile's headcount."""
    return threshold is not None and any(iv.required >= threshold for iv in spanned)


def _peak_threshold(request: SlotRequest, staffing: list[Interval]) -> float | None:
    """Required headcount at ``peak_quantile`` over the horizon; None without staffing data."""
    begin, end = request.now, _horizon_end(request)
    needs: list[float] = [iv.required for iv in staffing if iv.end > begin and iv.start < end]
    if not needs or min(needs) == max(needs):
        # A flat forecast has no peaks to avoid: without this every interval would sit "at or
        # above" the quantile and no slot could ever be chosen on a quiet queue.
        return None
    return quantile(needs, request.peak_quantile)


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _span(value: Any) -> Span:
    if isinstance(value, Mapping):
        return _as_datetime(value["start"]), _as_datetime(value["end"])
    start, end = value
    return _as_datetime(start), _as_datetime(end)


# ---------------------------------------------------------------- filtering and ranking


def _choose(
    request: SlotRequest, candidates: list[_Candidate], *, source: str, threshold: float | None
) -> SlotChoice | NoSlot:
    tally: Counter[str] = Counter()
    eligible = []
    free = _agent_free(request)
    days = set(_horizon_days(request))
    for candidate in candidates:
        verdict = _rejection(candidate, request, free=free, days=days)
        if verdict:
            tally[verdict] += 1
        else:
            eligible.append(candidate)
    # eligible candidates all have a surplus (``_rejection`` drops those without)
    eligible.sort(key=lambda c: (-cast(float, c.surplus), c.start))
    reason = _reason(request, source=source, candidates=candidates, threshold=threshold)
    return _first_free(request, eligible, tally=tally, reason=reason)


def _rejection(
    candidate: _Candidate, request: SlotRequest, *, free: list[Span], days: set[date]
) -> str | None:
    """Why a candidate cannot be used, or None when it may be ranked."""
    local_day = candidate.start.astimezone(ZoneInfo(request.tz)).date()
    if not is_quarter(candidate.start):
        return "misaligned"
    if candidate.start < request.now or candidate.end > _horizon_end(request):
        return "outside_horizon"
    if local_day not in days:
        return "outside_horizon"
    if not covers(free, candidate.start, candidate.end):
        return "outside_shift"
    if candidate.surplus is None:
        return "no_staffing_data"
    return "peak" if candidate.peak else None


def _first_free(
    request: SlotRequest, ranked: list[_Candidate], *, tally: Counter[str], reason: dict[str, Any]
) -> SlotChoice | NoSlot:
    busy = [_span(b) for b in request.supervisor_busy]
    for candidate in ranked:
        if overlaps(busy, candidate.start, candidate.end):
            tally["supervisor_busy"] += 1
            continue
        reason |= {"rejected": _rejected(tally), "chosen_surplus": candidate.surplus}
        return SlotChoice(candidate.start, candidate.end, cast(float, candidate.surplus), reason)
    return NoSlot(reason | {"rejected": _rejected(tally), "chosen_surplus": None})


def _rejected(tally: Counter[str]) -> dict[str, int]:
    return {name: tally.get(name, 0) for name in REJECTIONS}


def _reason(
    request: SlotRequest, *, source: str, candidates: list[_Candidate], threshold: float | None
) -> dict[str, Any]:
    return {
        "source": source,
        "candidates": len(candidates),
        "peak_threshold": threshold,
        "horizon_end": _horizon_end(request).isoformat(),
        "length_minutes": request.length_minutes,
    }


def _agent_free(request: SlotRequest) -> list[Span]:
    """On-queue time the agent could give up: queue work minus appointments already booked."""
    busy = [_span(b) for b in request.agent_busy]
    return subtract(on_queue_spans(request.activities), busy)


def _horizon_days(request: SlotRequest) -> list[date]:
    return business_days(
        request.now, request.horizon_days, tz=request.tz, holidays=request.holidays
    )


def _horizon_end(request: SlotRequest) -> datetime:
    """Local midnight after the last business day of the horizon, as an instant."""
    last = _horizon_days(request)[-1]
    return local_midnight(last + timedelta(days=1), tz=request.tz)
