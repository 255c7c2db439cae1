"""Weekly KPI forecasts with prediction intervals, their backtest, and the decline watch-list.

The model is damped additive-trend exponential smoothing (Holt 1957; Gardner & McKenzie 1985),
written out in pure Python because one series is a few dozen weeks: a grid search over its
three parameters costs milliseconds, and no numerical library is worth the dependency here.
Its point forecast is combined with the mean of the last four weeks, weighted by each one's
in-sample one-step error (Bates & Granger 1969): weekly agent KPIs are mostly noise around a
slowly moving level, where smoothing alone barely beats the last value (see ``_combination``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise, product
from statistics import NormalDist
from typing import Any, cast

__all__ = [
    "Forecast",
    "ForecastPoint",
    "backtest",
    "forecast",
    "likely_to_decline",
]

ALPHAS = (0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
BETAS = (0.01, 0.05, 0.1, 0.2)  # trend smoothing as a fraction of alpha (beta* in Holt's form)
PHIS = (0.9, 0.98, 1.0)
_MIN_SMOOTHING = 4  # fewer points than this: a random-walk (last value) forecast
_INIT_POINTS = 6  # leading points of the least-squares line that seeds level and trend
RECENT_WEEKS = 4  # the recent-mean forecast combined with the smoothing one
WEEK = timedelta(weeks=1)


@dataclass(frozen=True)
class ForecastPoint:
    week: date
    value: float
    lo: float | None
    hi: float | None


@dataclass(frozen=True)
class Forecast:
    points: list[ForecastPoint]
    last_week: date
    last_value: float
    method: str  # "damped-trend" | "naive"
    params: tuple[float, float, float] | None  # alpha, beta (= alpha * beta*), phi
    sigma: float | None  # one-step residual standard deviation
    level: float  # nominal coverage of [lo, hi]


def forecast(
    series: Sequence[tuple[date, float | None]], *, horizon_weeks: int = 4, level: float = 0.8
) -> Forecast:
    """Point forecasts and central ``level`` prediction intervals for the next weeks.

    ``series`` is (week, value) in any order; weeks without a value (None) are dropped and
    the remaining values are taken as consecutive weeks. Parameters minimise the in-sample
    one-step squared error over the grid ALPHAS x BETAS x PHIS. The h-step interval is
    ``forecast +- z * sigma_h`` with ``sigma_h^2 = sigma^2 (1 + sum_{j<h} c_j^2)``,
    ``c_j = alpha + beta (phi + ... + phi^j)`` (the ETS(A,Ad,N) variance), sigma from the
    one-step residuals with two degrees of freedom taken off, centred on the combined point
    (damped trend and recent mean, see :func:`_combination`). Fewer than four values: the last
    value, with random-walk intervals (sigma_h^2 = h sigma^2 from week-to-week changes) when
    there are at least two.
    """
    observed = sorted((week, value) for week, value in series if value is not None)
    if not observed:
        raise ValueError("cannot forecast an empty series")
    values = [value for _, value in observed]
    if len(values) < _MIN_SMOOTHING:
        return _naive(observed, horizon=horizon_weeks, level=level)
    alpha, beta, phi = _fit(values)
    state, errors = _run(values, alpha=alpha, beta=beta, phi=phi)
    sigma = _residual_sigma(errors)
    weight, recent = _combination(values, errors)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    points, damp, spread = [], 0.0, 0.0
    for h in range(1, horizon_weeks + 1):
        damp += phi**h
        point = weight * (state[0] + damp * state[1]) + (1 - weight) * recent
        half = z * sigma * math.sqrt(1 + spread)
        points.append(ForecastPoint(observed[-1][0] + h * WEEK, point, point - half, point + half))
        spread += (alpha + beta * damp) ** 2
    return Forecast(points, observed[-1][0], values[-1], "damped-trend", (alpha, beta, phi), sigma, level)


def _combination(values: Sequence[float], errors: Sequence[float]) -> tuple[float, float]:
    """Weight of the damped-trend forecast against the mean of the last ``RECENT_WEEKS`` values.

    Bates-Granger weights, inversely proportional to each method's in-sample one-step mean
    squared error over the weeks both can forecast: on a clean trend the smoothing errors are
    near zero and it keeps (almost) all the weight; on a noisy, slowly drifting KPI the recent
    mean averages the noise away, which the last-value baseline and a smoother that chases
    each week cannot.
    """
    start = RECENT_WEEKS
    if len(values) <= start:
        return 1.0, values[-1]
    recent_errors = [values[t] - math.fsum(values[t - RECENT_WEEKS:t]) / RECENT_WEEKS
                     for t in range(start, len(values))]
    mse_trend = math.fsum(e * e for e in errors[start:]) / len(recent_errors)
    mse_recent = math.fsum(e * e for e in recent_errors) / len(recent_errors)
    recent = math.fsum(values[-RECENT_WEEKS:]) / RECENT_WEEKS
    if mse_trend <= 1e-12 * (1 + mse_recent):
        return 1.0, recent
    return mse_recent / (mse_trend + mse_recent), recent


def _residual_sigma(errors: Sequence[float]) -> float:
    """One-step error spread; the seeding points' errors are left out when there are enough
    others, because the seed line was fitted on them and would flatter the model."""
    honest = errors[_INIT_POINTS:] if len(errors) >= _INIT_POINTS + 4 else errors
    return math.sqrt(math.fsum(e * e for e in honest) / max(len(honest) - 2, 1))


def _naive(observed: list[tuple[date, float]], *, horizon: int, level: float) -> Forecast:
    values = [v for _, v in observed]
    steps = [b - a for a, b in pairwise(values)]
    sigma = math.sqrt(math.fsum(s * s for s in steps) / len(steps)) if steps else None
    z = NormalDist().inv_cdf(0.5 + level / 2)
    points = []
    for h in range(1, horizon + 1):
        half = None if sigma is None else z * sigma * math.sqrt(h)
        points.append(
            ForecastPoint(
                observed[-1][0] + h * WEEK,
                values[-1],
                None if half is None else values[-1] - half,
                None if half is None else values[-1] + half,
            )
        )
    return Forecast(points, observed[-1][0], values[-1], "naive", None, sigma, level)


def _initial_state(values: Sequence[float]) -> tuple[float, float]:
    """Intercept and slope of the least-squares line through the first few points."""
    head = values[:_INIT_POINTS]
    n = len(head)
    x_mean, y_mean = (n - 1) / 2, math.fsum(head) / n
    sxx = math.fsum((x - x_mean) ** 2 for x in range(n))
    slope = math.fsum((x - x_mean) * (y - y_mean) for x, y in enumerate(head)) / sxx
    return y_mean - slope * x_mean - slope, slope  # level one step before the first point


def _run(
    values: Sequence[float], *, alpha: float, beta: float, phi: float
) -> tuple[tuple[float, float], list[float]]:
    """Final (level, trend) and the one-step-ahead errors, in error-correction form."""
    level, trend = _initial_state(values)
    errors = []
    for y in values:
        error = y - (level + phi * trend)
        level, trend = level + phi * trend + alpha * error, phi * trend + beta * error
        errors.append(error)
    return (level, trend), errors


def _fit(values: Sequence[float]) -> tuple[float, float, float]:
    best, best_sse = (ALPHAS[0], ALPHAS[0] * BETAS[0], PHIS[0]), math.inf
    for alpha, beta_star, phi in product(ALPHAS, BETAS, PHIS):
        _, errors = _run(values, alpha=alpha, beta=alpha * beta_star, phi=phi)
        sse = math.fsum(e * e for e in errors)
        if sse < best_sse:
            best, best_sse = (alpha, alpha * beta_star, phi), sse
    return best


def backtest(
    series: Sequence[tuple[date, float | None]], *, horizon: int = 4, min_train: int = 8, level: float = 0.8
) -> dict[str, Any]:
    """Rolling-origin evaluation against the naive last-value forecast.

    For every origin t >= ``min_train`` the model is fitted on the first t values and its
    1..``horizon``-step forecasts are scored against the values that follow. MAPE is the mean
    of ``|actual - forecast| / |actual|`` in per cent over all (origin, step) pairs, skipping
    actual values of 0; ``coverage`` is the share of those actuals inside the interval.
    """
    observed = sorted((w, v) for w, v in series if v is not None)
    model_errors, naive_errors, inside = [], [], 0
    for origin in range(min_train, len(observed)):
        result = forecast(observed[:origin], horizon_weeks=horizon, level=level)
        naive = observed[origin - 1][1]
        for point, (_, actual) in zip(result.points, observed[origin:], strict=False):
            if actual == 0:
                continue
            model_errors.append(abs(actual - point.value) / abs(actual))
            naive_errors.append(abs(actual - naive) / abs(actual))
            # an interval has both ends or neither
            inside += point.lo is not None and point.lo <= actual <= cast(float, point.hi)
    count = len(model_errors)
    model_mape = 100 * math.fsum(model_errors) / count if count else None
    naive_mape = 100 * math.fsum(naive_errors) / count if count else None
    return {
        "model_mape": model_mape,
        "naive_mape": naive_mape,
        "forecasts": count,
        "coverage": inside / count if count else None,
        "beats_naive": count > 0 and cast(float, model_mape) < cast(float, naive_mape),
    }


def likely_to_decline(
    forecasts: Mapping[Any, Forecast], *, threshold: float, lower_is_better: bool = True, metric: str = "aes"
) -> list[dict[str, Any]]:
    """Subjects whose metric is forecast to worsen by more than ``threshold`` (metric units).

    Worsening = final-horizon point forecast minus the last observed value (reversed when
    higher is better). ``clear`` is true when even the interval's favourable end is worse
    than today, i.e. the decline is not just within the noise. Sorted worst first.
    """
    flagged = []
    for subject, result in forecasts.items():
        end = result.points[-1]
        sign = 1 if lower_is_better else -1
        worsening = sign * (end.value - result.last_value)
        if worsening <= threshold:
            continue
        favourable = end.lo if lower_is_better else end.hi
        clear = favourable is not None and sign * (favourable - result.last_value) > 0
        flagged.append(
            {
                "subject": subject,
                "metric": metric,
                "last": result.last_value,
                "forecast": end.value,
                "worsening": worsening,
                "clear": clear,
                "reason": _reason(metric, result, worsening=worsening),
            }
        )
    return sorted(flagged, key=lambda f: (-f["worsening"], str(f["subject"])))


def _reason(metric: str, result: Forecast, *, worsening: float) -> str:
    end = result.points[-1]
    weeks = len(result.points)
    text = (
        f"{metric} forecast to worsen by {worsening:.3g} within {weeks} weeks "
        f"(from {result.last_value:.4g} to {end.value:.4g} by {end.week.isoformat()})"
    )
    if end.lo is not None:
        text += f"; {round(result.level * 100)}% interval {end.lo:.4g} to {end.hi:.4g}"
    return text
