"""Weekly KPI series from the rollups, their 4-week forecasts (domain.forecasting) and backtest."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from extension.analytics.domain import forecasting
from extension.analytics.models.facts import KpiRollupDaily
from extension.analytics.query import Slice, kpi_rows


def weekly_series(session: Session, where: Slice, *, metric: str) -> list[tuple]:
    """(week start, metric value) for every week of the slice with interactions."""
    return [(row["period_start"], row[metric]) for row in kpi_rows(session, where, period="week")]


def forecast_for(session: Session, where: Slice, *, metric: str, horizon_weeks: int = 4,
                 level: float = 0.8) -> dict[str, Any]:
    """The fitted forecast; ``points`` is empty when the series has no value at all.

    The week holding ``where.end`` is left out when it is not yet complete, so a half week
    does not read as a sudden drop in volume-driven metrics.
    """
    history = [(w, v) for w, v in weekly_series(session, where, metric=metric)
               if w + timedelta(days=6) <= where.end]
    result: dict[str, Any] = {"metric": metric, "history": [{"week": w, "value": v} for w, v in history],
                              "points": [], "method": None, "level": level, "sigma": None}
    if not any(v is not None for _, v in history):
        return result
    fitted = forecasting.forecast(history, horizon_weeks=horizon_weeks, level=level)
    result.update(method=fitted.method, sigma=fitted.sigma,
                  points=[{"week": p.week, "value": p.value, "lo": p.lo, "hi": p.hi} for p in fitted.points])
    return result


BACKTEST_METRICS = ("aes", "aht_s", "csat", "qa")
LEVELS = {"agent": "agent_id", "team": "team_id"}


def tenant_range(session: Session, tenant_id: str) -> tuple[date, date] | None:
    """First and last local day with facts (None without any)."""
    first, last = session.execute(select(func.min(KpiRollupDaily.day), func.max(KpiRollupDaily.day))
                                  .where(KpiRollupDaily.tenant_id == tenant_id)).one()
    return None if first is None else (first, last)


def weekly_by(session: Session, where: Slice, *, level: str) -> dict[str, list[dict]]:
    """Complete weeks of KPI rows per agent or team (weeks ending after ``where.end`` dropped)."""
    series: dict[str, list[dict]] = {}
    for row in kpi_rows(session, where, dims=(LEVELS[level],), period="week"):
        subject = row[LEVELS[level]]
        if subject is not None and row["period_start"] + timedelta(days=6) <= where.end:
            series.setdefault(subject, []).append(row)
    return series


def backtest_tenant(session: Session, *, tenant_id: str, horizon_weeks: int = 4,
                    metrics: tuple[str, ...] = BACKTEST_METRICS, min_train: int = 8) -> list[dict[str, Any]]:
    """Rolling-origin MAPE of the forecasts of every agent's and team's weekly series, pooled
    over all (series, origin, step) pairs, next to the naive last-value forecast."""
    span = tenant_range(session, tenant_id)
    if span is None:
        return []
    where = Slice(tenant_id=tenant_id, start=span[0], end=span[1])
    rows = []
    for level in LEVELS:
        series = weekly_by(session, where, level=level)
        for metric in metrics:
            rows.append({"level": level, "metric": metric, "series": len(series),
                         **_pooled([forecasting.backtest([(r["period_start"], r[metric]) for r in points],
                                                         horizon=horizon_weeks, min_train=min_train)
                                    for points in series.values()])})
    return rows


def _pooled(results: list[dict[str, Any]]) -> dict[str, Any]:
    count = sum(r["forecasts"] for r in results)
    if not count:
        return {"forecasts": 0, "model_mape": None, "naive_mape": None, "beats_naive": False}
    model = sum(r["model_mape"] * r["forecasts"] for r in results if r["forecasts"]) / count
    naive = sum(r["naive_mape"] * r["forecasts"] for r in results if r["forecasts"]) / count
    return {"forecasts": count, "model_mape": model, "naive_mape": naive, "beats_naive": model < naive}
