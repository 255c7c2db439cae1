"""Analytics panel pages: an agent's overview (supervisors and up), my performance (the signed-in
agent's own, same template) and one inquiry's details.

Every figure comes from :func:`extension.analytics.performance.agent_performance` over the
process's PeerCache snapshot, exactly as ``GET /api/v1/agents/<id>/performance`` computes it,
so the page and the API agree. An agent in another team (or, for an agent, anyone but
themselves) is "not found": the page does not confirm that the person exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import numpy as np
from flask import Blueprint, current_app, request
from flask_babel import lazy_gettext
from sqlalchemy import or_, select

from extension.analytics import performance, snapshots
from extension.analytics.domain import kpi_ranking
from extension.analytics.domain.kpis import lower_is_better
from extension.analytics.models.facts import InteractionFact
from extension.analytics.query import Slice
from extension.analytics.sums import summary_from_sums
from extension.platform import errors as domain_errors
from extension.platform.auth import scope
from extension.platform.auth.permissions import ANALYTICS_READ, COACHING_WRITE
from extension.platform.db import get_db
from extension.platform.panels import Page, page
from extension.platform.problems import Problem

bp = Blueprint("analytics_panels_performance", __name__, template_folder="templates")

TEMPLATE = "analytics/panels/performance.html"
INQUIRY_TEMPLATE = "analytics/panels/performance_inquiry.html"
# range key -> local days ending today; "custom" is any from/to
# the ranges the worker precomputes peer snapshots for (analytics.snapshots.STANDARD_DAYS), so a
# page's default never sums a tenant's peers in the request
RANGES = {"3m": 90, "month": 30, "week": 7, "24h": 1}
assert set(RANGES.values()) <= set(snapshots.STANDARD_DAYS), "a page range the worker does not precompute"
RANGE_LABELS = {"3m": lazy_gettext("Last 3 months"), "month": lazy_gettext("Last month"),
                "week": lazy_gettext("Last week"), "24h": lazy_gettext("Last 24 hours (today)"),
                "custom": lazy_gettext("Custom")}
MODELS = {"aes": lazy_gettext("Agent Effectiveness Score (AES)")}
NO_INQUIRY = "_none"  # the path segment of interactions without a wrap-up (inquiry None)
# metric -> (label, kind, count column of the sums behind it: its sample size)
METRICS: dict[str, tuple[Any, str, str]] = {
    "aes": (lazy_gettext("AES (seconds against expected)"), "seconds", "volume"),
    "aht_s": (lazy_gettext("Average handle time"), "seconds", "timed"),
    "hold_s": (lazy_gettext("Average hold"), "seconds", "hold_n"),
    "acw_s": (lazy_gettext("After-call work"), "seconds", "acw_n"),
    "transfer_rate": (lazy_gettext("Transfer rate"), "rate", "transfer_n"),
    "fcr_rate": (lazy_gettext("First-contact resolution"), "rate", "fcr_n"),
    "csat": (lazy_gettext("Customer satisfaction (1-5)"), "score", "csat_n"),
    "qa": (lazy_gettext("Quality score (0-100)"), "score", "qa_n"),
    "customer_sentiment": (lazy_gettext("Customer sentiment (-1 to 1)"), "score", "csent_n"),
}
INQUIRY_SORTS = ("inquiry", "volume", *METRICS)
_TIE_DIGITS = 9  # as the peer snapshot: sums differ in the last bit between engines


@dataclass(frozen=True)
class Range:
    key: str
    start: date
    end: date

    def params(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def _day(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Problem(400, "Bad Request",
                      f"Invalid query parameter '{name}': {raw!r} is not a date (YYYY-MM-DD).") from None


def choice(name: str, allowed, default: str) -> str:
    """A query parameter that must be one of ``allowed`` (400 naming it otherwise)."""
    value = request.args.get(name) or default
    if value not in allowed:
        raise Problem(400, "Bad Request",
                      f"Invalid query parameter '{name}': {value!r} is not one of {', '.join(allowed)}.")
    return value


def page_range(p: Page) -> Range:
    """The page's interval in tenant-local days: ``from``/``to`` (custom), else ``range``
    (3 months by default) ending today in the tenant's time zone."""
    start, end = _day("from"), _day("to")
    key = choice("range", (*RANGES, "custom"), "custom" if start or end else "3m")
    today = datetime.now(ZoneInfo(p.timezone)).date()
    if key == "custom":
        end = end or today
        start = start or end - timedelta(days=RANGES["3m"] - 1)
    else:
        end, start = today, today - timedelta(days=RANGES[key] - 1)
    if start > end:
        raise Problem(400, "Bad Request", "Invalid query parameter 'from': it is after 'to'.")
    if (end - start).days > 366:
        raise Problem(400, "Bad Request", "Invalid query parameter 'from': at most one year before 'to'.")
    return Range(key, start, end)


