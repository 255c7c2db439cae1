"""Additive sums behind every KPI, and the KPIs recovered from them.

Each interaction contributes a vector of counts and sums (see :func:`contribution`); a daily
rollup row holds the vector sum of its interactions, and any interval or grouping is again a
vector sum. :func:`summary_from_sums` turns a vector back into exactly the figures that
:func:`extension.analytics.domain.kpis.kpi_summary` computes from the records themselves (integer sums are
exact; float sums agree to rounding), which the integration tests check on generated data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

# (count column, sum column, record field) for the plain means; sums of ms are integers
_MEANS = (
    ("timed", "handle_ms", "t_handle_ms"),
    ("talk_n", "talk_ms", "t_talk_ms"),
    ("hold_n", "hold_ms", "t_hold_ms"),
    ("acw_n", "acw_ms", "t_acw_ms"),
    ("csat_n", "csat_sum", "csat"),
    ("qa_n", "qa_sum", "qa_score"),
    ("csent_n", "csent_sum", "customer_sentiment"),
    ("asent_n", "asent_sum", "agent_sentiment"),
)
_RATES = (("transfer_n", "transfer_yes", "transferred"), ("fcr_n", "fcr_yes", "fcr"))
INT_COLUMNS = (
    "volume", "timed", "handle_ms", "talk_n", "talk_ms", "hold_n", "hold_ms", "acw_n", "acw_ms",
    "transfer_n", "transfer_yes", "fcr_n", "fcr_yes", "csat_n", "nps_n", "nps_promoters",
    "nps_detractors", "qa_n", "csent_n", "asent_n", "scored", "scored_handle_ms",
)
FLOAT_COLUMNS = ("csat_sum", "qa_sum", "csent_sum", "asent_sum", "expected")
SUM_COLUMNS = INT_COLUMNS + FLOAT_COLUMNS
DIMENSIONS = ("agent_id", "team_id", "queue_id", "inquiry", "channel")


def zero() -> dict[str, Any]:
    return {**dict.fromkeys(INT_COLUMNS, 0), **dict.fromkeys(FLOAT_COLUMNS, 0.0)}


def contribution(fact: Mapping[str, Any]) -> dict[str, Any]:
    """One interaction's vector; a field that is None adds to neither count nor sum."""
    sums = zero()
    sums["volume"] = 1
    for count, total, name in _MEANS:
        if fact.get(name) is not None:
            sums[count], sums[total] = 1, fact[name]
    for count, yes, name in _RATES:
        if fact.get(name) is not None:
            sums[count], sums[yes] = 1, int(bool(fact[name]))
    if fact.get("nps") is not None:
        sums.update(nps_n=1, nps_promoters=int(fact["nps"] >= 9), nps_detractors=int(fact["nps"] <= 6))
    handle, p_sat, p_res = fact.get("t_handle_ms"), fact.get("p_satisfaction"), fact.get("p_resolution")
    if handle is not None and p_sat is not None and p_res is not None:
        sums.update(scored=1, scored_handle_ms=handle, expected=p_sat * p_res)
    return sums


def add(into: dict[str, Any], other: Mapping[str, Any], *, sign: int = 1) -> dict[str, Any]:
    for column in SUM_COLUMNS:
        into[column] += sign * other[column]
    return into


def clean(raw: Mapping[Any, Any]) -> dict[str, Any]:
    """Database SUMs as Python numbers (PostgreSQL's SUM(bigint) is a Decimal, NULL when empty)."""
    sums: dict[str, int | float] = {c: int(raw[c] or 0) for c in INT_COLUMNS}
    sums.update({c: float(raw[c] or 0.0) for c in FLOAT_COLUMNS})
    return sums


def aes_from_sums(sums: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`extension.analytics.domain.kpis.aes` from sums (same value, same AHT fallback rule)."""
    result = {"value": None, "fallback": None, "volume": sums["volume"], "scored": sums["scored"]}
    if sums["scored"]:
        if sums["expected"] > 0:
            result["value"] = float(sums["scored_handle_ms"]) / 1000.0 / sums["expected"]
    elif sums["timed"]:
        result.update(value=float(sums["handle_ms"]) / 1000.0 / sums["timed"], fallback="aht")
    return result


def _ratio(total: float, count: int) -> float | None:
    return float(total) / count if count else None


def _mean_s(count: str, total: str):
    def metric(sums: Mapping[str, Any]) -> float | None:
        mean_ms = _ratio(sums[total], sums[count])
        return None if mean_ms is None else mean_ms / 1000.0
    return metric


def _rate(yes: str, count: str):
    return lambda sums: _ratio(sums[yes], sums[count])


def _nps(sums: Mapping[str, Any]) -> float | None:
    answers = sums["nps_n"]
    return 100.0 * (sums["nps_promoters"] - sums["nps_detractors"]) / answers if answers else None


# one function per KPI of extension.analytics.domain.kpis.kpi_summary, in its key order
METRIC_FUNCTIONS = {
    "volume": lambda sums: sums["volume"],
    "aht_s": _mean_s("timed", "handle_ms"), "talk_s": _mean_s("talk_n", "talk_ms"),
    "hold_s": _mean_s("hold_n", "hold_ms"), "acw_s": _mean_s("acw_n", "acw_ms"),
    "transfer_rate": _rate("transfer_yes", "transfer_n"), "fcr_rate": _rate("fcr_yes", "fcr_n"),
    "csat": _rate("csat_sum", "csat_n"), "qa": _rate("qa_sum", "qa_n"),
    "customer_sentiment": _rate("csent_sum", "csent_n"), "agent_sentiment": _rate("asent_sum", "asent_n"),
    "nps": _nps,
    "aes": lambda sums: aes_from_sums(sums)["value"],
    "aes_fallback": lambda sums: aes_from_sums(sums)["fallback"],
}


def summary_from_sums(sums: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`extension.analytics.domain.kpis.kpi_summary`, same keys in the same order, from sums."""
    summary = {name: fn(sums) for name, fn in METRIC_FUNCTIONS.items() if not name.startswith("aes")}
    score = aes_from_sums(sums)
    summary["aes"], summary["aes_fallback"] = score["value"], score["fallback"]
    return summary


def bucket_starts(day: date) -> dict[str, date]:
    """First local day of the day's ISO week, month and quarter (as kpis.period_start)."""
    return {
        "week": day - timedelta(days=day.weekday()),
        "month": day.replace(day=1),
        "quarter": day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1),
    }
