"""GET /api/v1/metrics and /api/v1/inquiries: KPI rows from the rollups, scoped and paged."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint

from extension.analytics.api import schemas
from extension.analytics.api.ranges import scoped_slice
from extension.analytics.query import kpi_rows
from extension.platform import directory
from extension.platform.api.plumbing import documented, offset_of, page, parse, respond
from extension.platform.auth import scope
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import ANALYTICS_READ
from extension.platform.db import get_db
from extension.platform.problems import Problem

bp = Blueprint("api_metrics", __name__, url_prefix="/api/v1")
FILTERS = ("agent_id", "team_id", "queue_id", "inquiry", "channel")


@bp.get("/metrics")
@documented(summary="KPIs by dimensions and tenant-local period", query=schemas.MetricsQuery,
            response=schemas.MetricsPage)
@require(ANALYTICS_READ)
def metrics():
    """Rows per value of ``dims`` (and per ``period`` bucket), restricted to the caller's scope;
    ``agent_id``/``team_id``/... pin a dimension to one value."""
    args = parse(schemas.MetricsQuery)
    principal, offset = current_principal(), offset_of(args)
    with get_db().session() as session:
        where = scoped_slice(session, principal, args)
        equals = {name: args[name] for name in FILTERS if name in args}
        _check_filters(session, principal, equals)
        rows = kpi_rows(session, replace(where, equals=equals), dims=args["dims"], period=args["period"],
                        limit=args["limit"] + 1, offset=offset)
        names = (directory.queue_names(session, principal.tenant_id, (r["queue_id"] for r in rows))
                 if "queue_id" in args["dims"] else None)
    rows, cursor = page(rows, limit=args["limit"], offset=offset)
    items = [_item(row, dims=args["dims"], metrics=args["metrics"]) for row in rows]
    if names is not None:  # per-queue rows are labelled with the synced queue name
        for item in items:
            item["queue_name"] = names.get(item["queue_id"])
    return respond({"items": items, "next_cursor": cursor})


def _check_filters(session, principal, equals: dict) -> None:
    """A pinned agent or team must exist in the tenant (404) and be in scope (403)."""
    if "agent_id" in equals:
        scope.agent_or_404(session, principal, equals["agent_id"])
    if "team_id" in equals:
        visible = scope.visible_team_ids(session, principal)
        if not scope.team_exists(session, principal, equals["team_id"]):
            raise Problem(404, "Not Found", f"No team {equals['team_id']!r}.")
        if visible is not None and equals["team_id"] not in visible:
            raise Problem(403, "Forbidden", "This team is outside your scope.")


def _item(row: dict, *, dims: tuple[str, ...], metrics: tuple[str, ...]) -> dict:
    item = {name: row[name] for name in dims}
    item.update(period=row["period"], period_start=row["period_start"])
    item["metrics"] = {"volume": row["volume"], **{m: row[m] for m in metrics}}
    if "aes" in metrics:
        item["metrics"]["aes_fallback"] = row["aes_fallback"]
    return item


@bp.get("/inquiries")
@documented(summary="KPIs per inquiry over an interval", query=schemas.InquiriesQuery,
            response=schemas.InquiriesPage)
@require(ANALYTICS_READ)
def inquiries():
    """Every inquiry (wrap-up code or detected topic) the caller's scope handled, with its KPIs."""
    args = parse(schemas.InquiriesQuery)
    principal, offset = current_principal(), offset_of(args)
    with get_db().session() as session:
        where = scoped_slice(session, principal, args)
        rows = kpi_rows(session, where, dims=("inquiry",), limit=args["limit"] + 1, offset=offset)
    rows, cursor = page(rows, limit=args["limit"], offset=offset)
    items = [_item(row, dims=("inquiry",), metrics=args["metrics"]) for row in rows]
    for item in items:
        item.pop("period"), item.pop("period_start")
    return respond({"items": items, "next_cursor": cursor})
