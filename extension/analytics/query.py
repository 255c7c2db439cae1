"""KPI rows from the daily rollups for any dimensions, local period and interval.

Every query is a ``SUM`` over the daily rollups filtered on the tenant first (the one tenancy
filter below), grouped by the requested dimensions and the stored bucket column: over
``kpi_rollups_agent_daily`` when nothing but the agent is asked for (agent series, team view),
else over ``kpi_rollups_daily``. The
rows it returns equal :func:`extension.analytics.domain.kpis.kpis_by` over the same raw records.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from typing import cast as typing_cast

from sqlalchemy import BigInteger, Float, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from extension.analytics.domain.kpis import PERIODS, period_label
from extension.analytics.models.facts import KpiRollupAgentDaily, KpiRollupDaily
from extension.analytics.sums import DIMENSIONS, INT_COLUMNS, SUM_COLUMNS, clean, summary_from_sums, zero

_rollups = KpiRollupDaily.__table__
_agent_rollups = KpiRollupAgentDaily.__table__
_PERIOD_COLUMN = {"day": "day", "week": "week", "month": "month", "quarter": "quarter"}


@dataclass(frozen=True)
class Slice:
    """What to aggregate: a tenant, an inclusive range of local days, and row filters.

    ``agent_ids``/``team_ids`` of None mean no restriction (tenant-wide scope); ``equals``
    pins dimensions to one value each, e.g. ``{"channel": "voice"}``.
    """

    tenant_id: str
    start: date
    end: date
    agent_ids: Collection[str] | None = None
    team_ids: Collection[str] | None = None
    equals: Mapping[str, str | None] = field(default_factory=dict)


def _table_for(where: Slice, dims: tuple[str, ...]):
    """The per-agent table answers whatever needs no dimension but the agent: fewer rows."""
    if set(dims) <= {"agent_id"} and where.team_ids is None and set(where.equals) <= {"agent_id"}:
        return _agent_rollups
    return _rollups


def _where(query, where: Slice, table=_rollups):
    t = table.c
    query = query.where(t.tenant_id == where.tenant_id, t.day >= where.start, t.day <= where.end)
    if where.agent_ids is not None:
        query = query.where(t.agent_id.in_(sorted(where.agent_ids)))
    if where.team_ids is not None:
        query = query.where(t.team_id.in_(sorted(where.team_ids)))
    for name, value in where.equals.items():
        query = query.where(t[name] == (value or ""))
    return query


def sums_query(where: Slice, *, dims: tuple[str, ...] = (), period: str | None = None):
    """SELECT dims, bucket, SUM(...) ... GROUP BY dims, bucket, ordered unknowns last."""
    _check(dims, period)
    table = _table_for(where, dims)
    groups = [table.c[d] for d in dims]
    order = []
    for column in groups:
        order += [case((column == "", 1), else_=0), column]
    if period is not None:
        groups.append(table.c[_PERIOD_COLUMN[period]].label("bucket"))
        order.append(groups[-1])
    # typed sums: PostgreSQL's SUM(bigint) is numeric, which the driver hands over as Decimal
    sums = [cast(func.sum(table.c[c]),
                 typing_cast("type[TypeEngine[Any]]", BigInteger if c in INT_COLUMNS else Float)).label(c)
            for c in SUM_COLUMNS]
    query = select(*groups, *sums).group_by(*groups).having(func.sum(table.c.volume) > 0)
    return _where(query, where, table).order_by(*order)


def _check(dims: tuple[str, ...], period: str | None) -> None:
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown or len(set(dims)) != len(dims):
        raise ValueError(f"dims must be distinct values of {DIMENSIONS}, got {dims}")
    if period is not None and period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; expected one of {PERIODS}")


def sums_by(session: Session, where: Slice, *, dims: tuple[str, ...] = (), period: str | None = None,
            limit: int | None = None, offset: int = 0) -> list[tuple[tuple, dict[str, Any]]]:
    """[(dimension values (+ bucket), clean sums)] with '' turned back into None."""
    query = sums_query(where, dims=dims, period=period)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    width = len(dims) + (period is not None)
    result = []
    for row in session.execute(query).all():
        key = tuple(None if v == "" else v for v in row[:width])
        values = row[width:]
        # the sums arrive typed (see sums_query); clean() only for the odd NULL sum
        sums = clean(row._mapping) if None in values else dict(zip(SUM_COLUMNS, values, strict=True))
        result.append((key, sums))
    return result


def kpi_rows(session: Session, where: Slice, *, dims: tuple[str, ...] = (), period: str | None = None,
             limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """Rows shaped like :func:`extension.analytics.domain.kpis.kpis_by`: dims, period, period_start, KPIs."""
    return [kpi_row(key, sums, dims=dims, period=period)
            for key, sums in sums_by(session, where, dims=dims, period=period, limit=limit, offset=offset)]


def kpi_row(key: tuple, sums: Mapping[str, Any], *, dims: tuple[str, ...], period: str | None) -> dict:
    row: dict[str, Any] = dict(zip(dims, key[:len(dims)], strict=True))
    bucket = key[len(dims)] if period is not None else None
    row["period"] = None if bucket is None else period_label(bucket, typing_cast(str, period))
    row["period_start"] = bucket
    row.update(summary_from_sums(sums))
    return row


def total(session: Session, where: Slice) -> dict[str, Any]:
    """One summed vector for the whole slice (zeros when it has no interactions)."""
    rows = sums_by(session, where)
    return rows[0][1] if rows else zero()


def add_missing(rows: list[dict], *, dims: tuple[str, ...], keys: Iterable[tuple],
                period: str | None) -> list[dict]:
    """Zero-volume rows for keys without data, for every bucket present (as kpis_by's keys=)."""
    present = {tuple(r[d] for d in dims) for r in rows}
    buckets = sorted({r["period_start"] for r in rows if r["period_start"] is not None}) or [None]
    extra = [kpi_row((*key, bucket), zero(), dims=dims, period=period if bucket else None)
             for key in keys if tuple(key) not in present for bucket in buckets]
    return rows + extra
