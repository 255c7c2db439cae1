"""Trends panel: one KPI by day/week/month/quarter for an agent, team, queue or inquiry.

The rows are those of ``GET /api/v1/metrics`` for the same query (``kpi_rows`` over the
caller's scoped slice with the subject pinned), drawn as an ECharts line (``charts.js``) *and*
listed in a table with each row's volume (n) and a link to the interactions behind it. Weekly
agent and team series carry the 4-week forecast of ``/api/v1/forecasts`` as a band and as rows
marked "forecast".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, request
from flask_babel import format_date, format_decimal, format_percent, get_locale, gettext, lazy_gettext
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from extension.analytics.domain.kpis import METRICS, PERIODS, period_label
from extension.analytics.forecast import forecast_for
from extension.analytics.query import Slice, kpi_rows
from extension.platform import directory
from extension.platform.api.schemas import MAX_DAYS, Day
from extension.platform.auth import scope
from extension.platform.auth.permissions import ANALYTICS_READ, FORECASTS_READ, Principal
from extension.platform.db import get_db
from extension.platform.models.people import Person
from extension.platform.panels import Page, page
from extension.platform.problems import Problem

bp = Blueprint("analytics_panels_trends", __name__, template_folder="templates")

LEVELS = ("agent", "team", "queue", "inquiry")
# level -> the /api/v1/metrics dimension it pins
DIMS = {"agent": "agent_id", "team": "team_id", "queue": "queue_id", "inquiry": "inquiry"}
DEFAULT_DAYS = {"day": 30, "week": 26 * 7, "month": 365, "quarter": MAX_DAYS}
FORECAST_WEEKS = 26

METRIC_LABELS = {
    "aes": lazy_gettext("Agent effectiveness score (s)"),
    "aht_s": lazy_gettext("Average handle time (s)"),
    "talk_s": lazy_gettext("Average talk time (s)"),
    "hold_s": lazy_gettext("Average hold time (s)"),
    "acw_s": lazy_gettext("Average after-call work (s)"),
    "transfer_rate": lazy_gettext("Transfer rate"),
    "fcr_rate": lazy_gettext("First-contact resolution"),
    "csat": lazy_gettext("Customer satisfaction (1–5)"),
    "nps": lazy_gettext("Net promoter score"),
    "qa": lazy_gettext("Quality score (0–100)"),
    "customer_sentiment": lazy_gettext("Customer sentiment (−1 to 1)"),
    "agent_sentiment": lazy_gettext("Agent sentiment (−1 to 1)"),
}
PERIOD_LABELS = {"day": lazy_gettext("Day"), "week": lazy_gettext("Week"),
                 "month": lazy_gettext("Month"), "quarter": lazy_gettext("Quarter")}
LEVEL_LABELS = {"agent": lazy_gettext("Agent"), "team": lazy_gettext("Team"),
                "queue": lazy_gettext("Queue"), "inquiry": lazy_gettext("Inquiry")}
RATES = ("transfer_rate", "fcr_rate")


class TrendsQuery(Schema):
    metric = fields.String(validate=validate.OneOf(tuple(METRICS)), load_default="aes")
    period = fields.String(validate=validate.OneOf(PERIODS), load_default="week")
    level = fields.String(validate=validate.OneOf(LEVELS))
    id = fields.String(validate=validate.Length(min=1, max=200))
    start = Day(data_key="from")
    end = Day(data_key="to")


def parse_query(schema: type[Schema], names: dict[str, str] | None = None) -> dict:
    """The query string through ``schema``; a 400 page naming each bad parameter otherwise."""
    allowed = {f.data_key or n for n, f in schema().fields.items()}  # not the console's gc*
    try:
        return schema().load({k: v for k, v in request.args.items() if k in allowed and v != ""})
    except ValidationError as exc:
        raise bad_request(exc.messages) from exc


def bad_request(messages: Any) -> Problem:
    """A 400 whose detail names every parameter and what is wrong with it."""
    if isinstance(messages, dict):
        parts = [f"{name}: {' '.join(str(m) for m in (msgs if isinstance(msgs, list) else [msgs]))}"
                 for name, msgs in messages.items()]
    else:
        parts = [str(messages)]
    return Problem(400, "Bad Request", gettext("Invalid parameter – %(what)s", what="; ".join(parts)))


def problem_named(exc: Problem) -> Problem:
    """A service's 400 with ``errors`` turned into a detail that names the parameter."""
    if exc.status == 400 and exc.errors:
        return bad_request({e["field"]: e["message"] for e in exc.errors})
    return exc


