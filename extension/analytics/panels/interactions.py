"""Drill-down panel: the interactions behind a number, exactly the rows ``GET /api/v1/interactions``
returns for the same parameters (the same service, :mod:`extension.analytics.drilldown`), with
the filters in words, the count, and "More" (the next cursor page, swapped in by htmx)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask_babel import format_date, format_datetime, format_decimal, gettext
from sqlalchemy import select

from extension.analytics import drilldown
from extension.analytics.api import schemas
from extension.analytics.domain.kpis import period_label
from extension.analytics.panels.trends import (
    LEVEL_LABELS,
    PERIOD_LABELS,
    parse_query,
    problem_named,
    team_labels,
)
from extension.platform import directory
from extension.platform.auth.permissions import ANALYTICS_READ
from extension.platform.db import get_db
from extension.platform.models.people import Person
from extension.platform.panels import Page, page
from extension.platform.problems import Problem

bp = Blueprint("analytics_panels_interactions", __name__, template_folder="templates")

PAGE_SIZE = 25
COLUMNS = ("conversation_id", "agent_id", "team_id", "queue_id", "inquiry", "channel", "ended_at",
           "local_day", "t_handle_ms", "transferred", "fcr", "csat")
PASSED = ("agent", "team", "queue", "inquiry", "channel", "null", "period", "period_start")


@page(bp, "/interactions", view="interactions", permission=ANALYTICS_READ)
def interactions(p: Page):
    args = parse_query(schemas.InteractionsQuery)
    if not request.args.get("limit"):
        args["limit"] = PAGE_SIZE
    with get_db().session() as session:
        try:
            body = drilldown.list_interactions(session, p.principal, args, COLUMNS)
            count = drilldown.count_interactions(session, p.principal, args)
        except Problem as exc:
            raise problem_named(exc) from exc
        agents = _names(session, p.tenant_id, {i["agent_id"] for i in body["items"]} | {args.get("agent")})
        teams = team_labels(session, p.tenant_id, [args.get("team")])
        queues = directory.queue_names(session, p.tenant_id,
                                       [i["queue_id"] for i in body["items"]] + [args.get("queue")])
    rows = [_row(p, item, agents, queues) for item in body["items"]]
    base = {name: _param(args[name]) for name in PASSED if args.get(name)}
    base.update({"from": body["from"].isoformat(), "to": body["to"].isoformat()})
    more = (p.url("interactions", cursor=body["next_cursor"], limit=args["limit"], **base)
            if body["next_cursor"] else None)
    return p.render("analytics/panels/interactions.html", block="page_rows",
                    title=gettext("Interactions"), rows=rows, count=count, more=more,
                    summary=_summary(args, body, agents, queues, teams))


def _param(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ",".join(value)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _names(session, tenant_id: str, ids: set[str | None]) -> dict[str, str]:
    wanted = sorted(i for i in ids if i)
    if not wanted:
        return {}
    return {person.id: person.name or person.id for person in session.scalars(
        select(Person).where(Person.tenant_id == tenant_id, Person.id.in_(wanted)))}


def _row(p: Page, item: dict, agents: dict, queues: dict) -> dict:
    handle = item["t_handle_ms"]
    return {
        "id": item["conversation_id"],
        "ended": format_datetime(item["ended_at"], format="short"),
        "agent": agents.get(item["agent_id"] or "", item["agent_id"] or "–"),
        "queue": queues.get(item["queue_id"] or "", item["queue_id"] or "–"),
        "inquiry": item["inquiry"] or "–", "channel": item["channel"] or "–",
        "handle": "–" if handle is None else format_decimal(handle / 1000, format="#,##0"),
        "transferred": _yes_no(item["transferred"]), "fcr": _yes_no(item["fcr"]),
        "csat": "–" if item["csat"] is None else format_decimal(item["csat"], format="0.#"),
        "href": p.url(f"interactions/{item['conversation_id']}"),
    }


def _yes_no(value: bool | None) -> str:
    if value is None:
        return "–"
    return gettext("yes") if value else gettext("no")


def _summary(args: dict, body: dict, agents: dict, queues: dict,
             teams: dict) -> list[tuple[str, str]]:
    """The filters in words: (what, value)."""
    parts: list[tuple[str, str]] = []
    if args.get("agent"):
        parts.append((str(LEVEL_LABELS["agent"]), agents.get(args["agent"], args["agent"])))
    if args.get("team"):
        parts.append((str(LEVEL_LABELS["team"]), teams.get(args["team"], args["team"])))
    if args.get("queue"):
        parts.append((str(LEVEL_LABELS["queue"]), queues.get(args["queue"], args["queue"])))
    if args.get("inquiry"):
        parts.append((str(LEVEL_LABELS["inquiry"]), args["inquiry"]))
    if args.get("channel"):
        parts.append((gettext("Channel"), args["channel"]))
    for name in args.get("null") or ():
        label = LEVEL_LABELS[name] if name in LEVEL_LABELS else gettext("Channel")
        parts.append((str(label), gettext("none")))
    if args.get("period_start"):
        start = format_date(args["period_start"], format="medium")
        parts.append((str(PERIOD_LABELS[args["period"]]),
                      f"{period_label(args['period_start'], args['period'])} ({start})"))
    parts.append((gettext("Dates"), f"{format_date(body['from'], format='medium')} – "
                                    f"{format_date(body['to'], format='medium')}"))
    return parts
