"""The supervisor's team home: ``/t/<tenant>/panels/home``.

One page, seven sections, each from the services the API already uses (never recomputed here):
the contact-centre strip and the per-agent table sum the daily rollups (``analytics.query``),
coaching required reads the flags and the peer snapshot (``analytics.peers``, as
``/api/v1/agents/<id>/performance``), the alert inbox is ``analytics.api.alerts``' scope and
actions, appointments come from the audit trail ``coaching.automation``/``booking`` write,
recognitions from their table, the sentiment heat map from the interaction facts (summed per
UTC hour in the database, placed on the tenant's local weekday and hour here).

Who sees what: a supervisor their teams (``scope.visible_agent_ids``), a manager, QA analyst or
admin the whole tenant (rows per team) or one team (rows per agent) through the team selector;
an agent is sent to their own page. The query string (``range``, ``to``, ``team``) is the whole
state, so every view has a URL; htmx swaps only the sections block and pushes that URL.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import NumberPattern, parse_pattern
from flask import Blueprint, current_app, redirect, request
from flask_babel import format_date, format_datetime, get_locale, gettext, lazy_gettext
from sqlalchemy import and_, case, func, or_, select

from extension.analytics import alert_inbox, snapshots
from extension.analytics.domain import kpi_ranking
from extension.analytics.domain.kpis import lower_is_better
from extension.analytics.models.facts import InteractionFact, PerformanceAlert
from extension.analytics.query import Slice, sums_by, total
from extension.analytics.sums import METRIC_FUNCTIONS, add, aes_from_sums, zero
from extension.coaching.models import Appointment, Flag, Recognition
from extension.platform.auth import scope
from extension.platform.auth.permissions import ALERTS_WRITE, ANALYTICS_READ
from extension.platform.db import get_db
from extension.platform.models.audit import AuditEntry
from extension.platform.models.directory import Group
from extension.platform.models.people import Person
from extension.platform.panels import Page, page
from extension.platform.problems import Problem

bp = Blueprint("coaching_panels_home", __name__, template_folder="templates")

TEMPLATE = "coaching/panels/home.html"
ALERT_TEMPLATE = "coaching/panels/home_alert.html"
# range key -> (days, label); the default is the last 30 days ending today (tenant-local)
RANGES = {"week": (7, lazy_gettext("Last 7 days")), "30d": (30, lazy_gettext("Last 30 days")),
          "3m": (90, lazy_gettext("Last 3 months"))}
# the worker precomputes peer snapshots for exactly these lengths (analytics.snapshots)
assert {days for days, _label in RANGES.values()} <= set(snapshots.STANDARD_DAYS)
DEFAULT_RANGE = "30d"
# the KPIs the page shows, in order: (metric, label, sample-size column)
KPIS = (
    ("qa", lazy_gettext("QA score"), "qa_n"),
    ("aht_s", lazy_gettext("Average handle time"), "timed"),
    ("volume", lazy_gettext("Volume"), "volume"),
    ("csat", lazy_gettext("CSAT"), "csat_n"),
    ("aes", lazy_gettext("Agent effectiveness (AES)"), "scored"),
    ("fcr_rate", lazy_gettext("First-contact resolution"), "fcr_n"),
)
N_COLUMNS = {metric: n for metric, _label, n in KPIS}
MIN_N = 5  # a cell with fewer values is shown but neither ranked nor called an outlier
NEGATIVE_BELOW = 0.0  # customer sentiment (-1..1) below this counts as negative
COACHING_ROWS = 20
ALERT_ROWS = 50
APPOINTMENT_ACTIONS = ("coaching.appointment_decided", "coaching.booked", "coaching.adopted",
                       "coaching.no_slot", "coaching.booking_failed",
                       "coaching.skipped.rate_limited", "coaching.skipped.pending_exists",
                       "coaching.calendar_unavailable")
WEEKDAYS = (lazy_gettext("Monday"), lazy_gettext("Tuesday"), lazy_gettext("Wednesday"),
            lazy_gettext("Thursday"), lazy_gettext("Friday"), lazy_gettext("Saturday"),
            lazy_gettext("Sunday"))
LABEL_TEXT = {kpi_ranking.GREAT: lazy_gettext("Great"), kpi_ranking.GOOD: lazy_gettext("Good"),
              kpi_ranking.NEEDS_WORK: lazy_gettext("Needs work")}
LABEL_CLASS = {kpi_ranking.GREAT: "great", kpi_ranking.GOOD: "good", kpi_ranking.NEEDS_WORK: "needs"}


@lru_cache(maxsize=32)
def _pattern(text: str) -> NumberPattern:
    return parse_pattern(text)


def number(value: float, pattern: str = "#,##0") -> str:
    """flask_babel.format_decimal/format_percent with the pattern parsed once: the page writes
    hundreds of numbers and parsing the pattern was most of Babel's cost."""
    return _pattern(pattern).apply(value, get_locale())