def metric_value(metric: str, value: float | None) -> str:
    """A KPI as a person reads it, in the request's locale; a dash when there is none."""
    if value is None:
        return "–"
    if metric in RATES:
        # the locale's own pattern (German "29,4 %"), with one decimal
        pattern = get_locale().percent_formats[None].pattern  # e.g. "#,##0 %": one "0"
        return format_percent(value, format=pattern.replace("0", "0.0", 1))
    if metric.endswith("_s") or metric == "aes":
        return format_decimal(value, format="#,##0")
    return format_decimal(value, format="#,##0.00")


def today(p: Page) -> date:
    return datetime.now(ZoneInfo(p.timezone)).date()


def _range(p: Page, args: dict) -> tuple[date, date]:
    end = args.get("end") or today(p)
    start = args.get("start") or end - timedelta(days=DEFAULT_DAYS[args["period"]] - 1)
    if start > end:
        raise bad_request({"from": [gettext("Must not be after 'to'.")]})
    if (end - start).days >= MAX_DAYS:
        raise bad_request({"to": [gettext("The interval may span at most %(days)s days.", days=MAX_DAYS)]})
    return start, end


def _options(session, principal: Principal, level: str, where: Slice) -> list[tuple[str, str]]:
    """(id, label) the caller may pick at this level."""
    if level == "agent":
        query = scope.tenant_people(principal).order_by(Person.name, Person.id)
        visible = scope.visible_agent_ids(session, principal)
        if visible is not None:
            query = query.where(Person.id.in_(sorted(visible)))
        return [(person.id, person.name or person.id) for person in session.scalars(query)]
    if level == "team":
        teams = scope.visible_team_ids(session, principal)
        if teams is None:
            found = {p.team_id for p in session.scalars(scope.tenant_people(principal)) if p.team_id}
        else:
            found = set(teams)
        labels = team_labels(session, principal.tenant_id, found)
        return sorted(((team, labels[team]) for team in found), key=lambda o: o[1].lower())
    rows = kpi_rows(session, where, dims=(DIMS[level],))
    values = [row[DIMS[level]] for row in rows if row[DIMS[level]]]
    if level == "queue":
        names = directory.queue_names(session, principal.tenant_id, values)
        return sorted(((q, names.get(q) or q) for q in values), key=lambda o: o[1].lower())
    return [(value, value) for value in sorted(values)]


def team_labels(session, tenant_id: str, team_ids) -> dict[str, str]:
    """Teams have no synced name: "Team of <supervisor>" (their members' manager), else the id."""
    wanted = sorted({t for t in team_ids if t})
    people = list(session.scalars(select(Person).where(Person.tenant_id == tenant_id,
                                                       Person.team_id.in_(wanted)))) if wanted else []
    managers = {p.team_id: p.supervisor_id for p in people if p.supervisor_id and p.role == "agent"}
    names = {p.id: p.name for p in session.scalars(select(Person).where(
        Person.tenant_id == tenant_id, Person.id.in_(sorted(set(managers.values())))))} if managers else {}
    return {team: gettext("Team of %(name)s", name=names[managers[team]])
            if names.get(managers.get(team, "")) else team for team in wanted}


def _subject(session, principal: Principal, level: str, subject_id: str,
             options: list[tuple[str, str]]) -> list[str] | None:
    """Check the picked subject (404 unknown, 403 outside scope); agent ids for a forecast."""
    if level == "agent":
        return [scope.agent_or_404(session, principal, subject_id).id]
    if level == "team":
        return [person.id for person in scope.team_members_or_404(session, principal, subject_id)]
    if subject_id not in {value for value, _ in options}:
        raise Problem(404, "Not Found", gettext("No %(level)s %(id)s with interactions in this range.",
                                                level=str(LEVEL_LABELS[level]).lower(), id=subject_id))
    return None


