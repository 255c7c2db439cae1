"""An agent against peers, from rollup sums: quartile labels, inquiry impact, focus, team view.

The labels, focus metric and team comparison call the domain functions on per-agent KPI
summaries; only the inquiry impact is restated over sums, because the domain version takes
records. Its definition is :func:`extension.analytics.domain.kpi_ranking.top_bottom_inquiries` and the
integration tests check both agree on generated data.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy.orm import Session

from extension.analytics.domain import kpi_ranking
from extension.analytics.domain.kpis import lower_is_better
from extension.analytics.query import Slice, sums_by
from extension.analytics.sums import add, aes_from_sums, summary_from_sums, zero

_TIE_DIGITS = 9
Cells = dict[tuple, dict[Any, dict]]  # (inquiry, channel) -> agent -> sums


def cell_sums(session: Session, where: Slice) -> Cells:
    """Per (inquiry, channel) cell, each agent's summed vector over the slice."""
    cells: Cells = {}
    for (inquiry, channel, agent), sums in sums_by(session, where, dims=("inquiry", "channel", "agent_id")):
        cells.setdefault((inquiry, channel), {})[agent] = sums
    return cells


def quartiles(cells: Cells, agent_id: str, *, metric: str = "aes") -> list[dict[str, Any]]:
    """The agent's label in every cell they worked, against all agents of that cell."""
    direction = lower_is_better(metric)
    labels = []
    for (inquiry, channel), per_agent in cells.items():
        if agent_id not in per_agent:
            continue
        values = {agent: summary_from_sums(s)[metric] for agent, s in per_agent.items()}
        # the database adds floats in its own order, so equal agents can differ in the last bit;
        # rounding far below any meaningful difference keeps ties tied, as the domain rule wants
        rounded = {agent: None if v is None else round(v, _TIE_DIGITS) for agent, v in values.items()}
        label = kpi_ranking.quartile_labels(rounded, lower_is_better=direction).get(agent_id)
        labels.append({"inquiry": inquiry, "channel": channel, "metric": metric,
                       "value": values[agent_id], "label": label, "agents": len(values),
                       "volume": per_agent[agent_id]["volume"]})
    return labels


def top_bottom(cells: Cells, agent_id: str, *, n: int = 3) -> dict[str, list[dict[str, Any]]]:
    """kpi_ranking.top_bottom_inquiries with every other agent as the peers, from sums."""
    mine = {cell: agents[agent_id] for cell, agents in cells.items() if agent_id in agents}
    total = sum(s["volume"] for s in mine.values())
    impacts: dict[Any, dict[str, Any]] = {}
    for (inquiry, channel), sums in mine.items():
        peers = zero()
        for agent, other in cells[(inquiry, channel)].items():
            if agent != agent_id:
                add(peers, other)
        row = impacts.setdefault(inquiry, {"inquiry": inquiry, "impact": 0.0, "volume": 0,
                                           "fallback": None, "compared": False})
        row["volume"] += sums["volume"]
        own, theirs = aes_from_sums(sums), aes_from_sums(peers)
        if own["value"] is None or theirs["value"] is None or own["fallback"] != theirs["fallback"]:
            continue
        row["impact"] += (own["value"] - theirs["value"]) * sums["volume"] / total
        row["compared"] = True
        row["fallback"] = row["fallback"] or own["fallback"]
    rows = [r for r in impacts.values() if r.pop("compared")]
    ordered = sorted(rows, key=lambda r: (r["impact"], _text(r["inquiry"])))
    top = [r for r in ordered if r["impact"] < 0][:n]
    bottom = sorted((r for r in rows if r["impact"] > 0), key=lambda r: (-r["impact"], _text(r["inquiry"])))
    return {"top": top, "bottom": bottom[:n]}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def focus(cells: Cells, agent_id: str) -> dict[Any, dict | None]:
    """Per inquiry, the metric the agent trails peers on most (domain focus_metric)."""
    per_inquiry: dict[Any, dict[Any, dict]] = {}
    for (inquiry, _channel), agents in cells.items():
        for agent, sums in agents.items():
            add(per_inquiry.setdefault(inquiry, {}).setdefault(agent, zero()), sums)
    mine = {inq: summary_from_sums(a[agent_id]) for inq, a in per_inquiry.items() if agent_id in a}
    peers = {inq: [summary_from_sums(s) for agent, s in a.items() if agent != agent_id]
             for inq, a in per_inquiry.items()}
    return kpi_ranking.focus_metric(mine, peers)


def compare_with_team(session: Session, where: Slice, agent_id: str, *,
                      members: Collection[str]) -> dict[str, dict]:
    """The agent against the team average and top agent (domain definitions), per metric."""
    team = Slice(tenant_id=where.tenant_id, start=where.start, end=where.end, agent_ids=members)
    per_agent = {key[0]: summary_from_sums(s) for key, s in sums_by(session, team, dims=("agent_id",))}
    metrics = ("aes", *kpi_ranking.FOCUS_METRICS)
    # _compare is the domain's per-metric rule over per-agent summaries, which is what we hold
    return {metric: kpi_ranking._compare(agent_id, per_agent, metric) for metric in metrics}


def by_inquiry(cells: Cells, agent_id: str) -> list[dict[str, Any]]:
    """The agent's KPIs per inquiry (all channels)."""
    totals: dict[Any, dict] = {}
    for (inquiry, _channel), agents in cells.items():
        if agent_id in agents:
            add(totals.setdefault(inquiry, zero()), agents[agent_id])
    return [{"inquiry": inquiry, **summary_from_sums(sums)} for inquiry, sums in totals.items()]