def peers_for(session, p: Page, where: Range):
    return current_app.extensions["coachwire.peers"].get(session, tenant_id=p.tenant_id,
                                                         start=where.start, end=where.end)


def agent_in_scope(session, p: Page, agent_id: str):
    """scope.agent_or_404, with "outside your scope" answered as not found on a page."""
    try:
        return scope.agent_or_404(session, p.principal, agent_id)
    except domain_errors.Forbidden:
        raise domain_errors.NotFound(f"No agent {agent_id!r}.") from None


# ---- pages ---------------------------------------------------------------------------------

@page(bp, "/agents/<agent_id>", view="agents", permission=ANALYTICS_READ)
def agent_overview(p: Page, agent_id: str):
    return _overview(p, agent_id, base=f"agents/{agent_id}")


@page(bp, "/my-performance", view="my-performance", permission=ANALYTICS_READ)
def my_performance(p: Page):
    return _overview(p, p.principal.person_id, base="my-performance")


@page(bp, "/agents/<agent_id>/inquiries/<path:inquiry>", view="agents", permission=ANALYTICS_READ)
def agent_inquiry(p: Page, agent_id: str, inquiry: str):
    return _inquiry(p, agent_id, inquiry, base=f"agents/{agent_id}")


@page(bp, "/my-performance/inquiries/<path:inquiry>", view="my-performance", permission=ANALYTICS_READ)
def my_inquiry(p: Page, inquiry: str):
    return _inquiry(p, p.principal.person_id, inquiry, base="my-performance")


def _overview(p: Page, agent_id: str, *, base: str):
    where = page_range(p)
    model = choice("model", tuple(MODELS), "aes")
    sort = choice("sort", INQUIRY_SORTS, "volume")
    direction = choice("dir", ("asc", "desc"), "desc" if sort == "volume" else "asc")
    with get_db().session() as session:
        agent = agent_in_scope(session, p, agent_id)
        peers = peers_for(session, p, where)
        body = performance.agent_performance(
            session, Slice(tenant_id=p.tenant_id, start=where.start, end=where.end),
            agent=agent, peers=peers)
        sums = peers.agent_total(agent.id)
    channels = sorted({q["channel"] or "" for q in body["quartiles"]})
    channel = choice("channel", ("", *channels), "")
    links = Links(p, agent_id=agent.id, where=where, base=base)
    labels = [q for q in body["quartiles"] if not channel or (q["channel"] or "") == channel]
    ctx = {
        "title": agent.name if base != "my-performance" else str(lazy_gettext("My performance")),
        "agent": agent, "body": body, "where": where, "model": model, "models": MODELS,
        "ranges": RANGE_LABELS, "channel": channel, "channels": channels, "links": links,
        "headline": metric_rows(body["kpis"], sums, body["team"]),
        "labels_by_inquiry": _group(labels),
        "inquiries": sort_inquiries(body["inquiries"], sort=sort, direction=direction),
        "sort": sort, "dir": direction, "metrics": METRICS,
        "columns": [("inquiry", lazy_gettext("Inquiry")), ("volume", lazy_gettext("Volume")),
                    *((key, spec[0]) for key, spec in METRICS.items())],
        "plan_url": (p.url(f"agents/{agent.id}/plan") if p.principal.can(COACHING_WRITE)
                     and p.principal.person_id != agent.id else None),
        "self_url": p.url(base, channel=channel or None, sort=sort, dir=direction, model=model,
                          **_range_params(where)),
    }
    return p.render(TEMPLATE, block="results", **ctx)


