"""GET /api/v1/agents/<id>/performance and /api/v1/teams/<id>/performance."""

from __future__ import annotations

from flask import Blueprint, current_app

from extension.analytics import performance
from extension.analytics.api import schemas
from extension.analytics.api.ranges import local_range
from extension.analytics.query import Slice
from extension.platform.api.plumbing import documented, offset_of, page, parse, respond
from extension.platform.auth import scope
from extension.platform.auth.guard import current_principal, require
from extension.platform.auth.permissions import ANALYTICS_READ
from extension.platform.db import get_db

bp = Blueprint("api_performance", __name__, url_prefix="/api/v1")


@bp.get("/agents/<agent_id>/performance")
@documented(summary="One agent: KPIs, AES, quartile labels, top/bottom inquiries, team comparison",
            query=schemas.AgentPerformanceQuery, response=schemas.AgentPerformance)
@require(ANALYTICS_READ)
def agent_performance(agent_id: str):
    """Quartile labels rank the agent against every agent of the tenant per inquiry and channel;
    impacts are volume-weighted AES differences from all other agents (lower AES is better)."""
    args = parse(schemas.AgentPerformanceQuery)
    principal = current_principal()
    with get_db().session() as session:
        agent = scope.agent_or_404(session, principal, agent_id)
        start, end = local_range(session, principal, args)
        where = Slice(tenant_id=principal.tenant_id, start=start, end=end)
        peers = current_app.extensions["coachwire.peers"].get(session, tenant_id=principal.tenant_id,
                                                              start=start, end=end)
        body = performance.agent_performance(session, where, agent=agent, peers=peers)
    return respond({**body, "from": body.pop("from"), "to": body.pop("to")})


@bp.get("/teams/<team_id>/performance")
@documented(summary="One team: each member's KPI series and the team's, by period",
            query=schemas.TeamPerformanceQuery, response=schemas.TeamPerformance)
@require(ANALYTICS_READ)
def team_performance(team_id: str):
    """Members are the team's current people (paged with limit/cursor); the team series covers
    them all. Members without interactions appear with an empty series."""
    args = parse(schemas.TeamPerformanceQuery)
    principal, offset = current_principal(), offset_of(args)
    with get_db().session() as session:
        members = scope.team_members_or_404(session, principal, team_id)
        start, end = local_range(session, principal, args)
        shown, cursor = page(members[offset:offset + args["limit"] + 1], limit=args["limit"], offset=offset)
        where = Slice(tenant_id=principal.tenant_id, start=start, end=end)
        body = performance.team_performance(session, where, team_id=team_id, members=shown,
                                            all_ids=[m.id for m in members], period=args["period"],
                                            metrics=args["metrics"])
    return respond({**body, "next_cursor": cursor})