# ---- the request's state --------------------------------------------------------------------

@dataclass
class View:
    """What the query string asked for, resolved against the caller's scope."""

    range_key: str
    days: int
    start: date
    end: date
    prev_start: date
    prev_end: date
    team: str | None
    teams: list[dict[str, Any]]  # the selector's options: {"id", "name"}
    tenant_wide: bool
    group: str  # "agent": rows are agents; "team": rows are teams (tenant-wide, no team chosen)
    agent_ids: frozenset[str] | None  # None: the whole tenant
    visible: frozenset[str] | None = None  # the caller's scope (scope.visible_agent_ids)
    visible_teams: frozenset[str] | None = None  # and its teams (scope.visible_team_ids)
    names: dict[str, str] = field(default_factory=dict)  # agent id -> name, for rows and lists
    member_ids: list[str] = field(default_factory=list)  # the agents listed even without data

    def params(self, **extra: Any) -> dict[str, Any]:
        """The query of this view (for links and the pushed URL)."""
        base = {"range": self.range_key, "to": self.end.isoformat(), "team": self.team}
        return {**base, **extra}

    def drill(self, **filters: Any) -> dict[str, Any]:
        """Parameters of the interactions list behind a number of this view."""
        return {"team": self.team, **filters,
                "from": self.start.isoformat(), "to": self.end.isoformat()}


def _today(p: Page) -> date:
    return datetime.now(ZoneInfo(p.timezone)).date()


def parse_view(session, p: Page, args) -> View:
    """``range`` (week, 30d, 3m), ``to`` (YYYY-MM-DD, default today) and ``team``; 400 otherwise."""
    range_key = args.get("range") or DEFAULT_RANGE
    if range_key not in RANGES:
        raise Problem(400, "Bad Request",
                      gettext("Unknown range %(value)s; choose one of: %(choices)s.",
                              value=repr(range_key[:20]), choices=", ".join(RANGES)))
    end = _today(p)
    if args.get("to"):
        try:
            end = date.fromisoformat(args["to"])
        except ValueError:
            raise Problem(400, "Bad Request",
                          gettext("'to' must be a date written YYYY-MM-DD.")) from None
        if not date(2000, 1, 1) <= end <= _today(p) + timedelta(days=366):
            raise Problem(400, "Bad Request",
                          gettext("'to' must lie between 2000 and a year from today."))
    days = RANGES[range_key][0]
    start = end - timedelta(days=days - 1)
    prev_end = start - timedelta(days=1)
    principal = p.principal
    visible = scope.visible_agent_ids(session, principal)
    visible_teams = scope.visible_team_ids(session, principal)
    team_query = select(Person.team_id).where(Person.tenant_id == principal.tenant_id,
                                              Person.team_id.is_not(None)).distinct()
    if visible_teams is not None:
        team_query = team_query.where(Person.team_id.in_(sorted(visible_teams)))
    team_ids = sorted(t for t in session.scalars(team_query) if t)
    group_names = dict(session.execute(select(Group.id, Group.name).where(
        Group.tenant_id == principal.tenant_id, Group.id.in_(team_ids))).tuples().all()) if team_ids else {}
    teams = [{"id": t, "name": group_names.get(t) or t} for t in team_ids]
    team = args.get("team") or None
    if team is not None and team not in team_ids:
        raise Problem(400, "Bad Request", gettext("There is no team %(team)s in your scope.",
                                                  team=repr(team[:64])))
    view = View(range_key=range_key, days=days, start=start, end=end,
                prev_start=prev_end - timedelta(days=days - 1), prev_end=prev_end, team=team,
                teams=teams, tenant_wide=visible is None,
                group="team" if visible is None and team is None else "agent", agent_ids=visible,
                visible=visible, visible_teams=visible_teams)
    people = select(Person).where(Person.tenant_id == principal.tenant_id)
    if team is not None:
        members = [m for m in session.scalars(people.where(Person.team_id == team).order_by(Person.name))
                   if visible is None or m.id in visible]
        view.agent_ids = frozenset(m.id for m in members)
    elif visible is not None:
        members = list(session.scalars(people.where(Person.id.in_(sorted(visible))).order_by(Person.name)))
    else:
        members = []
    view.names = {m.id: m.name or m.id for m in members}
    view.member_ids = [m.id for m in members if m.role == "agent"]
    return view