@page(bp, "/trends", view="trends", permission=ANALYTICS_READ)
def trends(p: Page):
    args = parse_query(TrendsQuery)
    is_agent = p.principal.role == "agent"
    level = args.get("level") or ("agent" if is_agent else "team")
    if is_agent and level != "agent":
        raise Problem(403, "Forbidden", gettext("Agents see their own trends only."))
    metric, period = args["metric"], args["period"]
    start, end = _range(p, args)
    with get_db().session() as session:
        where = Slice(tenant_id=p.tenant_id, start=start, end=end,
                      agent_ids=scope.visible_agent_ids(session, p.principal))
        options = _own(session, p) if is_agent else _options(session, p.principal, level, where)
        subject_id = args.get("id") or _default(session, p, level, options)
        rows: list[dict] = []
        forecast: dict[str, Any] | None = None
        if subject_id is not None:
            agent_ids = _subject(session, p.principal, level, subject_id, options)
            pinned = Slice(tenant_id=p.tenant_id, start=start, end=end, agent_ids=where.agent_ids,
                           equals={DIMS[level]: subject_id})
            rows = kpi_rows(session, pinned, dims=(DIMS[level],), period=period)
            if period == "week" and agent_ids and p.principal.can(FORECASTS_READ):
                forecast = _forecast(session, p.tenant_id, agent_ids, metric=metric, end=end)
    drill = {level: subject_id, "from": start.isoformat(), "to": end.isoformat()}
    table = [_table_row(p, row, metric=metric, period=period, drill=drill) for row in rows]
    points = [_forecast_row(point, metric=metric) for point in (forecast or {}).get("points", [])]
    return p.render("analytics/panels/trends.html", block="results", title=gettext("Trends"),
                    metric=metric, period=period, level=level, subject_id=subject_id,
                    subject_label=dict(options).get(subject_id or "", subject_id), options=options,
                    start=start, end=end, metrics=METRIC_LABELS, periods=PERIOD_LABELS,
                    levels={k: v for k, v in LEVEL_LABELS.items() if not is_agent or k == "agent"},
                    rows=table, forecast=points, forecast_method=(forecast or {}).get("method"),
                    forecast_level=(forecast or {}).get("level"), chart=_chart(table, points, metric),
                    kept={k: request.args[k] for k in ("gcLangTag", "gcHostOrigin", "gcTargetEnv")
                          if request.args.get(k)})


def _own(session, p: Page) -> list[tuple[str, str]]:
    me = session.get(Person, (p.tenant_id, p.principal.person_id))
    return [(p.principal.person_id, (me.name if me else None) or p.principal.person_id)]


def _default(session, p: Page, level: str, options: list[tuple[str, str]]) -> str | None:
    """A supervisor's own team first, else the first choice."""
    if level == "team":
        me = session.get(Person, (p.tenant_id, p.principal.person_id))
        if me is not None and me.team_id in dict(options):
            return me.team_id
    return options[0][0] if options else None


def _forecast(session, tenant_id: str, agent_ids: list[str], *, metric: str, end: date) -> dict[str, Any]:
    """As /api/v1/forecasts: complete weeks of the subject's agents up to ``end``, 4 weeks on."""
    history_start = end - timedelta(days=end.weekday()) - timedelta(weeks=FORECAST_WEEKS)
    return forecast_for(session, Slice(tenant_id=tenant_id, start=history_start, end=end,
                                       agent_ids=agent_ids), metric=metric)


def _table_row(p: Page, row: dict, *, metric: str, period: str, drill: dict) -> dict:
    return {"period": row["period"], "period_start": row["period_start"],
            "starts": format_date(row["period_start"], format="medium"),
            "value": row[metric], "shown": metric_value(metric, row[metric]), "volume": row["volume"],
            "href": p.url("interactions", period=period, period_start=row["period_start"].isoformat(),
                          **drill)}


def _forecast_row(point: dict, *, metric: str) -> dict:
    return {"period": period_label(point["week"], "week"),
            "starts": format_date(point["week"], format="medium"),
            "value": point["value"], "lo": point["lo"], "hi": point["hi"],
            "shown": metric_value(metric, point["value"]), "lo_shown": metric_value(metric, point["lo"]),
            "hi_shown": metric_value(metric, point["hi"])}


def _chart(table: list[dict], points: list[dict], metric: str) -> dict[str, Any]:
    """What charts.js draws: measured values (with n and drill-down URLs), then the forecast,
    joined to the last measured point, and its band."""
    joined = [None] * (len(table) - 1) + [table[-1]["value"]] if table and points else [None] * len(table)
    return {
        "metric": str(METRIC_LABELS[metric]),
        "labels": [r["period"] for r in table] + [f["period"] for f in points],
        "values": [r["value"] for r in table] + [None] * len(points),
        "volumes": [r["volume"] for r in table], "urls": [r["href"] for r in table],
        "forecast": joined + [f["value"] for f in points] if points else [],
        "lo": [None] * len(table) + [f["lo"] for f in points],
        "hi": [None] * len(table) + [f["hi"] for f in points],
        "names": {"actual": gettext("Actual"), "forecast": gettext("Forecast"),
                  "band": gettext("Forecast range (low–high)"), "n": gettext("n")},
    }
