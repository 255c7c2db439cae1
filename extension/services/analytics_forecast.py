"""Weekly KPI series from the rollups and their 4-week forecasts (domain.forecasting)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from extension.domain import forecasting
from extension.services.analytics_query import Slice, kpi_rows


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
