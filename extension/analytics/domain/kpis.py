"""Contact-centre KPIs over interaction records, by dimension and by local calendar period.

Records are mappings (or objects with the same attributes) with the fields of a normalized
``conversation.ended`` plus its survey, QA, sentiment and prediction data: ``conversation_id,
agent_id, team_id, queue_id, inquiry, channel, ended_at`` (aware, UTC), ``t_talk_ms, t_hold_ms,
t_acw_ms, t_handle_ms, transferred, fcr, csat`` (1-5), ``nps`` (0-10), ``qa_score`` (0-100),
``customer_sentiment, agent_sentiment`` (-1..1), ``p_satisfaction, p_resolution`` (0..1).

Definitions (every figure skips records whose field is None, so an interaction without a survey
does not pull CSAT towards zero; a figure with no values at all is None, never 0):
- ``volume``: number of records.
- ``aht_s, talk_s, hold_s, acw_s``: mean of ``t_handle_ms`` (``t_talk_ms``...) in seconds.
- ``transfer_rate``: share of records with ``transferred`` true; ``fcr_rate``: share with
  ``fcr`` true among those whose resolution is known.
- ``csat, qa, customer_sentiment, agent_sentiment``: plain means.
- ``nps``: per cent promoters (9-10) minus per cent detractors (0-6) among answers, -100..100.
- ``aes``: the Agent Effectiveness Score, see :func:`aes`.

Periods are buckets of the tenant's local calendar, because "Tuesday" is the Tuesday the
tenant's people lived: a 23:30 UTC interaction in a UTC+1 tenant belongs to the next local day.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

__all__ = [
    "METRICS",
    "PERIODS",
    "aes",
    "aes_parts",
    "field",
    "group_records",
    "in_period",
    "kpi_summary",
    "kpis_by",
    "lower_is_better",
    "nps",
    "period_label",
    "period_start",
]

PERIODS = ("day", "week", "month", "quarter")

_TIMINGS = {"aht_s": "t_handle_ms", "talk_s": "t_talk_ms", "hold_s": "t_hold_ms", "acw_s": "t_acw_ms"}
_RATES = {"transfer_rate": "transferred", "fcr_rate": "fcr"}
_MEANS = {
    "csat": "csat",
    "qa": "qa_score",
    "customer_sentiment": "customer_sentiment",
    "agent_sentiment": "agent_sentiment",
}

# metric name -> lower is better; the single source for rankings, alerts and focus metrics
METRICS: dict[str, bool] = {
    "aes": True,
    "aht_s": True,
    "talk_s": True,
    "hold_s": True,
    "acw_s": True,
    "transfer_rate": True,
    "fcr_rate": False,
    "csat": False,
    "nps": False,
    "qa": False,
    "customer_sentiment": False,
    "agent_sentiment": False,
}


def lower_is_better(metric: str) -> bool:
    """Direction of a metric; KeyError for an unknown metric name (the API maps it to 400)."""
    return METRICS[metric]


def field(record: Any, name: str) -> Any:
    """A record's field, whether the record is a mapping or a dataclass-like object."""
    if isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name, None)


def _values(records: Iterable[Any], name: str) -> list[Any]:
    return [v for v in (field(r, name) for r in records) if v is not None]