# ---- section 1 and 2: KPIs from the rollups ---------------------------------------------------

def sample_size(metric: str, sums: dict[str, Any]) -> int:
    """How many values a figure rests on (AES: the scored interactions, or the timed ones when
    it fell back to AHT)."""
    if metric == "aes":
        return sums["timed"] if aes_from_sums(sums)["fallback"] else sums["scored"]
    return int(sums[N_COLUMNS[metric]])


def format_value(metric: str, value: float | None) -> str:
    if value is None:
        return "–"
    if metric in ("aht_s", "aes"):
        return gettext("%(value)s s", value=number(round(value), "#,##0"))
    if metric == "volume":
        return number(value, "#,##0")
    if metric == "csat":
        return gettext("%(value)s of 5", value=number(value, "0.00"))
    if metric == "fcr_rate":
        return number(value, "#,##0.0 %")
    if metric == "qa":
        return gettext("%(value)s of 100", value=number(value, "0.0"))
    return number(value, "0.00")


def trend(metric: str, now: float | None, before: float | None, days: int) -> dict[str, Any]:
    """The change on the previous period in words ("up 4 % on the previous 30 days, better")."""
    if now is None or before is None:
        return {"icon": "•", "text": gettext("no figure for the previous %(days)s days to compare",
                                              days=days), "kind": "none"}
    if abs(now - before) < 1e-9:
        return {"icon": "=", "text": gettext("unchanged on the previous %(days)s days", days=days),
                "kind": "same"}
    if before == 0:  # no percentage of nothing
        return {"icon": "▲" if now > 0 else "▼", "kind": "same",
                "text": gettext("up from 0 in the previous %(days)s days", days=days) if now > 0
                else gettext("down from 0 in the previous %(days)s days", days=days)}
    change = (now - before) / abs(before)
    pct = number(abs(change), "#,##0 %")
    up = now > before
    # volume has no better direction; otherwise lower is better for times, higher for scores
    better = None if metric == "volume" else (up != lower_is_better(metric))
    words = (gettext("up %(pct)s on the previous %(days)s days", pct=pct, days=days) if up
             else gettext("down %(pct)s on the previous %(days)s days", pct=pct, days=days))
    if better is not None:
        words += ", " + (gettext("better") if better else gettext("worse"))
    return {"icon": "▲" if up else "▼", "text": words,
            "kind": "same" if better is None else ("better" if better else "worse")}


def strip(session, p: Page, view: View, rows: list[tuple[str | None, dict]]) -> list[dict[str, Any]]:
    """Each KPI over the whole view with n, the previous period's value and the trend."""
    now = zero()
    for _key, sums in rows:
        add(now, sums)
    before = total(session, Slice(tenant_id=p.tenant_id, start=view.prev_start, end=view.prev_end,
                                  agent_ids=view.agent_ids))
    link = p.url("interactions", **view.drill())
    cards = []
    for metric, label, _n in KPIS:
        value, previous = METRIC_FUNCTIONS[metric](now), METRIC_FUNCTIONS[metric](before)
        if metric == "fcr_rate" and not now["fcr_n"] and not before["fcr_n"]:
            continue  # FCR only where the tenant has it
        fallback = metric == "aes" and aes_from_sums(now)["fallback"]
        cards.append({"metric": metric, "label": str(label), "value": format_value(metric, value),
                      "n": number(sample_size(metric, now)), "raw_n": sample_size(metric, now),
                      "previous": format_value(metric, previous),
                      "previous_n": number(sample_size(metric, before)),
                      "trend": trend(metric, value, previous, view.days), "href": link,
                      "note": gettext("no predictions yet: this is the AHT") if fallback else None})
    return cards


def _fences(values: list[float]) -> tuple[float, float] | None:
    """Tukey's fences: 1.5 interquartile ranges beyond the quartiles (None with under 4 values)."""
    if len(values) < 4:
        return None
    q1, _q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    spread = q3 - q1
    return q1 - 1.5 * spread, q3 + 1.5 * spread


