"""Performance alerts: absolute thresholds, EWMA control-chart deviations, de-duplication.

The shell loads metric values, calls these functions, then stores and delivers what
:func:`due_alerts` returns. Keys are deterministic so a retried job or a second worker raises
the same alert once (the key is also the idempotency key of the delivery).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, TypeGuard

__all__ = [
    "OPERATORS",
    "Alert",
    "EwmaChart",
    "EwmaPoint",
    "ThresholdRule",
    "alert_key",
    "deviation_alerts",
    "due_alerts",
    "ewma_limits",
    "out_of_control",
    "threshold_alerts",
]

OPERATORS = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_D2 = 1.128  # d2 constant for moving ranges of two: E[|x_t - x_t-1|] = 1.128 sigma


@dataclass(frozen=True)
class ThresholdRule:
    """``metric op value``, e.g. ``ThresholdRule("r1", "aht_s", ">", 600)``."""

    rule_id: str
    metric: str
    op: str
    value: float

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise ValueError(f"unknown operator {self.op!r}; expected one of {list(OPERATORS)}")

    def breached(self, observed: float | None) -> TypeGuard[float]:
        return observed is not None and OPERATORS[self.op](observed, self.value)


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str  # "threshold" | "deviation"
    subject: Any  # e.g. ("agent", "a-17") or ("team", "t-3")
    metric: str
    value: float
    message: str


@dataclass(frozen=True)
class EwmaPoint:
    index: int
    value: float
    ewma: float
    lcl: float | None
    ucl: float | None
    out_of_control: bool


@dataclass(frozen=True)
class EwmaChart:
    center: float | None
    sigma: float | None
    points: list[EwmaPoint]


def alert_key(*, rule_id: str, subject: Any, metric: str) -> str:
    """Deduplication key: one open alert per rule, subject and metric."""
    subject_text = ":".join(map(str, subject)) if isinstance(subject, tuple) else str(subject)
    return f"{rule_id}|{subject_text}|{metric}"


def threshold_alerts(
    rules: Iterable[ThresholdRule], values_by_subject: Mapping[Any, Mapping[str, float | None]]
) -> list[Alert]:
    """An alert for every (rule, subject) whose current value breaches the rule."""
    alerts = []
    for rule in rules:
        for subject, values in values_by_subject.items():
            observed = values.get(rule.metric)
            if rule.breached(observed):
                alerts.append(
                    Alert(
                        key=alert_key(rule_id=rule.rule_id, subject=subject, metric=rule.metric),
                        kind="threshold",
                        subject=subject,
                        metric=rule.metric,
                        value=observed,
                        message=f"{rule.metric} {observed:g} {rule.op} {rule.value:g}",
                    )
                )
    return alerts


def ewma_limits(
    series: Sequence[float],
    *,
    lam: float = 0.2,
    L: float = 3,
    baseline: int | None = None,
) -> EwmaChart:
    """EWMA control chart of a subject's own history (Roberts 1959; Montgomery ch. 9).

    z_0 = mu, z_t = lam * x_t + (1 - lam) * z_{t-1}; limits at time t (1-based)
    ``mu +- L * sigma * sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 t)))``, the exact
    time-varying limits, so early points are not judged by the asymptotic width.
    mu is the mean and sigma the moving-range estimate (mean |x_t - x_t-1| / 1.128) of the
    first ``baseline`` points (default all): the moving range is what individual-value charts
    use because a level shift inflates it far less than the sample standard deviation.
    With fewer than two baseline points there is no sigma and nothing is out of control; a
    flat baseline (sigma 0) makes any other value out of control.
    """
    if not 0 < lam <= 1:
        raise ValueError("lam must be in (0, 1]")
    base = list(series[: baseline if baseline is not None else len(series)])
    if len(base) < 2:
        center = base[0] if base else None
        return EwmaChart(center, None, [EwmaPoint(i, x, x, None, None, False) for i, x in enumerate(series)])
    center = math.fsum(base) / len(base)
    sigma = math.fsum(abs(b - a) for a, b in pairwise(base)) / (len(base) - 1) / _D2
    return EwmaChart(center, sigma, _ewma_points(series, center=center, sigma=sigma, lam=lam, width=L))


def _ewma_points(
    series: Sequence[float], *, center: float, sigma: float, lam: float, width: float
) -> list[EwmaPoint]:
    points, z = [], center
    for t, x in enumerate(series, start=1):
        z = lam * x + (1 - lam) * z
        half = width * sigma * math.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * t)))
        lcl, ucl = center - half, center + half
        points.append(EwmaPoint(t - 1, x, z, lcl, ucl, z < lcl or z > ucl))
    return points


def out_of_control(chart: EwmaChart) -> list[EwmaPoint]:
    """The points whose EWMA lies outside its limits."""
    return [p for p in chart.points if p.out_of_control]


def deviation_alerts(
    series_by_subject: Mapping[Any, Sequence[float]],
    *,
    metric: str,
    rule_id: str = "deviation",
    lam: float = 0.2,
    L: float = 3,
    history: int | None = None,
) -> list[Alert]:
    """An alert for each subject whose latest point is out of its own control limits.

    ``history`` = how many leading points form the baseline (default: all but the last, so
    the newest value is judged against the past and cannot widen its own limits).
    """
    alerts = []
    for subject, series in series_by_subject.items():
        if len(series) < 3:
            continue
        chart = ewma_limits(
            series, lam=lam, L=L, baseline=history if history is not None else len(series) - 1
        )
        last = chart.points[-1]
        if last.out_of_control:
            # out of control implies the chart has limits (a sigma)
            assert last.ucl is not None
            side = "above" if last.ewma > last.ucl else "below"
            alerts.append(
                Alert(
                    key=alert_key(rule_id=rule_id, subject=subject, metric=metric),
                    kind="deviation",
                    subject=subject,
                    metric=metric,
                    value=last.value,
                    message=(
                        f"{metric} EWMA {last.ewma:.4g} {side} its control limits "
                        f"[{last.lcl:.4g}, {last.ucl:.4g}]"
                    ),
                )
            )
    return alerts


def due_alerts(
    candidates: Iterable[Alert], *, previous: Iterable[Mapping[str, Any]], cooldown: timedelta, now: datetime
) -> list[Alert]:
    """Candidates to deliver now: first per key, and none whose key fired within the cool-down.

    ``previous`` holds ``{"key", "at"}`` of delivered alerts. A key is quiet again once
    ``now - at >= cooldown``; an ``at`` in the future (clock skew) counts as recent.
    """
    last_fired: dict[str, datetime] = {}
    for entry in previous:
        key, at = entry["key"], entry["at"]
        if key not in last_fired or at > last_fired[key]:
            last_fired[key] = at
    due, seen = [], set()
    for alert in candidates:
        if alert.key in seen:
            continue
        seen.add(alert.key)
        fired = last_fired.get(alert.key)
        if fired is None or now - fired >= cooldown:
            due.append(alert)
    return due
