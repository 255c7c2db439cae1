"""The agent and team performance views the API and panels show, assembled from rollups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from extension.analytics import peers as analytics_peers
from extension.analytics.domain.kpis import period_label
from extension.analytics.peers import PeerSnapshot
from extension.analytics.query import Slice, sums_by
from extension.analytics.sums import METRIC_FUNCTIONS, add, aes_from_sums, summary_from_sums, zero
from extension.platform.models.people import Person


def agent_performance(session: Session, where: Slice, *, agent: Person,
                      peers: PeerSnapshot | None = None) -> dict[str, Any]:
    """KPIs, AES, quartile labels per inquiry x channel (against every agent of the tenant),
    top/bottom three inquiries, focus metric per inquiry and the comparison with the team.

    The whole view comes from ``peers``, one snapshot of the interval (possibly cached;
    ``as_of`` says when it was summed): the headline KPIs are the agent's own vector in it, so
    they equal the sum of the agent's inquiries and the agent's row of the team comparison."""
    if peers is None:
        peers = analytics_peers.build(session, tenant_id=where.tenant_id, start=where.start, end=where.end)
    focus = peers.focus(agent.id)
    return {
        "agent_id": agent.id,
        "name": agent.name,
        "team_id": agent.team_id,
        "from": where.start,
        "to": where.end,
        "kpis": summary_from_sums(peers.agent_total(agent.id)),
        "inquiries": [{**row, "focus": focus.get(row["inquiry"])} for row in peers.by_inquiry(agent.id)],
        "quartiles": peers.quartiles(agent.id),
        "impact": peers.top_bottom(agent.id),
        "team": _team_comparison(session, agent, peers),
        "as_of": peers.as_of,
        "peers_as_of": peers.as_of,
    }


def _team_comparison(session: Session, agent: Person, peers: PeerSnapshot) -> dict[str, dict]:
    if not agent.team_id:
        return {}
    members = team_member_ids(session, tenant_id=peers.tenant_id, team_id=agent.team_id)
    return peers.compare_with_team(agent.id, members)


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
    point = _pointer(period, metrics)
    rows = sums_by(session, shown, dims=("agent_id",), period=period)
    for (agent, bucket), sums in rows:
        series[agent].append(point(bucket, sums))
    if set(ids) == set(all_ids):  # one page holds the whole team: its series is the members' sum
        buckets: dict[Any, dict] = {}
        for key, sums in rows:
            add(buckets.setdefault(key[1], zero()), sums)
        team = [point(bucket, sums) for bucket, sums in sorted(buckets.items())]
    else:
        everyone = Slice(tenant_id=where.tenant_id, start=where.start, end=where.end, agent_ids=all_ids)
        team = [point(key[0], sums) for key, sums in sums_by(session, everyone, period=period)]
    return {
        "team_id": team_id,
        "period": period,
        "from": where.start,
        "to": where.end,
        "members": [{"agent_id": m.id, "name": m.name, "series": series[m.id]} for m in members],
        "team": team,
    }


def _pointer(period: str, metrics: Sequence[str]):
    """bucket, sums -> one series point with only the requested metrics (as kpi_row would)."""
    functions = [(m, METRIC_FUNCTIONS[m]) for m in metrics]
    labels: dict[Any, str] = {}

    flag = "aes" in metrics  # as /api/v1/metrics: an AES that fell back to AHT says so

    def point(bucket, sums) -> dict[str, Any]:
        label = labels.get(bucket)
        if label is None:
            label = labels[bucket] = period_label(bucket, period)
        values = {m: fn(sums) for m, fn in functions}
        if flag:
            values["aes_fallback"] = aes_from_sums(sums)["fallback"]
        return {"period": label, "period_start": bucket.isoformat(), "volume": sums["volume"],
                "metrics": values}

    return point
