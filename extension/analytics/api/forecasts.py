"""GET /api/v1/forecasts?subject=agent:<id>|team:<id>&metric=aes: the next 4 weeks."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint

from extension.analytics.api import schemas
from extension.analytics.forecast import forecast_for
from extension.analytics.query import Slice
from extension.platform.api.plumbing import documented, parse, respond
from extension.platform.auth import scope
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import FORECASTS_READ
from extension.platform.db import get_db
from extension.platform.tenants import tenant_timezone

bp = Blueprint("api_forecasts", __name__, url_prefix="/api/v1")


@bp.get("/forecasts")
@documented(summary="4-week forecast with prediction intervals for an agent or team",
            query=schemas.ForecastsQuery, response=schemas.ForecastResult)
@require(FORECASTS_READ)
def forecasts():
    """Damped-trend smoothing over complete weekly rollups (naive last value with few weeks)."""
    args = parse(schemas.ForecastsQuery)
    principal = current_principal()
    kind, _, subject_id = args["subject"].partition(":")
    with get_db().session() as session:
        if kind == "agent":
            agent_ids = [scope.agent_or_404(session, principal, subject_id).id]
        else:
            agent_ids = [p.id for p in scope.team_members_or_404(session, principal, subject_id)]
        end = args.get("end") or datetime.now(ZoneInfo(tenant_timezone(session, principal.tenant_id))).date()
        start = end - timedelta(days=end.weekday()) - timedelta(weeks=args["weeks"])
        where = Slice(tenant_id=principal.tenant_id, start=start, end=end, agent_ids=agent_ids)
        body = forecast_for(session, where, metric=args["metric"], level=args["level"])
    return respond({"subject": args["subject"], **body})