def _range_params(where: Range) -> dict[str, str]:
    return {"range": where.key} if where.key != "custom" else where.params()


def _group(labels: list[dict]) -> dict[Any, list[dict]]:
    grouped: dict[Any, list[dict]] = {}
    for row in labels:
        grouped.setdefault(row["inquiry"], []).append(row)
    return grouped


def sort_inquiries(rows: list[dict], *, sort: str, direction: str) -> list[dict]:
    """Rows ordered by ``sort``; rows without a value always last, ties by inquiry name."""
    present = [r for r in rows if r.get(sort) is not None]
    missing = [r for r in rows if r.get(sort) is None]
    present.sort(key=lambda r: str(r["inquiry"] or ""))
    present.sort(key=lambda r: r[sort] if sort != "inquiry" else str(r[sort]), reverse=direction == "desc")
    missing.sort(key=lambda r: str(r["inquiry"] or ""))
    return present + missing


def metric_rows(kpis: dict, sums: dict, team: dict) -> list[dict]:
    """One row per metric: the agent's value and sample size, the team average, the top value."""
    rows = []
    for metric, (label, kind, count) in METRICS.items():
        compared = team.get(metric) or {}
        rows.append({"metric": metric, "label": label, "kind": kind, "value": kpis.get(metric),
                     "n": sums.get(count, 0), "team_average": compared.get("team_average"),
                     "top_value": compared.get("top_value"), "lower": lower_is_better(metric)})
    return rows


class Links:
    """The drill-down and page links of one agent and interval."""

    def __init__(self, p: Page, *, agent_id: str, where: Range, base: str) -> None:
        self.p, self.agent_id, self.where, self.base = p, agent_id, where, base

    def interactions(self, inquiry: Any = "", channel: str | None = None) -> str:
        cell: dict[str, Any] = {"agent": self.agent_id, "channel": channel or None}
        if inquiry is None:
            cell["null"] = "inquiry"
        elif inquiry != "":
            cell["inquiry"] = inquiry
        return self.p.url("interactions", **cell, **self.where.params())

    def inquiry(self, inquiry: Any) -> str:
        segment = NO_INQUIRY if inquiry is None else quote(str(inquiry), safe="")
        return self.p.url(f"{self.base}/inquiries/{segment}", **_range_params(self.where))

    def page(self, **params: Any) -> str:
        """This page with the current choices, ``params`` overriding them."""
        state: dict[str, Any] = {k: request.args.get(k) for k in ("channel", "model", "sort", "dir")}
        state.update(_range_params(self.where))
        state.update(params)
        return self.p.url(self.base, **state)


# ---- inquiry details -----------------------------------------------------------------------

