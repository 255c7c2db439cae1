"""GET /api/v1/alerts: raised performance alerts about agents and teams in the caller's scope."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import and_, or_, select

from extension.api import schemas
from extension.api.plumbing import documented, offset_of, page, parse, respond
from extension.auth import scope
from extension.auth.guard import current_principal, require
from extension.auth.permissions import ALERTS_READ
from extension.db import get_db
from extension.models import PerformanceAlert

bp = Blueprint("api_alerts", __name__, url_prefix="/api/v1")
FIELDS = ("key", "kind", "subject_type", "subject_id", "metric", "value", "message", "status", "raised_at")


@bp.get("/alerts")
@documented(summary="Performance alerts (thresholds and control-limit deviations)",
            query=schemas.AlertsQuery, response=schemas.AlertsPage)
@require(ALERTS_READ)
def alerts():
    """Newest first; a supervisor sees alerts about their agents and teams."""
    args = parse(schemas.AlertsQuery)
    principal, offset = current_principal(), offset_of(args)
    with get_db().session() as session:
        query = _scoped(session, principal, status=args["status"])
        found = session.scalars(query.limit(args["limit"] + 1).offset(offset)).all()
        rows, cursor = page(list(found), limit=args["limit"], offset=offset)
        items = [{name: getattr(alert, name) for name in FIELDS} for alert in rows]
    return respond({"items": items, "next_cursor": cursor})


def _scoped(session, principal, *, status: str):
    query = select(PerformanceAlert).where(PerformanceAlert.tenant_id == principal.tenant_id)
    if status != "all":
        query = query.where(PerformanceAlert.status == status)
    agents = scope.visible_agent_ids(session, principal)
    if agents is not None:
        teams = scope.visible_team_ids(session, principal) or frozenset()
        query = query.where(or_(
            and_(PerformanceAlert.subject_type == "agent", PerformanceAlert.subject_id.in_(sorted(agents))),
            and_(PerformanceAlert.subject_type == "team", PerformanceAlert.subject_id.in_(sorted(teams)))))
    return query.order_by(PerformanceAlert.raised_at.desc(), PerformanceAlert.key)
