"""The interaction facts behind a KPI cell, scoped and cursor-paged: one query for the API
(GET /api/v1/interactions) and the drill-down panel, so both list exactly the same rows.

A cell of /api/v1/metrics is (dimension values, tenant-local period bucket); the same filters
here, with ``period`` and ``period_start`` naming the bucket, list exactly the facts whose
rollups make up that cell: facts carry the local day their rollup row was built from, so the
count of this listing equals the cell's ``volume``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import Session

from extension.analytics.api.ranges import local_range
from extension.analytics.models.facts import InteractionFact
from extension.analytics.sums import bucket_starts
from extension.platform.auth import scope
from extension.platform.auth.permissions import Principal
from extension.platform.problems import Problem

_facts = InteractionFact.__table__
# query parameter -> fact column
FILTERS = {"agent": "agent_id", "team": "team_id", "queue": "queue_id", "inquiry": "inquiry",
           "channel": "channel"}


def list_interactions(session: Session, principal: Principal, args: dict,
                      columns: Sequence[str]) -> dict[str, Any]:
    """``{"from", "to", "items", "next_cursor"}``: one page (``args["limit"]``) of the facts the
    parsed query (schemas.InteractionsQuery) names, ordered by local day, then conversation id."""
    start, end = interval(session, principal, args)
    query = select(*[_facts.c[c] for c in columns]).where(
        _facts.c.tenant_id == principal.tenant_id, _facts.c.local_day >= start,
        _facts.c.local_day <= end)
    query = scoped(session, principal, query, args)
    after = _cursor(args.get("cursor"))
    if after is not None:
        query = query.where(tuple_(_facts.c.local_day, _facts.c.conversation_id) > after)
    rows = session.execute(query.order_by(_facts.c.local_day, _facts.c.conversation_id)
                           .limit(args["limit"] + 1)).all()
    items = [dict(row._mapping) for row in rows[:args["limit"]]]
    cursor = _token(items[-1]) if len(rows) > args["limit"] else None
    return {"from": start, "to": end, "items": items, "next_cursor": cursor}


def count_interactions(session: Session, principal: Principal, args: dict) -> int:
    """How many facts the whole listing (every page) holds."""
    start, end = interval(session, principal, args)
    query = select(func.count()).select_from(_facts).where(
        _facts.c.tenant_id == principal.tenant_id, _facts.c.local_day >= start,
        _facts.c.local_day <= end)
    return int(session.scalar(scoped(session, principal, query, args)) or 0)


def interval(session: Session, principal: Principal, args: dict) -> tuple[date, date]:
    if "period_start" not in args:
        return local_range(session, principal, args)
    first, period = args["period_start"], args["period"]
    if bucket(first, period) != first:
        raise Problem(400, "Bad Request", "Invalid query parameters.", errors=[
            {"field": "period_start", "message": f"Not the first day of a {period}."}])
    last = next_bucket(first, period) - timedelta(days=1)
    start, end = max(first, args.get("start") or first), min(last, args.get("end") or last)
    if start > end:
        raise Problem(400, "Bad Request", "Invalid query parameters.", errors=[
            {"field": "from", "message": "The interval does not overlap the period."}])
    return start, end


def bucket(day: date, period: str) -> date:
    return day if period == "day" else bucket_starts(day)[period]


def next_bucket(first: date, period: str) -> date:
    if period == "day":
        return first + timedelta(days=1)
    if period == "week":
        return first + timedelta(weeks=1)
    months = 1 if period == "month" else 3
    month = first.month - 1 + months
    return date(first.year + month // 12, month % 12 + 1, 1)


def scoped(session: Session, principal: Principal, query, args: dict):
    """Pinned filters (an agent or team must exist: 404, and be in scope: 403), then scope."""
    if "agent" in args:
        scope.agent_or_404(session, principal, args["agent"])
    if "team" in args:
        if not scope.team_exists(session, principal, args["team"]):
            raise Problem(404, "Not Found", f"No team {args['team']!r}.")
        teams = scope.visible_team_ids(session, principal)
        if teams is not None and args["team"] not in teams:
            raise Problem(403, "Forbidden", "This team is outside your scope.")
    both = [name for name in args["null"] if name in args]
    if both:
        raise Problem(400, "Bad Request", "Invalid query parameters.", errors=[
            {"field": "null", "message": f"{', '.join(both)} cannot be both given and null."}])
    for name, column in FILTERS.items():
        if name in args:
            query = query.where(_facts.c[column] == args[name])
        elif name in args["null"]:  # the cell /metrics shows as null: its rollup key is ''
            query = query.where(or_(_facts.c[column].is_(None), _facts.c[column] == ""))
    visible = scope.visible_agent_ids(session, principal)
    if visible is not None:
        query = query.where(_facts.c.agent_id.in_(sorted(visible)))
    return query


def _token(item: dict) -> str:
    raw = json.dumps({"d": item["local_day"].isoformat(), "c": item["conversation_id"]})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _cursor(token: str | None) -> tuple[date, str] | None:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return date.fromisoformat(data["d"]), str(data["c"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise Problem(400, "Bad Request", "Invalid cursor.",
                      errors=[{"field": "cursor", "message": "Not a cursor this API issued."}]) from exc