def team_table(p: Page, view: View, rows: list[tuple[str | None, dict]],
               team_names: dict[str, str]) -> dict[str, Any]:
    """Rows (agents, or teams for a tenant-wide view) x KPIs: value, n, quartile label against
    the other rows and the outlier mark (Tukey: beyond 1.5 IQR), each linking to its evidence."""
    by_key = dict(rows)
    keys: list[str | None]
    if view.group == "agent":
        keys = list(dict.fromkeys([*view.member_ids, *(k for k in by_key if k)]))
        keys.sort(key=lambda k: (view.names.get(k or "") or k or "").lower())
    else:
        keys = sorted((k for k in by_key if k), key=lambda k: (team_names.get(k or "") or k or "").lower())
        if None in by_key:
            keys.append(None)
    metrics = [(m, label) for m, label, _n in KPIS]
    values: dict[str, dict[Any, float]] = {}
    for metric, _label in metrics:
        values[metric] = {}
        for key in keys:
            sums = by_key.get(key) or zero()
            value = METRIC_FUNCTIONS[metric](sums)
            if value is not None and sample_size(metric, sums) >= MIN_N:
                values[metric][key] = value
    labels = {m: kpi_ranking.quartile_labels(values[m], lower_is_better=lower_is_better(m))
              for m, _ in metrics if m != "volume"}
    fences = {m: _fences(list(values[m].values())) for m, _ in metrics}
    table = []
    for key in keys:
        sums = by_key.get(key) or zero()
        href: str | None
        if view.group == "agent":
            name = view.names.get(key or "") or key or ""
            href = p.url(f"agents/{key}", **{"range": view.range_key, "to": view.end.isoformat()})
            drill = view.drill(agent=key)
        else:
            name = (team_names.get(key) or key) if key else gettext("No team")
            href = p.url("home", **view.params(team=key)) if key else None
            drill = view.drill(team=key)
        cells, cell_href = [], p.url("interactions", **drill)
        for metric, _label in metrics:
            value = METRIC_FUNCTIONS[metric](sums)
            n = sample_size(metric, sums)
            label = labels.get(metric, {}).get(key)
            outlier = None
            bounds = fences[metric]
            if bounds is not None and key in values[metric]:
                v = values[metric][key]
                if v < bounds[0] or v > bounds[1]:
                    if metric == "volume":
                        outlier = {"kind": "note", "text": gettext("Outlier: unusually high volume")
                                   if v > bounds[1] else gettext("Outlier: unusually low volume")}
                    else:
                        worse = (v > bounds[1]) == lower_is_better(metric)
                        outlier = {"kind": "worse" if worse else "better",
                                   "text": gettext("Outlier: needs work") if worse
                                   else gettext("Outlier: stands out")}
            cells.append({"metric": metric, "value": format_value(metric, value), "n": n,
                          "n_text": number(n), "few": 0 < n < MIN_N,
                          "label": label, "label_text": str(LABEL_TEXT[label]) if label else None,
                          "label_class": LABEL_CLASS.get(label or "", "none"), "outlier": outlier,
                          "href": cell_href})
        table.append({"key": key, "name": name, "href": href, "cells": cells,
                      "volume": sums["volume"]})
    return {"rows": table, "metrics": [{"metric": m, "label": str(label)} for m, label in metrics]}


# ---- section 3: coaching required ---------------------------------------------------------------