def _mean(values: list[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def nps(scores: Iterable[int]) -> float | None:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6); None without answers."""
    scores = list(scores)
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return 100.0 * (promoters - detractors) / len(scores)


def aes_parts(records: Iterable[Any]) -> dict[str, float]:
    """Additive sums behind :func:`aes`, so rollups can combine buckets without the records.

    A record is *scored* when it has a handle time and both predictions; *timed* when it has a
    handle time. ``expected`` is the sum over scored records of p_satisfaction * p_resolution,
    i.e. the expected number of satisfied resolutions.
    """
    parts = {"volume": 0, "timed": 0, "handle_ms": 0.0, "scored": 0, "scored_handle_ms": 0.0, "expected": 0.0}
    handle_all, handle_scored, expected = [], [], []
    for record in records:
        parts["volume"] += 1
        handle = field(record, "t_handle_ms")
        if handle is None:
            continue
        handle_all.append(handle)
        p_sat, p_res = field(record, "p_satisfaction"), field(record, "p_resolution")
        if p_sat is not None and p_res is not None:
            handle_scored.append(handle)
            expected.append(p_sat * p_res)
    parts.update(
        timed=len(handle_all),
        handle_ms=math.fsum(handle_all),
        scored=len(handle_scored),
        scored_handle_ms=math.fsum(handle_scored),
        expected=math.fsum(expected),
    )
    return parts


def aes(records: Iterable[Any]) -> dict[str, Any]:
    """Agent Effectiveness Score in seconds: handle time per (expected) satisfied resolution.

    Definition: ``sum(t_handle) / sum(p_satisfaction * p_resolution)`` over the scored records
    (those with a handle time and both predictions), in seconds. Lower is better, like AHT.
    This is the aggregate ratio, not ``AHT / (mean p_sat * mean p_res)``: each interaction's own
    chance of a satisfied resolution counts, a long call that went well is not penalised by
    another that went badly, and the sums roll up additively (see :func:`aes_parts`).

    Records without predictions (email, or before the tenant's model exists) are left out when
    any record is scored; when none is, the score falls back to AHT and says ``fallback: "aht"``.
    ``value`` is None with no timed records, or when the expected resolutions sum to zero.
    """
    parts = aes_parts(records)
    result: dict[str, Any] = {
        "value": None, "fallback": None, "volume": parts["volume"], "scored": parts["scored"]
    }
    if parts["scored"]:
        if parts["expected"] > 0:
            result["value"] = parts["scored_handle_ms"] / 1000.0 / parts["expected"]
    elif parts["timed"]:
        result.update(value=parts["handle_ms"] / 1000.0 / parts["timed"], fallback="aht")
    return result


def kpi_summary(records: Iterable[Any]) -> dict[str, Any]:
    """Every KPI of the module docstring over one set of records (None where no data)."""
    records = list(records)
    summary: dict[str, Any] = {"volume": len(records)}
    for name, source in _TIMINGS.items():
        mean_ms = _mean(_values(records, source))
        summary[name] = None if mean_ms is None else mean_ms / 1000.0
    for name, source in _RATES.items():
        summary[name] = _mean([1.0 if v else 0.0 for v in _values(records, source)])
    for name, source in _MEANS.items():
        summary[name] = _mean(_values(records, source))
    summary["nps"] = nps(_values(records, "nps"))
    score = aes(records)
    summary["aes"], summary["aes_fallback"] = score["value"], score["fallback"]
    return summary


def period_start(moment: datetime, *, period: str, tz: str = "Europe/London") -> date:
    """First local day of the ``period`` bucket holding ``moment`` (weeks are ISO: Monday)."""
    if moment.tzinfo is None:
        raise ValueError("ended_at must be timezone-aware (UTC in storage)")
    day = moment.astimezone(ZoneInfo(tz)).date()
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    raise ValueError(f"unknown period {period!r}; expected one of {PERIODS}")


def period_label(start: date, period: str) -> str:
    """Human label of a bucket: 2025-03-30, 2025-W13 (ISO year), 2025-03, 2025-Q1."""
    if period == "day":
        return start.isoformat()
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    raise ValueError(f"unknown period {period!r}; expected one of {PERIODS}")


def in_period(records: Iterable[Any], *, start: date, period: str, tz: str = "Europe/London") -> list[Any]:
    """Drill-down: the records of one bucket, by the same rule that built the bucket."""
    return [r for r in records if period_start(field(r, "ended_at"), period=period, tz=tz) == start]


def group_records(
    records: Iterable[Any],
    *,
    dims: tuple[str, ...] = ("agent_id",),
    period: str | None = None,
    tz: str = "Europe/London",
) -> dict[tuple[Any, ...], list[Any]]:
    """Records by ``(dimension values..., bucket start or None)``, in first-seen order."""
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for record in records:
        bucket = None if period is None else period_start(field(record, "ended_at"), period=period, tz=tz)
        key = (*(field(record, d) for d in dims), bucket)
        groups.setdefault(key, []).append(record)
    return groups


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    # None sorts last; values of one dimension are assumed to be of one type
    return tuple((True, 0) if v is None else (False, v) for v in key)


def kpis_by(
    records: Iterable[Any],
    *,
    dims: tuple[str, ...] = ("agent_id",),
    period: str | None = None,
    tz: str = "Europe/London",
    keys: Iterable[tuple[Any, ...]] | None = None,
) -> list[dict[str, Any]]:
    """KPI rows per dimension value(s) and, optionally, per local period bucket.

    Each row holds the ``dims`` fields, ``period`` (label) and ``period_start`` (date; both
    None without a period) and the :func:`kpi_summary` figures. Rows are sorted by dimension
    values then bucket. ``keys`` lists dimension tuples that must appear even without records
    (agents with zero interactions): each gets a zero-volume row for every bucket present in
    the result (or one row without a period).
    """
    if period is not None and period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; expected one of {PERIODS}")
    groups = group_records(records, dims=dims, period=period, tz=tz)
    buckets = {k[-1] for k in groups} or {None}
    for key in keys or ():
        for bucket in buckets:
            groups.setdefault((*key, bucket), [])
    return [_row(key, groups[key], dims=dims, period=period) for key in sorted(groups, key=_sort_key)]


def _row(
    key: tuple[Any, ...], records: list[Any], *, dims: tuple[str, ...], period: str | None
) -> dict[str, Any]:
    row: dict[str, Any] = dict(zip(dims, key[:-1], strict=True))
    bucket = key[-1]
    # a bucket exists only when a period was asked for
    row["period"] = None if bucket is None else period_label(bucket, cast(str, period))
    row["period_start"] = bucket
    row.update(kpi_summary(records))
    return row
