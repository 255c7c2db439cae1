"""Coaching panel page: the agent directory. Every agent in the caller's scope (a supervisor: their
own team(s); analysts, managers, admins: the tenant) with performance over the interval (AES,
volume, QA with its n), the trend against the interval just before it, and coaching status
(open flags, next appointment); filtered, searched, sorted and paged on the server, each state
a URL of its own.

Performance comes from the same PeerCache snapshot the agent overview uses (one per interval),
so a directory row and the agent's overview show the same figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from flask import Blueprint, request
from flask_babel import lazy_gettext
from sqlalchemy import func, select

from extension.analytics.panels.performance import RANGE_LABELS, Range, choice, page_range, peers_for
from extension.analytics.peers import PeerSnapshot
from extension.analytics.sums import FLOAT_COLUMNS, INT_COLUMNS, aes_from_sums
from extension.coaching.models import Appointment, Flag
from extension.platform.auth import scope
from extension.platform.auth.permissions import PEOPLE_READ
from extension.platform.db import get_db
from extension.platform.models.people import Person
from extension.platform.panels import Page, page
from extension.platform.problems import Problem

bp = Blueprint("coaching_panels_agents", __name__, template_folder="templates")

TEMPLATE = "coaching/panels/agents.html"
PAGE_SIZE = 25
SHOWS = {"all": lazy_gettext("All agents"), "needs-coaching": lazy_gettext("Needs coaching"),
         "improving": lazy_gettext("Improving")}
SORTS = {"name": lazy_gettext("Agent"), "aes": lazy_gettext("AES"), "volume": lazy_gettext("Volume"),
         "qa": lazy_gettext("Quality score"), "trend": lazy_gettext("Trend"),
         "flags": lazy_gettext("Open flags"), "next": lazy_gettext("Next appointment")}
TRENDS = ("improving", "steady", "declining", "unknown")  # the order "trend" sorts by
UPCOMING = ("pending", "booking", "booked")  # appointments that will still happen
_AES_CHANGE = 0.02  # a relative AES change below 2 % is "steady"
_QA_CHANGE = 1.0  # points of the 0-100 QA score


@dataclass
class Row:
    id: str
    name: str
    volume: int
    aes: float | None
    qa: float | None
    qa_n: int
    trend: str
    aes_before: float | None
    qa_before: float | None
    flags: int
    next: datetime | None

    @property
    def needs_coaching(self) -> bool:
        return self.flags > 0 or self.trend == "declining"

    def key(self, sort: str) -> Any:
        if sort == "name":
            return self.name.casefold()
        if sort == "trend":
            return TRENDS.index(self.trend)
        return getattr(self, sort)


@page(bp, "/agents", view="agents", permission=PEOPLE_READ)
def directory(p: Page):
    where = page_range(p)
    show = choice("show", tuple(SHOWS), "all")
    sort = choice("sort", tuple(SORTS), "name")
    direction = choice("dir", ("asc", "desc"), "asc")
    number = _page_number()
    search = (request.args.get("q") or "").strip()[:100]
    with get_db().session() as session:
        people = agents_in_scope(session, p)
        ids = [person.id for person in people]
        now, before = peers_for(session, p, where), peers_for(session, p, previous(where))
        flags = open_flags(session, p.tenant_id, ids)
        upcoming = next_appointments(session, p.tenant_id, ids)
    current, earlier = agent_sums(now, ids), agent_sums(before, ids)
    rows = [row_for(person, current.get(person.id), earlier.get(person.id),
                    flags=flags.get(person.id, 0), upcoming=upcoming.get(person.id)) for person in people]
    shown = select_rows(rows, show=show, search=search, sort=sort, direction=direction)
    pages = max(1, math.ceil(len(shown) / PAGE_SIZE))
    number = min(number, pages)
    state = {"show": show, "q": search or None, "sort": sort, "dir": direction,
             **({"range": where.key} if where.key != "custom" else where.params())}
    ctx: dict[str, Any] = {
           "title": str(lazy_gettext("Agents")), "rows": shown[(number - 1) * PAGE_SIZE:number * PAGE_SIZE],
           "total": len(shown), "everyone": len(rows), "page": number, "pages": pages,
           "where": where, "show": show, "shows": SHOWS, "sort": sort, "dir": direction,
           "sorts": SORTS, "search": search, "ranges": RANGE_LABELS, "state": state,
           "before": previous(where), "base": p.url("agents").split("?")[0]}
    return p.render(TEMPLATE, block="results", **ctx)


def _page_number() -> int:
    raw = request.args.get("page") or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise Problem(400, "Bad Request", f"Invalid query parameter 'page': {raw!r} is not a page number.")
    return int(raw)


def previous(where: Range) -> Range:
    """The interval of the same length just before ``where`` (what the trend compares with)."""
    days = (where.end - where.start).days + 1
    return Range("custom", where.start - timedelta(days=days), where.start - timedelta(days=1))


def agents_in_scope(session, p: Page) -> list[Person]:
    visible = scope.visible_agent_ids(session, p.principal)
    query = scope.tenant_people(p.principal).where(Person.role == "agent", Person.active.is_(True))
    if visible is not None:
        query = query.where(Person.id.in_(sorted(visible)))
    return list(session.scalars(query.order_by(Person.name, Person.id)))


def open_flags(session, tenant_id: str, ids: list[str]) -> dict[str, int]:
    """Flags no appointment has picked up yet, per agent."""
    query = (select(Flag.agent_id, func.count()).where(
        Flag.tenant_id == tenant_id, Flag.action == "flag", Flag.appointment_id.is_(None),
        Flag.agent_id.in_(ids)).group_by(Flag.agent_id))
    return {agent: int(count) for agent, count in session.execute(query)}


def next_appointments(session, tenant_id: str, ids: list[str]) -> dict[str, datetime]:
    query = (select(Appointment.agent_id, func.min(Appointment.date_start)).where(
        Appointment.tenant_id == tenant_id, Appointment.agent_id.in_(ids),
        Appointment.status.in_(UPCOMING), Appointment.date_start >= datetime.now(UTC))
        .group_by(Appointment.agent_id))
    return {agent: at for agent, at in session.execute(query) if at is not None}


def agent_sums(snapshot: PeerSnapshot, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each agent's vector over the interval: the sum of their cells in the snapshot's cell
    order, as PeerSnapshot.agent_total adds them (so the figures equal the overview's), for
    every agent at once."""
    index = {agent: k for k, agent in enumerate(ids)}
    ints = np.zeros((len(ids), len(INT_COLUMNS)), dtype=np.int64)
    floats = np.zeros((len(ids), len(FLOAT_COLUMNS)), dtype=np.float64)
    seen = np.zeros(len(ids), dtype=bool)
    for cell in snapshot.cells.values():
        pairs = [(index[a], j) for a, j in cell.block.rows.items() if a in index]
        if not pairs:
            continue
        ks, js = (np.array(column) for column in zip(*pairs, strict=True))
        np.add.at(ints, ks, cell.block.ints[js])
        np.add.at(floats, ks, cell.block.floats[js])
        seen[ks] = True
    out = {}
    for agent, k in index.items():
        if seen[k]:
            sums: dict[str, Any] = dict(zip(INT_COLUMNS, ints[k].tolist(), strict=True))
            sums.update(zip(FLOAT_COLUMNS, floats[k].tolist(), strict=True))
            out[agent] = sums
    return out