def _utc_bounds(view: View, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(view.start, time(), tz).astimezone(UTC)
    end = datetime.combine(view.end + timedelta(days=1), time(), tz).astimezone(UTC)
    return start, end


def _in_scope(column, view: View):
    return column.in_(sorted(view.agent_ids)) if view.agent_ids is not None else True


def coaching_required(session, p: Page, view: View, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Agents with coaching flags in the range, or in the bottom quartile of an inquiry x
    channel against every agent of the tenant (the peer snapshot of the agent view), with
    the focus metric and the evidence interactions."""
    start, end = _utc_bounds(view, tz)
    flags = session.execute(
        select(Flag.agent_id, Flag.conversation_id, Flag.rule_id, Flag.reasons, Flag.at)
        .where(Flag.tenant_id == p.tenant_id, Flag.action == "flag", Flag.at >= start, Flag.at < end,
               _in_scope(Flag.agent_id, view))
        .order_by(Flag.at.desc()).limit(1000)).all()
    by_agent: dict[str, list] = defaultdict(list)
    for flag in flags:
        by_agent[flag.agent_id].append(flag)
    candidates = list(by_agent)
    if view.group == "agent":
        candidates = list(dict.fromkeys([*candidates, *view.member_ids]))
    peers = current_app.extensions["coachwire.peers"].get(session, tenant_id=p.tenant_id,
                                                          start=view.start, end=view.end)
    missing = [a for a in candidates if a not in view.names]
    if missing:
        view.names.update(dict(session.execute(select(Person.id, Person.name).where(
            Person.tenant_id == p.tenant_id, Person.id.in_(missing))).tuples().all()))
    if view.group == "team":  # a whole tenant: the most flagged agents only
        candidates = sorted(candidates, key=lambda a: -len(by_agent[a]))[:5 * COACHING_ROWS]
    found = []
    for agent in candidates:  # quartiles are a binary search per cell: cheap for everyone
        own = by_agent.get(agent, [])
        weak = [q for q in peers.quartiles(agent)
                if q["label"] == kpi_ranking.NEEDS_WORK and q["volume"] >= MIN_N]
        if own or weak:
            found.append((agent, own, weak))
    found.sort(key=lambda e: (-len(e[1]), -len(e[2]), (view.names.get(e[0]) or e[0]).lower()))
    return [_coaching_entry(p, view, peers, agent, own, weak) for agent, own, weak in found[:COACHING_ROWS]]


def _coaching_entry(p: Page, view: View, peers, agent: str, own: list, weak: list) -> dict[str, Any]:
    """One agent of "coaching required"; the focus metric (the costly part) only for those shown."""
    focus = [dict(f, inquiry=inquiry) for inquiry, f in peers.focus(agent).items() if f]
    focus.sort(key=lambda f: -f["gap"])
    rules = Counter(f.rule_id for f in own)
    reasons = list(dict.fromkeys(r for f in own for r in (f.reasons or [])))[:3]
    return {
        "agent_id": agent, "name": view.names.get(agent) or agent,
        "href": p.url(f"agents/{agent}", **{"range": view.range_key, "to": view.end.isoformat()}),
        "flags": len(own), "rules": [{"rule": r, "count": c} for r, c in rules.most_common(3)],
        "reasons": reasons,
        "evidence": [{"id": f.conversation_id, "href": p.url(f"interactions/{f.conversation_id}"),
                      "at": format_datetime(f.at, "short")} for f in own[:5]],
        "flags_href": p.url("interactions", **view.drill(agent=agent)),
        "weak": [{"inquiry": q["inquiry"] or gettext("Unknown inquiry"),
                  "channel": q["channel"] or gettext("unknown channel"),
                  "n": number(q["volume"]), "agents": q["agents"],
                  "href": p.url("interactions", **view.drill(agent=agent, inquiry=q["inquiry"],
                                                              channel=q["channel"]))}
                 for q in sorted(weak, key=lambda q: -q["volume"])[:3]],
        "focus": [{"metric": _metric_label(f["metric"]),
                   "inquiry": f["inquiry"] or gettext("Unknown inquiry"),
                   "agent": format_value(f["metric"], f["agent"]),
                   "peers": format_value(f["metric"], f["peer_mean"]),
                   "href": p.url("interactions", **view.drill(agent=agent, inquiry=f["inquiry"]))}
                  for f in focus[:1]],
    }


def _metric_label(metric: str) -> str:
    labels = {m: str(label) for m, label, _n in KPIS}
    labels.update(hold_s=gettext("Hold time"), acw_s=gettext("After-call work"),
                  transfer_rate=gettext("Transfer rate"), customer_sentiment=gettext("Customer sentiment"))
    return labels.get(metric, metric)


# ---- section 4: alerts --------------------------------------------------------------------------

STATUS_TEXT = {"open": lazy_gettext("Open"), "acknowledged": lazy_gettext("Acknowledged"),
               "closed": lazy_gettext("Closed")}


def _inbox(p: Page, view: View):
    """The inbox's scope (``analytics.alert_inbox``) over the scope this page has already
    resolved, instead of resolving it again."""
    return alert_inbox.scoped(None, p.principal, agents=view.visible, teams=view.visible_teams,
                              resolved=True)


def alerts(session, p: Page, view: View) -> list[dict[str, Any]]:
    query = _inbox(p, view).where(PerformanceAlert.status != "closed")
    if view.team is not None:
        query = query.where(or_(
            and_(PerformanceAlert.subject_type == "agent",
                 PerformanceAlert.subject_id.in_(sorted(view.agent_ids or ()))),
            and_(PerformanceAlert.subject_type == "team", PerformanceAlert.subject_id == view.team)))
    found = list(session.scalars(query.limit(ALERT_ROWS)))
    unknown = [a.subject_id for a in found if a.subject_type == "agent" and a.subject_id not in view.names]
    if unknown:
        view.names.update(dict(session.execute(select(Person.id, Person.name).where(
            Person.tenant_id == p.tenant_id, Person.id.in_(unknown))).tuples().all()))
    return [alert_row(p, view, a) for a in found]


def alert_row(p: Page, view: View | None, alert: PerformanceAlert, message: str | None = None) -> dict:
    names = view.names if view is not None else {}
    agent = alert.subject_type == "agent"
    drill = {"agent" if agent else "team": alert.subject_id}
    if view is not None:
        drill.update({"from": view.start.isoformat(), "to": view.end.isoformat()})
    base = f"home/alerts/{alert.key}"
    return {"key": alert.key, "kind": alert.kind, "message": alert.message,
            "subject": names.get(alert.subject_id) or alert.subject_id,
            "subject_type": gettext("Agent") if agent else gettext("Team"),
            "metric": _metric_label(alert.metric), "value": format_value(alert.metric, alert.value),
            "status": alert.status, "status_text": str(STATUS_TEXT.get(alert.status, alert.status)),
            "raised": format_datetime(alert.raised_at, "short"),
            "href": p.url("interactions", **drill),
            "acknowledge": p.url(f"{base}/acknowledge") if alert.status == "open" else None,
            "close": p.url(f"{base}/close") if alert.status in ("open", "acknowledged") else None,
            "can_act": p.principal.can(ALERTS_WRITE), "note": message}


def act_on_alert(session, p: Page, key: str, action: str) -> tuple[PerformanceAlert | None, str | None]:
    """The API's transition (``analytics.alert_inbox.act``: same statuses, details and audit
    row). (alert, None) when done; (alert, why) when its status forbids it; (None, None) when
    there is no such alert in the caller's scope."""
    try:
        return alert_inbox.act(session, p.principal, key, action), None
    except alert_inbox.NotAllowedNow as exc:
        status = str(STATUS_TEXT.get(exc.alert.status, exc.alert.status)).lower()
        return exc.alert, gettext("This alert is already %(status)s.", status=status)


# ---- section 5: automated appointments this week --------------------------------------------------

def _week(tz: ZoneInfo) -> tuple[date, datetime, datetime]:
    """This (tenant-local, ISO) week, whatever the range: what the automation is doing now."""
    today = datetime.now(tz).date()
    monday = today - timedelta(days=today.weekday())
    start = datetime.combine(monday, time(), tz).astimezone(UTC)
    return monday, start, datetime.combine(monday + timedelta(days=7), time(), tz).astimezone(UTC)


def appointment_reason(action: str, details: dict, appointment: Appointment | None) -> tuple[str, str]:
    """(outcome, why) in words for one audited decision or booking step."""
    reason = details.get("reason") or {}
    if action == "coaching.appointment_decided":
        return (gettext("Decided to book"),
                gettext("%(flags)s flagged interactions in the policy window (at least %(min)s needed)",
                        flags=reason.get("flags_in_window", "?"), min=reason.get("min_flags", "?")))
    if action in ("coaching.booked", "coaching.adopted"):
        when = appointment.date_start if appointment is not None else None
        source = (details.get("slot") or {}).get("source")
        if when is None:
            why = gettext("slot chosen by the host")
        elif source == "host_slots":
            why = gettext("slot %(when)s, among the host's suggested slots with spare staffing",
                          when=format_datetime(when, "short"))
        else:
            why = gettext("slot %(when)s, in a low-occupancy period of the forecast",
                          when=format_datetime(when, "short"))
        if action == "coaching.adopted":
            why = gettext("the host already had this appointment (booked on an earlier attempt)")
        checked = details.get("calendar_checked")
        if checked is False:
            why += "; " + gettext("the supervisor's calendar could not be read, so it was not checked")
        elif checked:
            why += "; " + gettext("the supervisor's calendar was free")
        return gettext("Booked"), why
    if action == "coaching.no_slot":
        slot = details.get("slot") or {}
        if "calendar_unavailable" in slot:
            return (gettext("Skipped: booking by hand"),
                    gettext("the supervisor's calendar could not be read; the supervisor has a task"))
        return (gettext("Skipped: booking by hand"),
                gettext("no free low-occupancy slot in the horizon; the supervisor has a task"))
    if action == "coaching.skipped.rate_limited":
        return (gettext("Skipped: weekly limit"),
                gettext("%(done)s of %(cap)s automated appointments already this week "
                        "(%(flags)s new flags held back)", done=details.get("this_week", "?"),
                        cap=details.get("cap", "?"), flags=details.get("flags_in_window", "?")))
    if action == "coaching.skipped.pending_exists":
        return (gettext("Skipped: one is pending"),
                gettext("an earlier automated appointment has not happened yet"))
    if action == "coaching.booking_failed":
        return (gettext("Failed"), gettext("the host could not be reached; the supervisor has a task")
                if details.get("gave_up") else gettext("the host refused the booking"))
    if action == "coaching.calendar_unavailable":
        return (gettext("Calendar not readable"),
                gettext("the supervisor's calendar could not be read (policy: %(policy)s)",
                        policy=details.get("policy", "?")))
    return action, ""


def appointments(session, p: Page, view: View, tz: ZoneInfo) -> dict[str, Any]:
    monday, start, end = _week(tz)
    rows = list(session.scalars(
        select(AuditEntry).where(AuditEntry.tenant_id == p.tenant_id,
                                 AuditEntry.action.in_(APPOINTMENT_ACTIONS),
                                 AuditEntry.at >= start, AuditEntry.at < end)
        .order_by(AuditEntry.id.desc()).limit(300)))
    ids = {int(r.subject_id) for r in rows if r.subject_type == "appointment" and r.subject_id.isdigit()}
    found = {a.id: a for a in session.scalars(select(Appointment).where(
        Appointment.tenant_id == p.tenant_id, Appointment.id.in_(sorted(ids))))} if ids else {}
    items: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    for row in rows:
        details = row.details or {}
        appointment = found.get(int(row.subject_id)) if row.subject_id.isdigit() else None
        agent = (details.get("agent_id") or (row.subject_id if row.subject_type == "agent" else None)
                 or (appointment.agent_id if appointment is not None else None))
        if agent is None or (view.agent_ids is not None and agent not in view.agent_ids):
            continue
        outcome, why = appointment_reason(row.action, details, appointment)
        skipped = row.action.startswith("coaching.skipped") or row.action == "coaching.no_slot"
        kind = ("booked" if row.action in ("coaching.booked", "coaching.adopted")
                else "skipped" if skipped else "other")
        counts[kind] += 1
        conversations = details.get("conversation_ids") or (
            appointment.conversation_ids if appointment is not None else [])
        items.append({"agent_id": agent, "at": format_datetime(row.at, "short"), "outcome": outcome,
                      "why": why, "kind": kind,
                      "evidence": [{"id": c, "href": p.url(f"interactions/{c}")} for c in conversations[:5]]})
    unknown = [i["agent_id"] for i in items if i["agent_id"] not in view.names]
    if unknown:
        view.names.update(dict(session.execute(select(Person.id, Person.name).where(
            Person.tenant_id == p.tenant_id, Person.id.in_(sorted(set(unknown))))).tuples().all()))
    for item in items:
        item["agent"] = view.names.get(item["agent_id"]) or item["agent_id"]
        item["href"] = p.url(f"agents/{item['agent_id']}")
    return {"items": items, "booked": counts["booked"], "skipped": counts["skipped"],
            "week": format_date(monday, "medium")}


# ---- section 6: recognitions ------------------------------------------------------------------------

RECOGNITION_STATUS = {"sent": lazy_gettext("Sent"), "pending": lazy_gettext("Waiting to send"),
                      "sending": lazy_gettext("Sending"), "failed": lazy_gettext("Failed")}


def recognitions(session, p: Page, view: View, tz: ZoneInfo) -> dict[str, Any]:
    start, end = _utc_bounds(view, tz)
    found = list(session.scalars(select(Recognition).where(
        Recognition.tenant_id == p.tenant_id, Recognition.created_at >= start,
        Recognition.created_at < end, _in_scope(Recognition.agent_id, view))
        .order_by(Recognition.created_at.desc()).limit(50)))
    unknown = sorted({r.agent_id for r in found if r.agent_id not in view.names})
    if unknown:
        view.names.update(dict(session.execute(select(Person.id, Person.name).where(
            Person.tenant_id == p.tenant_id, Person.id.in_(unknown))).tuples().all()))
    items = [{"agent": view.names.get(r.agent_id) or r.agent_id, "href": p.url(f"agents/{r.agent_id}"),
              "kind": r.kind, "status": str(RECOGNITION_STATUS.get(r.status, r.status)),
              "sent": r.status == "sent", "at": format_datetime(r.created_at, "short"),
              "conversation": r.conversation_id,
              "conversation_href": p.url(f"interactions/{r.conversation_id}")} for r in found]
    return {"items": items, "sent": sum(1 for i in items if i["sent"])}


# ---- section 7: heat maps ------------------------------------------------------------------------

def sentiment_heat(session, p: Page, view: View, tz: ZoneInfo) -> dict[str, Any]:
    """Negative customer sentiment by local weekday x hour: the database counts per UTC hour,
    each hour is then placed on the tenant's calendar (a DST change moves it correctly)."""
    f = InteractionFact
    if session.get_bind().dialect.name == "postgresql":
        hour = func.to_char(func.date_trunc("hour", func.timezone("UTC", f.ended_at)),
                            "YYYY-MM-DD HH24")
    else:
        hour = func.strftime("%Y-%m-%d %H", f.ended_at)
    query = (select(hour.label("hour"), func.count().label("n"),
                    func.sum(case((f.customer_sentiment < NEGATIVE_BELOW, 1), else_=0)).label("neg"))
             .where(f.tenant_id == p.tenant_id, f.local_day >= view.start, f.local_day <= view.end,
                    f.customer_sentiment.is_not(None), _in_scope(f.agent_id, view))
             .group_by(hour))
    cells: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for row in session.execute(query):
        moment = datetime.strptime(row.hour, "%Y-%m-%d %H").replace(tzinfo=UTC).astimezone(tz)
        cell = cells[(moment.weekday(), moment.hour)]
        cell[0] += int(row.n)
        cell[1] += int(row.neg or 0)
    if not cells:
        return {"hours": [], "rows": [], "total": 0}
    hours = list(range(min(h for _, h in cells), max(h for _, h in cells) + 1))
    shown: dict[int, str] = {}  # Babel's formatting is slow; a cell shows a whole per cent

    def percent(share: float | None) -> str:
        if share is None:
            return "–"
        whole = round(share * 100)
        if whole not in shown:
            shown[whole] = number(whole / 100, "#,##0 %")
        return shown[whole]

    rows = []
    for day in range(7):
        out = []
        for h in hours:
            n, neg = cells.get((day, h), (0, 0))
            share = neg / n if n else None
            level = ("none" if share is None or n < MIN_N else "high" if share >= 0.5
                     else "mid" if share >= 0.25 else "low")
            out.append({"n": n, "neg": neg, "share": percent(share), "level": level,
                        "few": 0 < n < MIN_N})
        rows.append({"day": str(WEEKDAYS[day]), "cells": out})
    return {"hours": [f"{h:02d}:00" for h in hours], "rows": rows,
            "total": sum(c[0] for c in cells.values())}


# ---- the page ----------------------------------------------------------------------------------

def sections(session, p: Page, view: View) -> dict[str, Any]:
    tz = ZoneInfo(p.timezone)
    dim = "agent_id" if view.group == "agent" else "team_id"
    where = Slice(tenant_id=p.tenant_id, start=view.start, end=view.end, agent_ids=view.agent_ids)
    rows = [(key[0], sums) for key, sums in sums_by(session, where, dims=(dim,))]
    team_names = {t["id"]: t["name"] for t in view.teams}
    return {
        "strip": strip(session, p, view, rows),
        "table": team_table(p, view, rows, team_names),
        "coaching": coaching_required(session, p, view, tz),
        "alerts": alerts(session, p, view),
        "appointments": appointments(session, p, view, tz),
        "recognitions": recognitions(session, p, view, tz),
        "sentiment": sentiment_heat(session, p, view, tz),
    }


@page(bp, "/home", view="home", permission=ANALYTICS_READ)
def home(p: Page):
    if p.principal.role == "agent":  # an agent's home is their own performance page
        response = redirect(p.url("my-performance"), code=303)
        response.headers["Cache-Control"] = "no-store"
        return response
    with get_db().session() as session:
        view = parse_view(session, p, request.args)
        context = sections(session, p, view)
    return p.render(TEMPLATE, block="sections", title=gettext("Team home"), v=view,
                    ranges=[{"key": k, "label": str(label)} for k, (_d, label) in RANGES.items()],
                    self_url=p.url("home", **view.params()), min_n=MIN_N,
                    period={"start": format_date(view.start, "medium"),
                            "end": format_date(view.end, "medium")}, **context)


def _alert_action(p: Page, key: str, action: str):
    with get_db().session() as session:
        alert, refused = act_on_alert(session, p, key, action)
        if alert is None:
            raise Problem(404, "Not Found", gettext("There is no such alert in your scope."))
        row = alert_row(p, None, alert, message=refused)
        if alert.subject_type == "agent":
            person = session.get(Person, (p.tenant_id, alert.subject_id))
            if person is not None:
                row["subject"] = person.name or person.id
    return p.render(ALERT_TEMPLATE, block="row", title=gettext("Alert"), a=row,
                    status=409 if refused else 200)


@page(bp, "/home/alerts/<path:key>/acknowledge", view="home", permission=ALERTS_WRITE,
      methods=("POST",))
def acknowledge_alert(p: Page, key: str):
    return _alert_action(p, key, "acknowledge")


@page(bp, "/home/alerts/<path:key>/close", view="home", permission=ALERTS_WRITE, methods=("POST",))
def close_alert(p: Page, key: str):
    return _alert_action(p, key, "close")
