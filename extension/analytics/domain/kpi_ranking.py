"""How an agent stands against peers: quartile labels, inquiry impact, focus metric, team view.

Everything here is relative, so each function states who the peers are and how ties and tiny
peer groups are treated; a label that flips with record order would be worse than none.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from extension.analytics.domain.kpis import aes, group_records, kpi_summary, lower_is_better

__all__ = [
    "FOCUS_METRICS",
    "GOOD",
    "GREAT",
    "NEEDS_WORK",
    "compare_with_team",
    "focus_metric",
    "kpis_by_inquiry",
    "peer_kpis_by_inquiry",
    "quartile_label",
    "quartile_labels",
    "quartile_labels_by",
    "top_bottom_inquiries",
]

GREAT, GOOD, NEEDS_WORK = "Great", "Good", "Needs work"

# metrics an agent can act on; talk time is absent because long talk is not a fault by itself
FOCUS_METRICS = ("aht_s", "hold_s", "acw_s", "transfer_rate", "fcr_rate", "csat", "qa", "customer_sentiment")


def quartile_labels(
    values_by_agent: Mapping[Any, float | None], *, lower_is_better: bool = True
) -> dict[Any, str]:
    """Great (top quartile), Good (middle two), Needs work (bottom quartile) against all agents.

    Rank-based, with the benefit of the doubt at every edge. For an agent, let ``b`` be the
    number of agents strictly better and ``n`` the number of agents with a value:
    Great when ``b < n/4``, Needs work when ``b >= 3n/4``, Good otherwise. Tied agents share
    ``b`` and so share a label, the better one when a tie straddles a quartile edge; with
    n = 5 the top two are Great (20 % are better than the second) and only the last is Needs
    work. When all values are equal, a single agent included, nobody stands out: all Good.
    Agents whose value is None (no data) are not compared and get no label.
    """
    scored = {agent: v for agent, v in values_by_agent.items() if v is not None}
    ascending = sorted(scored.values())
    direction = lower_is_better
    return {agent: quartile_label(v, ascending, lower_is_better=direction) for agent, v in scored.items()}


def quartile_label(value: float, ascending: Sequence[float], *, lower_is_better: bool = True) -> str:
    """One agent's :func:`quartile_labels` label: ``ascending`` holds every agent's value (the
    agent's own included), sorted. O(log n), for callers that keep the sorted values around."""
    n = len(ascending)
    if n == 0 or ascending[0] == ascending[-1]:
        return GOOD
    better = bisect_left(ascending, value) if lower_is_better else n - bisect_right(ascending, value)
    return _quartile(better, n)


def _quartile(better: int, n: int) -> str:
    if 4 * better < n:  # integer arithmetic: no float fuzz at the edges
        return GREAT
    if 4 * better >= 3 * n:
        return NEEDS_WORK
    return GOOD


def quartile_labels_by(
    records: Iterable[Any], *, metric: str = "aes", by: tuple[str, ...] = ("inquiry", "channel")
) -> dict[tuple[Any, ...], dict[Any, str]]:
    """Quartile labels of ``metric`` per cell of ``by`` (default inquiry x channel).

    Within a cell each agent's value is :func:`kpi_summary` over the agent's records there, so
    email (AES falls back to AHT) is only ever compared with email.
    """
    direction = lower_is_better(metric)
    cells: dict[tuple[Any, ...], dict[Any, float | None]] = {}
    for key, recs in group_records(records, dims=(*by, "agent_id")).items():
        cells.setdefault(key[:-2], {})[key[-2]] = kpi_summary(recs)[metric]
    return {cell: quartile_labels(values, lower_is_better=direction) for cell, values in cells.items()}


def top_bottom_inquiries(
    agent_records: Iterable[Any], peer_records: Iterable[Any], *, n: int = 3
) -> dict[str, list[dict[str, Any]]]:
    """The agent's inquiries that help (top) and hurt (bottom) their AES most.

    Impact of inquiry i = sum over its channels c of ``(AES_agent(i,c) - AES_peers(i,c)) *
    volume_agent(i,c) / volume_agent``: the volume-weighted difference from the peer average,
    in AES seconds. Comparing per channel keeps email (AHT fallback) apart from scored voice.
    AES_peers pools the peers' records of the cell (interaction-weighted); the caller chooses
    the peers (normally all other agents). A cell is skipped when either side has no AES or
    one side is scored and the other fell back to AHT. Negative impact helps (lower is better):
    ``top`` = up to n most negative, ``bottom`` = up to n most positive; zero is in neither.
    Ties are ordered by inquiry.
    """
    agent_records = list(agent_records)
    peers = group_records(peer_records, dims=("inquiry", "channel"))
    total = len(agent_records)
    impacts: dict[Any, dict[str, Any]] = {}
    for (inquiry, channel, _), recs in group_records(agent_records, dims=("inquiry", "channel")).items():
        mine, theirs = aes(recs), aes(peers.get((inquiry, channel, None), []))
        row = impacts.setdefault(
            inquiry, {"inquiry": inquiry, "impact": 0.0, "volume": 0, "fallback": None, "compared": False}
        )
        row["volume"] += len(recs)
        if mine["value"] is None or theirs["value"] is None:
            continue
        if mine["fallback"] != theirs["fallback"]:
            continue
        row["impact"] += (mine["value"] - theirs["value"]) * len(recs) / total
        row["compared"] = True
        row["fallback"] = row["fallback"] or mine["fallback"]
    rows = [r for r in impacts.values() if r.pop("compared")]
    ordered = sorted(rows, key=lambda r: (r["impact"], r["inquiry"]))
    top = [r for r in ordered if r["impact"] < 0][:n]
    bottom = sorted((r for r in rows if r["impact"] > 0), key=lambda r: (-r["impact"], r["inquiry"]))[:n]
    return {"top": top, "bottom": bottom}


def kpis_by_inquiry(records: Iterable[Any]) -> dict[Any, dict[str, Any]]:
    """One agent's :func:`kpi_summary` per inquiry."""
    return {key[0]: kpi_summary(recs) for key, recs in group_records(records, dims=("inquiry",)).items()}


def peer_kpis_by_inquiry(records: Iterable[Any]) -> dict[Any, list[dict[str, Any]]]:
    """Per inquiry, one :func:`kpi_summary` per peer agent (the spread focus_metric needs)."""
    result: dict[Any, list[dict[str, Any]]] = {}
    for key, recs in group_records(records, dims=("inquiry", "agent_id")).items():
        result.setdefault(key[0], []).append(kpi_summary(recs))
    return result


def focus_metric(
    agent_inquiry_kpis: Mapping[Any, Mapping[str, Any]],
    peer_inquiry_kpis: Mapping[Any, Sequence[Mapping[str, Any]]],
    *,
    metrics: tuple[str, ...] = FOCUS_METRICS,
) -> dict[Any, dict[str, Any] | None]:
    """Per inquiry, the metric where the agent trails peers most, in peer standard deviations.

    Gap = ``(agent - mean) / std`` over the peer agents' values (population std), signed so
    that positive means worse than peers. The focus is the metric with the largest positive
    gap; None when the agent is nowhere worse. A metric is skipped without an agent value,
    with fewer than two peer values, or when peers do not vary (std 0). Ties go to the
    earlier metric in ``metrics``.
    """
    return {
        inquiry: _focus(kpis, peer_inquiry_kpis.get(inquiry, []), metrics)
        for inquiry, kpis in agent_inquiry_kpis.items()
    }


def _focus(
    kpis: Mapping[str, Any], peers: Sequence[Mapping[str, Any]], metrics: tuple[str, ...]
) -> dict[str, Any] | None:
    best: dict[str, Any] | None = None
    for metric in metrics:
        gap = _standardized_gap(
            kpis.get(metric), [p.get(metric) for p in peers], lower=lower_is_better(metric)
        )
        if gap is not None and gap[0] > 0 and (best is None or gap[0] > best["gap"]):
            best = {"metric": metric, "gap": gap[0], "agent": kpis[metric], "peer_mean": gap[1]}
    return best


def _standardized_gap(
    value: float | None, peer_values: list[float | None], *, lower: bool
) -> tuple[float, float] | None:
    values = [v for v in peer_values if v is not None]
    if value is None or len(values) < 2:
        return None
    mean = math.fsum(values) / len(values)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))
    if std == 0:
        return None
    gap = (value - mean) / std
    return (gap if lower else -gap), mean


def compare_with_team(
    agent_id: Any, team_records: Iterable[Any], *, metrics: tuple[str, ...] = ("aes", *FOCUS_METRICS)
) -> dict[str, dict[str, Any]]:
    """The agent against the team average and the team's top agent, per metric.

    Team average = mean of the team's agents' values (each agent counts once: the "average
    agent", not the interaction-weighted team figure). Top agent = the best value in the
    metric's direction; ties go to the smallest agent id. Agents without a value are ignored.
    """
    per_agent = {
        key[0]: kpi_summary(recs) for key, recs in group_records(team_records, dims=("agent_id",)).items()
    }
    return {metric: _compare(agent_id, per_agent, metric) for metric in metrics}


def _compare(agent_id: Any, per_agent: Mapping[Any, Mapping[str, Any]], metric: str) -> dict[str, Any]:
    values = {a: s[metric] for a, s in per_agent.items() if s[metric] is not None}
    sign = 1 if lower_is_better(metric) else -1
    top = min(values, key=lambda a: (sign * values[a], a)) if values else None
    return {
        "agent": per_agent.get(agent_id, {}).get(metric),
        "team_average": math.fsum(values.values()) / len(values) if values else None,
        "top_agent": top,
        "top_value": values.get(top),
    }
