"""The agent and team performance views the API and panels show, assembled from rollups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from extension.models import Person
from extension.services import analytics_ranking as ranking
from extension.services.analytics_query import Slice, kpi_rows, total
from extension.services.analytics_sums import summary_from_sums


def agent_performance(session: Session, where: Slice, *, agent: Person) -> dict[str, Any]:
    """KPIs, AES, quartile labels per inquiry x channel (against every agent of the tenant),
    top/bottom three inquiries, focus metric per inquiry and the comparison with the team."""
    everyone = Slice(tenant_id=where.tenant_id, start=where.start, end=where.end)
    cells = ranking.cell_sums(session, everyone)
    mine = Slice(tenant_id=where.tenant_id, start=where.start, end=where.end, agent_ids=[agent.id])
    focus = ranking.focus(cells, agent.id)
    return {
        "agent_id": agent.id,
        "name": agent.name,
        "team_id": agent.team_id,
        "from": where.start,
        "to": where.end,
        "kpis": summary_from_sums(total(session, mine)),
        "inquiries": [{**row, "focus": focus.get(row["inquiry"])}
                      for row in ranking.by_inquiry(cells, agent.id)],
        "quartiles": ranking.quartiles(cells, agent.id),
        "impact": ranking.top_bottom(cells, agent.id),
        "team": _team_comparison(session, where, agent),
    }


def _team_comparison(session: Session, where: Slice, agent: Person) -> dict[str, dict]:
    if not agent.team_id:
        return {}
    members = team_member_ids(session, tenant_id=where.tenant_id, team_id=agent.team_id)
    return ranking.compare_with_team(session, where, agent.id, members=members)


def team_member_ids(session: Session, *, tenant_id: str, team_id: str) -> list[str]:
    query = select(Person.id).where(Person.tenant_id == tenant_id, Person.team_id == team_id)
    return list(session.scalars(query.order_by(Person.id)))


def team_performance(session: Session, where: Slice, *, team_id: str, members: Sequence[Person],
                     all_ids: Sequence[str], period: str, metrics: Sequence[str]) -> dict[str, Any]:
    """Per member shown, one series of KPIs by period (empty without data), and the series of
    the whole team (``all_ids``). Team = current membership, so a moved agent's history moves."""
    ids = [m.id for m in members]
    shown = Slice(tenant_id=where.tenant_id, start=where.start, end=where.end, agent_ids=ids)
    series: dict[str, list] = {agent: [] for agent in ids}
    for row in kpi_rows(session, shown, dims=("agent_id",), period=period):
        series[row["agent_id"]].append(_point(row, metrics))
    everyone = Slice(tenant_id=where.tenant_id, start=where.start, end=where.end, agent_ids=all_ids)
    team_rows = kpi_rows(session, everyone, period=period)
    return {
        "team_id": team_id,
        "period": period,
        "from": where.start,
        "to": where.end,
        "members": [{"agent_id": m.id, "name": m.name, "series": series[m.id]} for m in members],
        "team": [_point(row, metrics) for row in team_rows],
    }


def _point(row: dict[str, Any], metrics: Sequence[str]) -> dict[str, Any]:
    return {"period": row["period"], "period_start": row["period_start"], "volume": row["volume"],
            "metrics": {m: row[m] for m in metrics}}