def _figures(sums: dict[str, Any] | None) -> tuple[int, float | None, float | None, int, str | None]:
    if sums is None:
        return 0, None, None, 0, None
    aes = aes_from_sums(sums)
    qa = sums["qa_sum"] / sums["qa_n"] if sums["qa_n"] else None
    return sums["volume"], aes["value"], qa, sums["qa_n"], aes["fallback"]


def row_for(person: Person, now: dict | None, before: dict | None, *, flags: int,
            upcoming: datetime | None) -> Row:
    volume, aes, qa, qa_n, fallback = _figures(now)
    _, aes_before, qa_before, _, fallback_before = _figures(before)
    if fallback != fallback_before:  # a scored AES against an AHT fallback is no trend
        aes_before = None
    return Row(id=person.id, name=person.name or person.id, volume=volume, aes=aes, qa=qa,
               qa_n=qa_n, trend=trend(aes, aes_before, qa, qa_before), aes_before=aes_before,
               qa_before=qa_before, flags=flags, next=upcoming)


def trend(aes: float | None, aes_before: float | None, qa: float | None, qa_before: float | None) -> str:
    """improving / declining / steady from AES (lower is better; a relative change of 2 % or
    more counts), else from QA (1 point or more); unknown without both intervals."""
    if aes is not None and aes_before:
        change = (aes_before - aes) / aes_before
        if abs(change) >= _AES_CHANGE:
            return "improving" if change > 0 else "declining"
        return "steady"
    if qa is not None and qa_before is not None:
        if abs(qa - qa_before) >= _QA_CHANGE:
            return "improving" if qa > qa_before else "declining"
        return "steady"
    return "unknown"


def select_rows(rows: list[Row], *, show: str, search: str, sort: str, direction: str) -> list[Row]:
    """Filter, search (name or id, any case) and sort; rows without a value always last."""
    if show == "needs-coaching":
        rows = [r for r in rows if r.needs_coaching]
    elif show == "improving":
        rows = [r for r in rows if r.trend == "improving"]
    if search:
        needle = search.casefold()
        rows = [r for r in rows if needle in r.name.casefold() or needle in r.id.casefold()]
    present = sorted((r for r in rows if r.key(sort) is not None), key=lambda r: r.name.casefold())
    present.sort(key=lambda r: r.key(sort), reverse=direction == "desc")
    missing = sorted((r for r in rows if r.key(sort) is None), key=lambda r: r.name.casefold())
    return present + missing