def _inquiry(p: Page, agent_id: str, segment: str, *, base: str):
    where = page_range(p)
    inquiry = None if segment == NO_INQUIRY else segment
    with get_db().session() as session:
        agent = agent_in_scope(session, p, agent_id)
        peers = peers_for(session, p, where)
        body = performance.agent_performance(
            session, Slice(tenant_id=p.tenant_id, start=where.start, end=where.end),
            agent=agent, peers=peers)
        row = next((r for r in body["inquiries"] if r["inquiry"] == inquiry), None)
        if row is None:
            raise domain_errors.NotFound(f"No interactions of this agent for inquiry {segment!r} "
                                         "in the interval.")
        members = (performance.team_member_ids(session, tenant_id=p.tenant_id, team_id=agent.team_id)
                   if agent.team_id else [agent.id])
        examples = recent_examples(session, p, agent_id=agent.id, inquiry=inquiry, where=where)
    entry = peers.inquiries[inquiry]
    sums = entry.block.sums(agent.id) or {}
    links = Links(p, agent_id=agent.id, where=where, base=base)
    ctx = {"title": inquiry_title(inquiry), "agent": agent, "where": where, "links": links,
           "inquiry": inquiry, "row": row, "focus": row.get("focus"),
           "metrics": inquiry_metrics(entry, agent.id, members=members, kpis=row, sums=sums),
           "labels": [q for q in body["quartiles"] if q["inquiry"] == inquiry],
           "examples": examples, "back_url": links.page(),
           "metrics_by_key": {k: v[0] for k, v in METRICS.items()},
           "kinds": {k: v[1] for k, v in METRICS.items()},
           "self_url": links.inquiry(inquiry)}
    return p.render(INQUIRY_TEMPLATE, block="results", **ctx)


def inquiry_title(inquiry: Any) -> str:
    return str(lazy_gettext("No wrap-up")) if inquiry is None else str(inquiry)


def inquiry_metrics(entry, agent_id: str, *, members: list[str], kpis: dict, sums: dict) -> list[dict]:
    """Per metric in this inquiry: the agent's value and n, the label against every agent of
    the inquiry (kpi_ranking.quartile_label over the snapshot's per-agent arrays; AES is
    labelled per channel instead), the team average and the top value (the domain's team
    comparison over the members' vectors in this inquiry)."""
    per_agent = {a: summary_from_sums(s) for a in members if (s := entry.block.sums(a)) is not None}
    rows = []
    for metric, (label, kind, count) in METRICS.items():
        rank, agents = _rank(entry, agent_id, metric)
        compared = kpi_ranking._compare(agent_id, per_agent, metric)
        rows.append({"metric": metric, "label": label, "kind": kind, "value": kpis.get(metric),
                     "n": sums.get(count, 0), "rank": rank, "agents": agents,
                     "team_average": compared.get("team_average"), "top_value": compared.get("top_value"),
                     "team_n": len(per_agent), "lower": lower_is_better(metric)})
    return rows


def _rank(entry, agent_id: str, metric: str) -> tuple[str | None, int | None]:
    values = entry.metrics.get(metric)
    if values is None:
        return None, None
    present = values[~np.isnan(values)]
    i = entry.block.rows.get(agent_id)
    if i is None or np.isnan(values[i]):
        return None, len(present)
    ascending = sorted(round(float(v), _TIE_DIGITS) for v in present)
    label = kpi_ranking.quartile_label(round(float(values[i]), _TIE_DIGITS), ascending,
                                       lower_is_better=lower_is_better(metric))
    return label, len(present)


def recent_examples(session, p: Page, *, agent_id: str, inquiry: Any, where: Range) -> list[dict]:
    """The agent's last 10 interactions of the inquiry in the interval (already in scope)."""
    f = InteractionFact.__table__.c
    query = select(f.conversation_id, f.channel, f.ended_at, f.t_handle_ms, f.t_hold_ms, f.t_acw_ms,
                   f.transferred, f.fcr, f.csat, f.qa_score, f.customer_sentiment).where(
        f.tenant_id == p.tenant_id, f.agent_id == agent_id,
        f.local_day >= where.start, f.local_day <= where.end)
    if inquiry is None:
        query = query.where(or_(f.inquiry.is_(None), f.inquiry == ""))
    else:
        query = query.where(f.inquiry == inquiry)
    rows = session.execute(query.order_by(f.ended_at.desc(), f.conversation_id.desc()).limit(10))
    return [dict(r._mapping) for r in rows]
